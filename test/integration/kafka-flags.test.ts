// The Kafka flags of `kindling run` and `kindling produce`: which source they select, what they reject, what produce shares with the generator.
import { describe, expect, it } from 'vitest';
import { GENERATOR_FLAGS, parseRunArgs } from '../../src/config.js';
import { UsageError } from '../../src/errors.js';
import { parseProduceArgs, PRODUCE_FLAGS, type ProduceConfig } from '../../src/produce.js';

/** parseProduceArgs for argv that asks for a run, not for --help or --version. */
function produce(argv: string[], env: NodeJS.ProcessEnv): ProduceConfig {
  const parsed = parseProduceArgs(argv, env);
  if (typeof parsed === 'string') throw new Error(`expected a produce config; got the ${parsed} answer`);
  return parsed;
}
const run = async (argv: string[], env: NodeJS.ProcessEnv = {}) => (await parseRunArgs(['--cores', '2', ...argv], env)).config!;

describe('Kafka flags of kindling run', () => {
  it('selects the Kafka source when --brokers is given, with Spark\'s defaults', async () => {
    const c = await run(['--brokers', '127.0.0.1:9092']);
    expect(c.source).toEqual({
      kind: 'kafka',
      brokers: ['127.0.0.1:9092'],
      topic: 'logs',
      groupId: 'kindling-crash-alerts',
      startingOffsets: 'latest',
      maxOffsetsPerTrigger: null,
      availableNow: false,
      isolationLevel: 'read_uncommitted',
      failOnDataLoss: true,
    });
    expect(c.triggerMs).toBe(0);
  });

  it('--sink kafka:TOPIC and the older --sink kafka --sink-topic TOPIC give the same sink', async () => {
    const sink = { kind: 'kafka', topic: 'crash-alerts', brokers: ['h:1'] };
    expect((await run(['--brokers', 'h:1', '--sink', 'kafka:crash-alerts'])).sinks).toEqual([sink]);
    expect((await run(['--brokers', 'h:1', '--sink', 'kafka', '--sink-topic', 'crash-alerts'])).sinks).toEqual([sink]);
    expect((await run(['--brokers', 'h:1', '--sink', 'console', '--sink', 'kafka:a.b_c-1', '--sink-brokers', 'o:2'])).sinks).toEqual([{ kind: 'console' }, { kind: 'kafka', topic: 'a.b_c-1', brokers: ['o:2'] }]);
  });

  it.each([
    { argv: ['--sink', 'kafka:'], message: "--sink kafka:TOPIC needs a topic after 'kafka:'; got 'kafka:'" },
    { argv: ['--sink', 'kafka:..'], message: "--sink kafka:TOPIC: a Kafka topic name is 1 to 249 letters, digits, '.', '_' or '-' (not '.' or '..'); got '..'" },
    { argv: ['--sink', `kafka:${'t'.repeat(250)}`], message: '--sink kafka:TOPIC: a Kafka topic name is 1 to 249' },
    { argv: ['--sink', 'kafka', '--sink-topic', 'a b'], message: "--sink-topic: a Kafka topic name is 1 to 249 letters, digits, '.', '_' or '-' (not '.' or '..'); got 'a b'" },
    { argv: ['--sink', 'kafka:a', '--sink-topic', 'b'], message: "--sink kafka:a names its topic; --sink-topic 'b' is the older spelling of the same thing: give one" },
    { argv: ['--sink', 'kafka:a', '--sink', 'kafka:b'], message: "--sink kafka:TOPIC may be given once; got 'kafka:a' and 'kafka:b'" },
    { argv: ['--sink', 'kafka'], message: '--sink kafka needs a topic: --sink kafka:TOPIC (or the older --sink kafka --sink-topic TOPIC)' },
    { argv: ['--sink', 'kafkaa:x'], message: "--sink must be console, jsonl:DIR, kafka:TOPIC or none; got 'kafkaa:x'" },
  ])('--sink $argv is a usage error: $message', async ({ argv, message }) => {
    const err = await run(['--brokers', 'h:1', ...argv]).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(message);
  });

  it('--kafka-isolation-level takes Spark\'s two levels', async () => {
    expect((await run(['--brokers', 'h:1', '--kafka-isolation-level', 'read_committed'])).source).toMatchObject({ kind: 'kafka', isolationLevel: 'read_committed' });
  });

  it('does not select Kafka from KAFKA_BROKERS alone, but takes the address from it for --source kafka', async () => {
    const env = { KAFKA_BROKERS: 'k1:9092,k2:9093' };
    expect((await run([], env)).source.kind).toBe('generator');
    expect((await run(['--source', 'file', '--path', '.'], env)).source.kind).toBe('file');
    expect((await run(['--source', 'kafka', '--query', 'vulnerability-by-ip'], env)).source).toMatchObject({ kind: 'kafka', brokers: ['k1:9092', 'k2:9093'], groupId: 'kindling-vulnerability-by-ip' });
  });

  it.each([
    { argv: ['--source', 'kafka'], error: /--source kafka needs --brokers/ },
    { argv: ['--brokers', 'h:1', '--kafka-isolation-level', 'committed'], error: /--kafka-isolation-level.*read_uncommitted.*read_committed.*committed/ },
    { argv: ['--brokers', 'localhost'], error: /--brokers must be HOST:PORT.*got 'localhost'/ },
    { argv: ['--brokers', 'h:1,h:99999'], error: /got 'h:99999'/ },
    { argv: ['--brokers', 'h:1', '--rate', '5'], error: /--rate applies to --source generator/ },
    { argv: ['--brokers', 'h:1', '--max-events-per-batch', '5'], error: /--max-offsets-per-trigger/ },
    { argv: ['--topic', 'logs'], error: /--topic applies to --source kafka; this run uses --source generator/ },
    { argv: ['--brokers', 'h:1', '--starting-offsets', 'middle'], error: /--starting-offsets must be one of earliest, latest/ },
    { argv: ['--brokers', 'h:1', '--max-offsets-per-trigger', '0'], error: /--max-offsets-per-trigger must be an integer >= 1/ },
  ])('rejects $argv naming the rule', async ({ argv, error }) => {
    await expect(run(argv)).rejects.toThrow(UsageError);
    await expect(run(argv)).rejects.toThrow(error);
  });

  it('takes the Kafka options', async () => {
    const c = await run(['--brokers', '[::1]:9092', '--topic', 't', '--group', 'g', '--starting-offsets', 'earliest', '--max-offsets-per-trigger', '5000', '--available-now']);
    expect(c.source).toEqual({ kind: 'kafka', brokers: ['[::1]:9092'], topic: 't', groupId: 'g', startingOffsets: 'earliest', maxOffsetsPerTrigger: 5000, availableNow: true, isolationLevel: 'read_uncommitted', failOnDataLoss: true });
  });
});

describe('flags of kindling produce', () => {
  it('reuses every generator flag of kindling run', () => {
    for (const g of GENERATOR_FLAGS) {
      const p = PRODUCE_FLAGS.find((f) => f.name === g.name);
      expect(p, `--${g.name}`).toBeDefined();
      expect({ ...p, group: '', help: '' }).toEqual({ ...g, group: '', help: '' });
    }
  });

  it('takes the Kafka source\'s security flags with the same rules: the password from the environment, never shown', () => {
    const flags = ['--kafka-security-protocol', 'SASL_PLAINTEXT', '--kafka-sasl-mechanism', 'SCRAM-SHA-512', '--kafka-sasl-username', 'lab'];
    const env = { KAFKA_SASL_PASSWORD: 'pencil-secret' };
    const p = produce(['--brokers', 'h:1', ...flags], env);
    expect(p.security).toEqual({ protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'SCRAM-SHA-512', username: 'lab' } });
    expect(p.security?.sasl?.password).toBe('pencil-secret');
    expect(JSON.stringify(p)).not.toContain('pencil-secret');
    expect(() => produce(['--brokers', 'h:1', '--kafka-sasl-username', 'lab'], env)).toThrow('--kafka-sasl-username applies to --kafka-security-protocol SASL_PLAINTEXT or SASL_SSL; --kafka-security-protocol is PLAINTEXT');
    expect(() => produce(['--brokers', 'h:1', '--kafka-security-protocol', 'SASL_SSL', '--kafka-sasl-username', 'lab'], {})).toThrow('needs the password: set KAFKA_SASL_PASSWORD or give --kafka-sasl-password-file FILE');
  });

  it('builds the same stream settings as the generator source from the same flags', async () => {
    const flags = ['--seed', '9', '--start-time', '2024-11-25T10:40:00Z', '--users', '50', '--crash-one-in', '7', '--late-fraction', '0.1', '--late-spread-ms', '3000', '--rate', '2000'];
    const p = produce(['--brokers', 'h:1', ...flags, '--partitions', '3'], {});
    const r = await run(flags);
    expect(r.source.kind === 'generator' && r.source.spec).toEqual(p.spec);
    expect(p).toMatchObject({ brokers: ['h:1'], topic: 'logs', partitions: 3, rate: 2000, events: null });
  });

  it('needs brokers (flag or KAFKA_BROKERS)', () => {
    expect(() => produce([], {})).toThrow(/kindling produce needs --brokers/);
    expect(produce([], { KAFKA_BROKERS: 'h:2' }).brokers).toEqual(['h:2']);
  });
});
