// Kafka broker addresses: the one parser of `host:port` (the --brokers flag, KAFKA_BROKERS and broker metadata) and the one formatter.
import { isIPv6 } from 'node:net';
import { UsageError } from '../errors.js';

/** A broker's address as `host:port`, IPv6 hosts in brackets (`[::1]:9092`). */
export type BrokerAddressText = string;

/** What --brokers must look like, as error messages state it. */
const RULE = 'HOST:PORT[,HOST:PORT...] with a port from 1 to 65535 (an IPv6 host in brackets: [::1]:9092)';

/**
 * Splits `host:port` into its parts; `[v6]:port` for an IPv6 host, which is given back without
 * its brackets. A host with a colon outside brackets is refused: `::1:9092` could be read two ways.
 */
export function splitBrokerAddress(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port < 1 || port > 65_535 || (m[1] !== undefined && !isIPv6(host))) return null;
  return { host, port };
}

/** Splits `host:port`; a usage error naming the rule when it is not one. */
export function parseBrokerAddress(text: string): { host: string; port: number } {
  const parts = splitBrokerAddress(text);
  if (!parts) throw new UsageError(`--brokers must be ${RULE}; got '${text}'`);
  return parts;
}

/**
 * --brokers (or KAFKA_BROKERS) as a list of addresses; `why` names who needs it when it is absent.
 * A usage error names the bad entry and the whole value.
 */
export function parseBrokerList(raw: string | undefined, why: string): BrokerAddressText[] {
  if (raw === undefined || raw.trim() === '') throw new UsageError(`${why} needs --brokers HOST:PORT[,HOST:PORT...] (or KAFKA_BROKERS in the environment)`);
  const list = raw.split(',').map((b) => b.trim()).filter(Boolean);
  for (const b of list) if (!splitBrokerAddress(b)) throw new UsageError(`--brokers must be ${RULE}; got '${b}' in '${raw}'`);
  return list;
}

/** `host:port` for a host and port (from broker metadata), bracketing an IPv6 host so it parses back. */
export function brokerAddressText(host: string, port: number): BrokerAddressText {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
