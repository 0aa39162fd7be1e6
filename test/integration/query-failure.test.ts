// The user's query code throwing stops the run at once (exit 1) naming the query, batch, record and stack; it is no lost worker.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEventsNdjson } from '../../src/source/lab-events.js';
import { INPUT_SPEC, listDir, readOutput, removeDir, runArgs, runKindling, tempDir } from './checkpoint-harness.js';

const QUERY = resolve('test/fixtures/throwing-query.mjs');
/** The 1-based line of the record the fixture's filter throws on; 1000 events per batch puts it in batch 2. */
const BOOM_LINE = 2500;

let root: string;
let input: string;

beforeAll(() => {
  root = tempDir('query-failure');
  input = join(root, 'input');
  mkdirSync(input);
  const lines = labEventsNdjson(INPUT_SPEC, 0, 3000).trimEnd().split('\n');
  lines[BOOM_LINE - 1] = JSON.stringify({ ...(JSON.parse(lines[BOOM_LINE - 1]!) as object), user_id: 'boom' });
  writeFileSync(join(input, 'part-000.ndjson'), lines.join('\n') + '\n');
});

afterAll(() => removeDir(root));

describe('a query whose code throws', () => {
  it('stops at once with exit 1, naming the query, the batch, the record\'s line, the error and its stack; no rollback', async () => {
    const out = join(root, 'out');
    const ck = join(root, 'ck');
    const result = await runKindling(runArgs(input, out, ['--query', QUERY, '--cores', '2', '--partitions', '3', '--checkpoint-dir', ck]));
    expect(result.code, result.stderr).toBe(1);
    const batch = Math.floor((BOOM_LINE - 1) / 1000);
    expect(result.stderr).toContain(`kindling: batch ${batch}: query throwing-crashes (${pathToFileURL(QUERY).href}) failed on the record at ${join(input, 'part-000.ndjson')} line ${BOOM_LINE}: its filter function threw: Error: no boom users`);
    // The stack of the query module, not Kindling's frames below it.
    expect(result.stderr).toMatch(/no boom users \(at \d+\)\n\s+at Object\.refuse \[as filter\] \(file:\/\/.*throwing-query\.mjs:\d+:\d+\)\n*$/);
    expect(result.stderr).not.toContain('worker lost');
    expect(result.stderr).not.toContain('recovery');
    // The batches before it were emitted and committed; the failing one was not.
    for (const name of readOutput(out).keys()) expect(Number(/\d+/.exec(name)![0]), name).toBeLessThan(batch);
    expect(listDir(join(ck, 'commits')).sort()).toEqual(Array.from({ length: batch }, (_, i) => `${i}.json`));
  });

  it('a throw in having (stage 2, on a group) stops the run the same way, naming the query and the function', async () => {
    const out = join(root, 'out-having');
    const ck = join(root, 'ck-having');
    const query = resolve('test/fixtures/throwing-having-query.mjs');
    const result = await runKindling(runArgs(input, out, ['--query', query, '--cores', '2', '--checkpoint-dir', ck]));
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/kindling: batch \d+: query throwing-having \(/);
    expect(result.stderr).toContain(`(${pathToFileURL(query).href}) failed: its having function threw: RangeError: count`);
    expect(result.stderr).toMatch(/RangeError: count \d+ is too many\n\s+at having \(file:\/\/.*throwing-having-query\.mjs:\d+:\d+\)/);
    expect(result.stderr).not.toContain('worker lost');
  });
});
