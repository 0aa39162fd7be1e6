// Broker addresses (one parser, one formatter) and the retry backoff, as tables.
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/backoff.js';
import { UsageError } from '../../src/errors.js';
import { brokerAddressText, parseBrokerAddress, parseBrokerList, splitBrokerAddress } from '../../src/source/kafka-address.js';

describe('broker addresses', () => {
  it.each([
    { text: '127.0.0.1:9092', host: '127.0.0.1', port: 9092 },
    { text: 'localhost:1', host: 'localhost', port: 1 },
    { text: 'kafka-0.kafka.svc.cluster.local:65535', host: 'kafka-0.kafka.svc.cluster.local', port: 65535 },
    { text: ' broker:19092 ', host: 'broker', port: 19092 },
    { text: '[::1]:9092', host: '::1', port: 9092 },
    { text: '[2001:db8::7]:9093', host: '2001:db8::7', port: 9093 },
  ])('reads $text as $host port $port', ({ text, host, port }) => {
    expect(parseBrokerAddress(text)).toEqual({ host, port });
  });

  it.each([
    { text: 'localhost', why: 'no port' },
    { text: 'localhost:', why: 'empty port' },
    { text: ':9092', why: 'no host' },
    { text: 'h:0', why: 'port 0' },
    { text: 'h:65536', why: 'port above 65535' },
    { text: 'h:123456', why: 'six digits' },
    { text: 'h:90x', why: 'port not a number' },
    { text: '::1:9092', why: 'IPv6 without brackets is ambiguous' },
    { text: '[::1:9092', why: 'unclosed bracket' },
    { text: '[localhost]:9092', why: 'brackets hold an IPv6 address only' },
    { text: '[]:9092', why: 'empty brackets' },
    { text: 'my host:9092', why: 'space in the host' },
    { text: 'PLAINTEXT://h:9092', why: 'a listener URL, not an address' },
  ])('refuses $text ($why)', ({ text }) => {
    expect(splitBrokerAddress(text)).toBeNull();
    expect(() => parseBrokerAddress(text)).toThrow(UsageError);
  });

  it('names the rule and the value in its message', () => {
    expect(() => parseBrokerAddress('localhost')).toThrow("--brokers must be HOST:PORT[,HOST:PORT...] with a port from 1 to 65535 (an IPv6 host in brackets: [::1]:9092); got 'localhost'");
  });

  it('reads a comma-separated list, naming the bad entry and the whole value', () => {
    expect(parseBrokerList(' a:1, [::1]:2 ,', 'kindling produce')).toEqual(['a:1', '[::1]:2']);
    expect(() => parseBrokerList('a:1,b', 'x')).toThrow("got 'b' in 'a:1,b'");
    expect(() => parseBrokerList(undefined, 'kindling produce')).toThrow('kindling produce needs --brokers HOST:PORT[,HOST:PORT...] (or KAFKA_BROKERS in the environment)');
    expect(() => parseBrokerList('  ', '--source kafka')).toThrow('--source kafka needs --brokers');
  });

  it.each([
    { host: '127.0.0.1', port: 9092, text: '127.0.0.1:9092' },
    { host: 'broker-1', port: 19092, text: 'broker-1:19092' },
    { host: '::1', port: 9092, text: '[::1]:9092' },
    { host: 'fe80::1', port: 1, text: '[fe80::1]:1' },
  ])('formats $host port $port as $text, which parses back', ({ host, port, text }) => {
    expect(brokerAddressText(host, port)).toBe(text);
    expect(parseBrokerAddress(text)).toEqual({ host, port });
  });
});

describe('backoffDelayMs', () => {
  const policy = { initialMs: 250, maxMs: 5000, jitter: 0 };

  it.each([
    { failures: 1, delayMs: 250 },
    { failures: 2, delayMs: 500 },
    { failures: 3, delayMs: 1000 },
    { failures: 5, delayMs: 4000 },
    { failures: 6, delayMs: 5000 },
    { failures: 1000, delayMs: 5000 },
  ])('waits $delayMs ms after $failures failure(s) in a row', ({ failures, delayMs }) => {
    expect(backoffDelayMs(failures, policy)).toBe(delayMs);
  });

  it.each([
    { random: 0, delayMs: 400 },
    { random: 0.5, delayMs: 500 },
    { random: 1, delayMs: 600 },
  ])('spreads a delay over ±jitter: random $random gives $delayMs ms', ({ random, delayMs }) => {
    expect(backoffDelayMs(2, { ...policy, jitter: 0.2 }, () => random)).toBeCloseTo(delayMs, 9);
  });
});
