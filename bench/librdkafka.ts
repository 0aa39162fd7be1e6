// The Kafka bench's librdkafka reader: finds or makes a Python with confluent-kafka (librdkafka bundled in its wheel), or says why the row is skipped.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/engine/pool.js';

/** The confluent-kafka release the bench installs (its wheels bundle librdkafka: nothing is compiled). */
export const CONFLUENT_KAFKA_VERSION = '2.16.1';

/** The reader script, run by that Python. */
export const LIBRDKAFKA_SCRIPT = join(projectRoot(), 'bench', 'librdkafka_consume.py');

/** The bench's own venv, in its ignored work folder; never a shared one. */
export const LIBRDKAFKA_VENV = join(projectRoot(), 'bench', '.data', 'venv-confluent-kafka');

const HOW_TO = `python3 -m venv ${LIBRDKAFKA_VENV} && ${join(LIBRDKAFKA_VENV, 'bin', 'pip')} install --only-binary :all: confluent-kafka==${CONFLUENT_KAFKA_VERSION}, or set KINDLING_BENCH_PYTHON to a Python that has confluent_kafka`;

/** True when `python` runs and imports confluent_kafka. */
function hasConfluentKafka(python: string): boolean {
  const r = spawnSync(python, ['-c', 'import confluent_kafka'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0;
}

/**
 * The Python to run the librdkafka reader with: `KINDLING_BENCH_PYTHON` when set, else the bench's
 * venv, made on first use (`python3 -m venv`, then pip installs the confluent-kafka wheel). When
 * none can be had (no python3, no venv module, no index reachable) the reason, with how to fix it.
 */
export function librdkafkaPython(log: (line: string) => void): { python: string } | { skipped: string } {
  const given = process.env['KINDLING_BENCH_PYTHON'];
  if (given) return hasConfluentKafka(given) ? { python: given } : { skipped: `KINDLING_BENCH_PYTHON=${given} cannot import confluent_kafka` };
  const python = join(LIBRDKAFKA_VENV, 'bin', 'python');
  if (existsSync(python) && hasConfluentKafka(python)) return { python };
  log(`kafka bench: making ${LIBRDKAFKA_VENV} with confluent-kafka ${CONFLUENT_KAFKA_VERSION} for the librdkafka reader (once)...`);
  const venv = spawnSync('python3', ['-m', 'venv', LIBRDKAFKA_VENV], { encoding: 'utf8', timeout: 120_000 });
  if (venv.status !== 0) return { skipped: `python3 -m venv failed (${venv.error?.message ?? venv.stderr.trim().split('\n').at(-1) ?? `exit ${venv.status}`}); to include it: ${HOW_TO}` };
  const pip = spawnSync(join(LIBRDKAFKA_VENV, 'bin', 'pip'), ['install', '-q', '--only-binary', ':all:', `confluent-kafka==${CONFLUENT_KAFKA_VERSION}`], { encoding: 'utf8', timeout: 600_000 });
  if (pip.status !== 0 || !hasConfluentKafka(python)) {
    return { skipped: `pip could not install confluent-kafka ${CONFLUENT_KAFKA_VERSION} (${pip.error?.message ?? pip.stderr.trim().split('\n').at(-1) ?? `exit ${pip.status}`}); to include it: ${HOW_TO}` };
  }
  return { python };
}
