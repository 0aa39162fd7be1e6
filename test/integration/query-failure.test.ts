// A query that ANSI mode fails on a record stops the run at once (exit 1) naming the query, batch, record and Spark's error class; it is no lost worker.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEventsNdjson } from '../../src/source/lab-events.js';
import { INPUT_SPEC, listDir, readOutput, removeDir, runArgs, runKindling, tempDir } from './checkpoint-harness.js';

const QUERY = resolve('test/fixtures/ansi-failure-query.mjs');
/** The 1-based line of the record the fixture's cast fails on; 1000 events per batch puts it in batch 2. */
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

describe('a query ANSI mode fails on one record', () => {
  it('stops at once with exit 1, naming the query, the batch, the record\'s line and the error class; no rollback', async () => {
    const out = join(root, 'out');
    const ck = join(root, 'ck');
    const result = await runKindling(runArgs(input, out, ['--query', QUERY, '--cores', '2', '--partitions', '3', '--checkpoint-dir', ck]));
    expect(result.code, result.stderr).toBe(1);
    const batch = Math.floor((BOOM_LINE - 1) / 1000);
    expect(result.stderr).toContain(`kindling: batch ${batch}: query boom-weights failed on the record at ${join(input, 'part-000.ndjson')} line ${BOOM_LINE}: [CAST_INVALID_INPUT]`);
    expect(result.stderr).not.toContain('worker lost');
    expect(result.stderr).not.toContain('recovery');
    // The batches before it were emitted and committed; the failing one was not.
    for (const name of readOutput(out).keys()) expect(Number(/\d+/.exec(name)![0]), name).toBeLessThan(batch);
    expect(listDir(join(ck, 'commits')).sort()).toEqual(Array.from({ length: batch }, (_, i) => `${i}.json`));
  });
});
