// README's "Your own query" example, as written there: the module file and the two commands run with the real CLI.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadQueryPlan } from '../../src/engine/query-module.js';
import { explainQuery } from '../../src/plan/explain.js';
import { runNodeScript } from '../helpers/process.js';
import { expectedJsonl } from '../helpers/oracle-jsonl.js';

const README = readFileSync('README.md', 'utf8');
const section = README.slice(README.indexOf('## Your own query'), README.indexOf('## Checkpoints'));
const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]! }));
// Inside the project, as README says, so that 'kindling' resolves to it.
const dir = resolve('test-output/readme-query');
const out = join(dir, 'out');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README's own-query example", () => {
  it('runs as written: --explain prints the plan, the run writes what the oracle gives for the module', async () => {
    const module = blocks.find((b) => b.lang === 'js')!.text;
    const commands = blocks.find((b) => b.lang === 'sh')!.text.split('\n').filter((l) => l.startsWith('npx kindling '));
    expect(commands).toHaveLength(2);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'my-query.mjs'), module);
    // Each command as README gives it, with my-query.mjs and out in this test's directory.
    const argv = (command: string): string[] =>
      command.replace(/#.*$/, '').trim().split(/\s+/).slice(2).map((a) => (a === 'my-query.mjs' ? join(dir, a) : a === 'jsonl:out' ? `jsonl:${out}` : a));
    const plan = await loadQueryPlan(join(dir, 'my-query.mjs'));

    const explained = await runNodeScript(resolve('dist/src/main.js'), argv(commands[0]!), 60_000);
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toBe(explainQuery(plan) + '\n');

    const ran = await runNodeScript(resolve('dist/src/main.js'), [...argv(commands[1]!), '--quiet', '--no-ui'], 60_000);
    expect(ran.code, ran.stderr).toBe(0);
    // The file source reads lab-small's three files (16 MiB per batch by default): one batch.
    const records = ['part-000', 'part-001', 'part-002'].flatMap((f) => readFileSync(`test/fixtures/lab-small/${f}.ndjson`, 'utf8').replace(/\n$/, '').split('\n'));
    const expected = expectedJsonl(plan, [records]);
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    const got = Object.fromEntries(readdirSync(out).sort().map((name) => [name, readFileSync(join(out, name), 'utf8')]));
    expect(got).toEqual(expected);
  });
});
