// README.md and docs/*.md stand alone: every relative link and every file they name exists inside the repository.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve('.');
const DOCS = ['README.md', 'bench/README.md', ...readdirSync('docs').filter((n) => n.endsWith('.md')).map((n) => `docs/${n}`)];
/** Folders made at run time (git-ignored): the docs may name them before they exist. */
const GENERATED = readFileSync('.gitignore', 'utf8').split('\n').filter((l) => l.endsWith('/') && !l.startsWith('#'));
/** Top-level folders a backticked path may start with; such a path is read from the repository root. */
const REPO_DIRS = ['src/', 'docs/', 'test/', 'bench/', 'workers/', '.ci/'];

/** What a document points at: markdown link targets, backticked repository paths, and every `*.md` name. */
export function referencesIn(text: string): Array<{ target: string; kind: 'link' | 'path' }> {
  const out: Array<{ target: string; kind: 'link' | 'path' }> = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1]!, kind: 'link' });
  for (const m of text.matchAll(/`([^`\s]+)`/g)) {
    const t = m[1]!;
    if (REPO_DIRS.some((d) => t.startsWith(d)) && !/[<>*{}|$]/.test(t)) out.push({ target: t, kind: 'path' });
  }
  // A bare file name such as DESIGN.md in prose or backticks (not inside a URL).
  for (const m of text.matchAll(/(?<![\w/.:-])((?:\.\.?\/)*[\w./-]*\w\.md)\b/g)) out.push({ target: m[1]!, kind: 'path' });
  return out.filter((r) => !/^[a-z][a-z0-9+.-]*:/i.test(r.target) && !r.target.startsWith('#'));
}

describe('documentation links', () => {
  it('finds links, backticked paths and .md names, and skips URLs and anchors', () => {
    const refs = referencesIn('see [a](docs/kafka.md#x), `src/main.ts`, `../shared/DESIGN.md`, TOOLCHAIN.md and [b](https://example.org/x.md) [c](#top)');
    expect(new Set(refs.map((r) => r.target))).toEqual(new Set(['docs/kafka.md#x', 'docs/kafka.md', 'src/main.ts', '../shared/DESIGN.md', 'TOOLCHAIN.md']));
  });

  for (const doc of DOCS) {
    it(`${doc}: every relative link resolves inside the repository`, () => {
      const text = readFileSync(doc, 'utf8');
      const broken: string[] = [];
      for (const { target, kind } of referencesIn(text)) {
        const path = target.replace(/#.*$/, '');
        if (path === '' || GENERATED.some((g) => path.startsWith(g))) continue;
        // Links resolve from the document's folder; named paths from there or from the repository root.
        const candidates = kind === 'link' ? [resolve(dirname(doc), path)] : [resolve(dirname(doc), path), resolve(ROOT, path)];
        const inside = candidates.filter((c) => !relative(ROOT, c).startsWith('..'));
        if (inside.length === 0) broken.push(`${target} (outside the repository)`);
        else if (!inside.some((c) => existsSync(c))) broken.push(`${target} (missing)`);
      }
      expect(broken).toEqual([]);
    });
  }

  it('checks the folders it reads from the repository root', () => {
    for (const d of REPO_DIRS.filter((x) => x !== '.ci/')) expect(existsSync(join(ROOT, d))).toBe(true);
  });
});
