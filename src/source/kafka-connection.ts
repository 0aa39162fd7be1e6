// One connection to a Kafka broker (TCP, or TLS, then SASL when asked): request framing, correlation ids, timeouts; network failures are retriable KindlingErrors.
import { Buffer } from 'node:buffer';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { KindlingError } from '../errors.js';
import { parseBrokerAddress, type BrokerAddressText } from './kafka-address.js';
import { decodeApiVersions, encodeRequest, Reader, unsupportedApis, type ApiName, type ApiVersionRanges } from './kafka-protocol.js';
import { authenticate } from './kafka-sasl.js';
import { tlsFailure, tlsOptions, usesTls, type KafkaSecurity } from './kafka-security.js';

interface Pending {
  readonly correlationId: number;
  readonly api: ApiName;
  readonly resolve: (body: Reader) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Options of a connection. */
export interface ConnectionOptions {
  readonly clientId: string;
  readonly connectTimeoutMs: number;
  /** Aborting gives up connecting at once. */
  readonly signal?: AbortSignal;
  /** The largest response frame accepted (default {@link MAX_FRAME_BYTES}); a larger announced size fails the connection. */
  readonly maxFrameBytes?: number;
  /** TLS and SASL (Spark's kafka.security.protocol); absent: PLAINTEXT. */
  readonly security?: KafkaSecurity;
}

/**
 * The largest response frame: the biggest fetch Kindling asks for (1 GiB, when one record batch
 * is that large) plus room for the headers. A size beyond it, or a negative one, is not Kafka
 * talking (a TLS listener, another protocol) or a corrupt stream: without the bound a bad size
 * would make the connection wait forever for bytes that never come.
 */
export const MAX_FRAME_BYTES = (1 << 30) + (1 << 20);

/** What the Kafka source needs of a broker connection; tests inject connections that replay recorded bytes. */
export interface KafkaConnection {
  readonly address: BrokerAddressText;
  /** True once the connection failed or was closed. */
  readonly closed: boolean;
  /** The API versions the broker announced (absent: only Kindling's base versions are assumed). */
  readonly versions?: ApiVersionRanges;
  /** Sends a request (at Kindling's version of the API unless `version` says otherwise) and resolves with a reader over the response body. */
  send(api: ApiName, body: Buffer, timeoutMs: number, version?: number): Promise<Reader>;
  close(): void;
}

/** Opens a connection and checks the broker supports the `needed` requests. */
export type ConnectionFactory = (address: BrokerAddressText, needed: readonly ApiName[], o: ConnectionOptions) => Promise<KafkaConnection>;

/** The real factory: a TCP connection to the broker. */
export const openBrokerConnection: ConnectionFactory = (address, needed, o) => BrokerConnection.open(address, needed, o);

/**
 * A connection to one broker. Kafka answers requests on a connection in order, so pending requests
 * form a queue. A timeout, a malformed frame or a closed socket fails every pending request and the
 * connection; the owner opens a new one.
 */
export class BrokerConnection implements KafkaConnection {
  versions: ApiVersionRanges | undefined;
  private readonly pending: Pending[] = [];
  private nextCorrelationId = 1;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failure: KindlingError | null = null;
  /** Told once when the connection fails (used while connecting). */
  private onFailure: ((err: KindlingError) => void) | null = null;

  /** Responses delivered so far (the first is ApiVersions'). */
  private answered = 0;
  /** TLS: the handshake completed. */
  private tlsReady = false;

  private constructor(
    readonly address: BrokerAddressText,
    private readonly socket: Socket,
    private readonly clientId: string,
    private readonly maxFrameBytes: number,
    private readonly security: KafkaSecurity | undefined,
  ) {
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', (err) => this.fail(tlsFailure(address, err, security?.tls?.keystore !== undefined) ?? describeSocketError(address, err, this.protocolHint())));
    socket.on('close', () =>
      this.fail(new KindlingError('KAFKA_DISCONNECTED', `broker ${address} closed the connection${this.protocolHint()}`, { domain: 'external', retriable: true })),
    );
  }

  /**
   * Connects and checks, with ApiVersions, that the broker speaks the versions Kindling sends.
   * @throws KindlingError retriable for network failures; not retriable for an unsupported broker.
   */
  static async open(address: BrokerAddressText, needed: readonly ApiName[], o: ConnectionOptions): Promise<BrokerConnection> {
    const { host, port } = parseBrokerAddress(address);
    const tls = usesTls(o.security);
    const socket = tls ? connectTls(tlsOptions(o.security!, host, port)) : connect({ host, port, noDelay: true });
    if (tls) socket.setNoDelay(true);
    const conn = new BrokerConnection(address, socket, o.clientId, o.maxFrameBytes ?? MAX_FRAME_BYTES, o.security);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.fail(new KindlingError('KAFKA_CONNECT_TIMEOUT', `broker ${address} did not accept a connection within ${o.connectTimeoutMs} ms`, { domain: 'external', retriable: true }));
      }, o.connectTimeoutMs);
      const onAbort = (): void => conn.close();
      conn.onFailure = (err) => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      if (o.signal?.aborted) conn.close();
      // Over TLS the connection is usable once the handshake verified the broker's certificate.
      conn.socket.once(tls ? 'secureConnect' : 'connect', () => {
        conn.tlsReady = tls;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        conn.onFailure = null;
        resolve();
      });
    });
    try {
      const versions = decodeApiVersions(await conn.send('ApiVersions', Buffer.alloc(0), o.connectTimeoutMs));
      conn.versions = versions;
      const sasl = o.security?.sasl;
      const missing = unsupportedApis(versions, sasl ? [...needed, 'SaslHandshake', 'SaslAuthenticate'] : needed);
      if (missing.length > 0) {
        throw new KindlingError('KAFKA_UNSUPPORTED', `broker ${address} does not support what Kindling sends: ${missing.join(', ')}`, { domain: 'external' });
      }
      if (sasl) await authenticate(conn, sasl, o.connectTimeoutMs);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  /** True once the connection failed or was closed. */
  get closed(): boolean {
    return this.failure !== null;
  }

  /** Sends a request and resolves with a reader over the response body. */
  send(api: ApiName, body: Buffer, timeoutMs: number, version?: number): Promise<Reader> {
    if (this.failure) return Promise.reject(this.failure);
    const correlationId = this.nextCorrelationId++;
    return new Promise<Reader>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new KindlingError('KAFKA_TIMEOUT', `broker ${this.address} did not answer ${api} within ${timeoutMs} ms`, { domain: 'external', retriable: true }));
      }, timeoutMs);
      this.pending.push({ correlationId, api, resolve, reject, timer });
      this.socket.write(encodeRequest(api, correlationId, this.clientId, body, version));
    });
  }

  /** Closes the socket; pending requests fail. */
  close(): void {
    this.fail(new KindlingError('KAFKA_CLOSED', `connection to ${this.address} closed`, { domain: 'external', retriable: true }));
  }

  private fail(err: KindlingError): void {
    if (this.failure) return;
    this.failure = err;
    this.socket.destroy();
    this.onFailure?.(err);
    this.onFailure = null;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.chunks = [];
  }

  private onData(data: Buffer): void {
    this.chunks.push(data);
    this.buffered += data.length;
    while (this.buffered >= 4 && !this.failure) {
      const size = this.peekSize();
      if (size < 4 || size > this.maxFrameBytes) {
        // Every response starts with a 4-byte correlation id; anything else is not a Kafka response.
        this.fail(
          new KindlingError(
            'KAFKA_BAD_FRAME',
            `broker ${this.address} sent a response frame of ${size} bytes (a Kafka response has 4 to ${this.maxFrameBytes}): ` +
              'the address is not a plaintext Kafka listener (a TLS or SASL port, another service?) or the stream is corrupt',
            { domain: 'external' },
          ),
        );
        return;
      }
      if (this.buffered < 4 + size) return;
      this.take(4);
      this.deliver(this.take(size));
    }
  }

  private peekSize(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    return Buffer.concat(this.chunks, 4).readInt32BE(0);
  }

  /** Removes n bytes from the front: a view when they sit in one chunk, else one copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }

  /**
   * A broker that drops the connection before answering anything but ApiVersions is often a
   * listener of another security protocol (a TLS port closes at the first plaintext bytes, a SASL
   * port at the first request before a login): said in the message, which stays retriable (a
   * broker shutting down does the same).
   */
  private protocolHint(): string {
    if (this.answered > 1) return '';
    if (this.security === undefined || this.security.protocol === 'PLAINTEXT') {
      return ' before serving a request: if the listener uses TLS or SASL, give --kafka-security-protocol';
    }
    if (usesTls(this.security) && !this.tlsReady) return ' during the TLS handshake: is it a TLS listener? Check --kafka-security-protocol and the port';
    return '';
  }

  private deliver(frame: Buffer): void {
    const p = this.pending.shift();
    const correlationId = frame.length >= 4 ? frame.readInt32BE(0) : -1;
    if (!p || p.correlationId !== correlationId) {
      if (p) this.pending.unshift(p);
      this.fail(new KindlingError('KAFKA_PROTOCOL', `broker ${this.address} sent a response for request ${correlationId}, expected ${p?.correlationId ?? 'none'}`, { domain: 'external', retriable: true }));
      return;
    }
    clearTimeout(p.timer);
    this.answered++;
    p.resolve(new Reader(frame, 4));
  }
}

function describeSocketError(address: string, err: Error, hint: string): KindlingError {
  const code = (err as NodeJS.ErrnoException).code;
  const what =
    code === 'ECONNREFUSED'
      ? 'connection refused (is the broker running?)'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host name not found'
        : code === 'ECONNRESET' || code === 'EPIPE'
          ? 'connection reset'
          : err.message;
  // Refused or unknown: nothing was spoken, so the protocol is not the question.
  const spoken = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? '' : hint;
  return new KindlingError('KAFKA_UNREACHABLE', `broker ${address}: ${what}${code && !what.includes(code) ? ` (${code})` : ''}${spoken}`, { domain: 'external', retriable: true, cause: err });
}
