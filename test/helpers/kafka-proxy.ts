// Test helper: a TCP proxy in front of the real Kafka broker that can cut every connection for a while (a broker outage on demand).
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** Metadata (API key 3): its responses name the brokers, so the proxy rewrites their port to its own. */
const METADATA = 3;

/**
 * Splits a byte stream into Kafka frames (int32 size, then the payload); `onFrame` gets each whole
 * frame, size included, and returns what to pass on.
 */
function framer(onFrame: (frame: Buffer) => Buffer): (chunk: Buffer) => Buffer[] {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const out: Buffer[] = [];
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const end = 4 + pending.readInt32BE(0);
      out.push(onFrame(pending.subarray(0, end)));
      pending = pending.subarray(end);
    }
    return out;
  };
}

/**
 * Sets every broker's port in a Metadata response (versions 0-8, the non-flexible ones) to `port`,
 * in place: the frame's size does not change.
 */
function rewriteMetadataPorts(frame: Buffer, version: number, port: number): Buffer {
  let at = 4 + 4; // size, correlation id
  if (version >= 3) at += 4; // throttle_time_ms
  const brokers = frame.readInt32BE(at);
  at += 4;
  for (let i = 0; i < brokers; i++) {
    at += 4; // node_id
    at += 2 + frame.readInt16BE(at); // host
    frame.writeInt32BE(port, at);
    at += 4;
    if (version >= 1) {
      const rack = frame.readInt16BE(at);
      at += 2 + Math.max(0, rack);
    }
  }
  return frame;
}

/** A proxy on 127.0.0.1 that forwards to one broker and advertises itself in place of the broker. */
export class KafkaProxy {
  private readonly sockets = new Set<Socket>();
  private cutUntilMs = 0;
  /** Connections the proxy cut or refused so far. */
  cuts = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Starts a proxy to `broker` (`host:port`, one broker: every node id is answered with this proxy). */
  static async start(broker: string): Promise<KafkaProxy> {
    const [host, portText] = [broker.slice(0, broker.lastIndexOf(':')), broker.slice(broker.lastIndexOf(':') + 1)];
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new KafkaProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.accept(client, host, Number(portText)));
    return proxy;
  }

  /** `host:port` for clients. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Destroys every open connection now and refuses new ones for `durationMs`. */
  cut(durationMs: number): void {
    this.cutUntilMs = Date.now() + durationMs;
    for (const s of this.sockets) {
      s.destroy();
      this.cuts++;
    }
    this.sockets.clear();
  }

  private accept(client: Socket, host: string, port: number): void {
    if (Date.now() < this.cutUntilMs) {
      this.cuts++;
      client.destroy();
      return;
    }
    const upstream = createConnection({ host, port });
    // Correlation id -> Metadata version, for the requests whose responses are rewritten.
    const metadataVersions = new Map<number, number>();
    const requests = framer((frame) => {
      if (frame.readInt16BE(4) === METADATA) metadataVersions.set(frame.readInt32BE(8), frame.readInt16BE(6));
      return frame;
    });
    const responses = framer((frame) => {
      const correlationId = frame.readInt32BE(4);
      const version = metadataVersions.get(correlationId);
      if (version === undefined) return frame;
      metadataVersions.delete(correlationId);
      // Flexible versions (9+) are passed on as they are: that client then talks to the broker directly.
      return version <= 8 ? rewriteMetadataPorts(frame, version, this.port) : frame;
    });
    client.on('data', (chunk: Buffer) => {
      for (const f of requests(chunk)) upstream.write(f);
    });
    upstream.on('data', (chunk: Buffer) => {
      for (const f of responses(chunk)) client.write(f);
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => {
        b.destroy();
        this.sockets.delete(a);
      });
      this.sockets.add(a);
    }
  }

  async close(): Promise<void> {
    this.cut(0);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
