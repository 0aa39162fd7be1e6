// `kindling export` as a function: usage errors name the flag and the rule; a bad plan module names the module and the problem.
import { describe, expect, it } from 'vitest';
import { exportCommand } from '../../src/connect/export-command.js';
import { KindlingError, UsageError } from '../../src/errors.js';

async function exported(argv: string[]): Promise<string> {
  let text = '';
  const code = await exportCommand(argv, (t) => (text += t), () => {});
  expect(code).toBe(0);
  return text;
}

describe('kindling export', () => {
  it('refuses what it cannot do, naming the flag and the rule', async () => {
    const refused = async (argv: string[]): Promise<string> => {
      const err = await exportCommand(argv, () => {}, () => {}).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    };
    expect(await refused([])).toBe('kindling export needs --pyspark (the one export format so far)');
    expect(await refused(['--pyspark', '--source', 'file'])).toBe('--source file needs --path DIR (the directory of NDJSON files the script reads)');
    expect(await refused(['--pyspark', '--path', '/data'])).toBe('--path applies to --source file; this export uses --source kafka');
    expect(await refused(['--pyspark', '--source', 'file', '--path', '/d', '--topic', 't'])).toBe('--topic applies to --source kafka; this export uses --source file');
    expect(await refused(['--pyspark', '--trigger', '500', '--available-now'])).toBe('--trigger and --available-now are two triggers; give one');
    expect(await refused(['--pyspark', '--source', 'generator'])).toBe("--source must be one of kafka, file; got 'generator'");
  });

  it('names a query module that is not a plan', async () => {
    const err = await exportCommand(['--pyspark', '--query', 'test/fixtures/bad-query/not-a-query.mjs'], () => {}, () => {}).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(KindlingError);
    expect((err as KindlingError).domain).toBe('user');
    expect((err as Error).message).toMatch(/^--query test\/fixtures\/bad-query\/not-a-query\.mjs: /);
  });

  it("writes the source flags into Spark's options", async () => {
    const kafka = await exported(['--pyspark', '--brokers', 'kafka:9092', '--topic', 'events', '--starting-offsets', 'earliest', '--max-offsets-per-trigger', '5000', '--kafka-isolation-level', 'read_committed', '--fail-on-data-loss', 'false', '--trigger', '2000', '--checkpoint-dir', '/ckpt']);
    for (const option of [
      '.option("kafka.bootstrap.servers", "kafka:9092")', '.option("subscribe", "events")', '.option("startingOffsets", "earliest")', '.option("maxOffsetsPerTrigger", 5000)',
      '.option("kafka.isolation.level", "read_committed")', '.option("failOnDataLoss", "false")', '.trigger(processingTime="2000 milliseconds")', '.option("checkpointLocation", "/ckpt")',
    ]) expect(kafka).toContain(option);
    const file = await exported(['--pyspark', '--query', 'vulnerability-by-ip', '--source', 'file', '--path', '/data/logs', '--max-files-per-batch', '2', '--available-now']);
    expect(file).toContain('raw = (spark.readStream.format("text")\n           .option("maxFilesPerTrigger", 2)\n           .load("/data/logs"))');
    expect(file).toContain('OUTPUT_MODE = "complete"');
    expect(file).toContain('.trigger(availableNow=True)');
  });
});
