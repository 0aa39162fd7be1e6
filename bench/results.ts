// Where bench runs write their figures: bench/results/latest/ (git-ignored); bench/results/*.md are the figures chosen and committed.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { projectRoot } from '../src/engine/pool.js';

/** The folder every bench run writes to; never tracked, so a run does not change the committed figures. */
export function latestResultsDir(): string {
  return join(projectRoot(), 'bench', 'results', 'latest');
}

/**
 * Writes `<section>.json` and `<section>.md` into bench/results/latest/ and says how to keep them:
 * the committed bench/results/<section>.md are figures someone chose (a quiet machine, the run the
 * README quotes) and copied there on purpose.
 */
export async function saveResults(section: string, json: unknown, markdown: string, log: (line: string) => void): Promise<void> {
  const dir = latestResultsDir();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${section}.json`), JSON.stringify(json, null, 2) + '\n');
  await writeFile(join(dir, `${section}.md`), markdown.endsWith('\n') ? markdown : markdown + '\n');
  const shown = relative(process.cwd(), dir) || '.';
  log(`saved ${shown}/${section}.md and .json (not tracked); to make them the committed figures: cp ${shown}/${section}.* bench/results/ && git add bench/results/${section}.*`);
}
