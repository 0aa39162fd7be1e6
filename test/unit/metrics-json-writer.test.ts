// --progress-json: one line per record in a file or on stdout; an unwritable path is the user's error.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { KindlingError } from '../../src/errors.js';
import { ProgressJsonWriter } from '../../src/metrics/json-writer.js';

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('ProgressJsonWriter', () => {
  it('writes one JSON record per line to a file, truncating what was there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kindling-progress-'));
    temps.push(dir);
    const file = join(dir, 'progress.jsonl');
    for (const round of [1, 2]) {
      const w = await ProgressJsonWriter.open(file);
      w.write(JSON.stringify({ batchId: 0, round }));
      w.write(JSON.stringify({ batchId: 1, round }));
      await w.close();
    }
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines).toEqual(['{"batchId":0,"round":2}', '{"batchId":1,"round":2}', '']);
  });

  it("writes to stdout for '-' and leaves it open", async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const w = await ProgressJsonWriter.open('-', out);
    w.write('{"batchId":0}');
    await w.close();
    expect(text).toBe('{"batchId":0}\n');
    expect(out.writableEnded).toBe(false);
  });

  it('rejects a path it cannot open, naming the flag', async () => {
    const err = await ProgressJsonWriter.open('/nonexistent-dir/progress.jsonl').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KindlingError);
    expect((err as KindlingError).domain).toBe('user');
    expect((err as Error).message).toMatch(/^--progress-json \/nonexistent-dir\/progress.jsonl: cannot open for writing/);
  });
});
