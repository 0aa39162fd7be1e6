// `npm run bench`: runs the benchmark sections in one go and writes bench/results/latest/<section>.json and .md.
import { cpus, totalmem } from 'node:os';
import { engineBench, engineTable } from './engine.js';
import { kafkaBench, kafkaTable } from './kafka.js';
import { saveResults } from './results.js';
import { startupBench, startupTable } from './startup.js';

const log = (s: string): void => {
  process.stderr.write(s + '\n');
};

/** The machine, for the record next to the figures. */
function machine(): string {
  const c = cpus();
  return `${c.length} logical CPU(s), ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

async function save(section: string, data: unknown, markdown: string): Promise<void> {
  const header = `# ${section} benchmark\n\n${new Date().toISOString()} on ${machine()}\n\n`;
  process.stdout.write(`\n${header}${markdown}\n`);
  await saveResults(section, { machine: machine(), at: new Date().toISOString(), data }, header + markdown, log);
}

/** Sections by name; `npm run bench -- engine` runs one. */
const SECTIONS: Record<string, () => Promise<void>> = {
  async engine() {
    const events = Number(process.env['KINDLING_BENCH_EVENTS'] ?? 3_000_000);
    const report = await engineBench({ events, log });
    await save('engine', report, engineTable(report));
  },
  /** Process start to the first batch on the file source, beside a bare node start (bench/startup.ts). */
  async startup() {
    const result = await startupBench({ log });
    await save('startup', result, startupTable(result));
  },
  /** Kafka end to end (bench/kafka.ts): starts a broker unless KAFKA_BROKERS is set. */
  async kafka() {
    const events = Number(process.env['KINDLING_BENCH_KAFKA_EVENTS'] ?? 3_000_000);
    const liveSeconds = Number(process.env['KINDLING_BENCH_KAFKA_LIVE_S'] ?? 15);
    const result = await kafkaBench({ events, liveSeconds, log });
    await save('kafka', result, kafkaTable(result));
  },
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in SECTIONS));
  if (unknown.length > 0) {
    log(`unknown bench section(s): ${unknown.join(', ')}; sections: ${Object.keys(SECTIONS).join(', ')}`);
    process.exit(2);
  }
  for (const name of wanted.length > 0 ? wanted : Object.keys(SECTIONS)) {
    log(`== bench: ${name}`);
    await SECTIONS[name]!();
  }
}

main().catch((err: unknown) => {
  log(`bench failed: ${(err as Error).message}`);
  process.exit(1);
});
