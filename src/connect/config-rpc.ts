// The Config RPC (spark.conf.set/get/unset/getAll/isModifiable): one ConfigRequest operation against a session's config.
import type { ConfigRequest_Operation, KeyValue } from './gen/spark/connect/base_pb.js';
import { analysisError } from './errors.js';
import type { SessionConfig } from './session-config.js';

/** The pairs and warnings of a ConfigResponse. */
export interface ConfigResult {
  pairs: { key: string; value?: string }[];
  warnings: string[];
}

/** Runs one config operation; `note` receives each "accepted but has no effect" note once per key. */
export function runConfigOperation(config: SessionConfig, op: ConfigRequest_Operation | undefined, note: (line: string) => void): ConfigResult {
  const o = op?.opType;
  const warnings: string[] = [];
  switch (o?.case) {
    case 'set':
      for (const p of o.value.pairs) {
        const n = config.set(p.key, p.value ?? '');
        if (n) {
          note(n);
          warnings.push(n);
        }
      }
      return { pairs: [], warnings };
    case 'get':
      return { pairs: o.value.keys.map((key) => ({ key, value: config.get(key) })), warnings };
    case 'getWithDefault':
      return { pairs: o.value.pairs.map((p: KeyValue) => ({ key: p.key, ...withValue(config.getOption(p.key) ?? p.value) })), warnings };
    case 'getOption':
      return { pairs: o.value.keys.map((key) => ({ key, ...withValue(config.getOption(key)) })), warnings };
    case 'getAll':
      return { pairs: config.getAll(o.value.prefix ?? '').map(([key, value]) => ({ key, value })), warnings };
    case 'unset':
      for (const key of o.value.keys) config.unset(key);
      return { pairs: [], warnings };
    case 'isModifiable':
      return { pairs: o.value.keys.map((key) => ({ key, value: String(config.isModifiable(key)) })), warnings };
    default:
      throw analysisError('INVALID_PLAN', 'A ConfigRequest without an operation.');
  }
}

function withValue(value: string | undefined): { value?: string } {
  return value === undefined ? {} : { value };
}
