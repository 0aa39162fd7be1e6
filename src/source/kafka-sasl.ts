// SASL authentication of a Kafka connection: PLAIN and SCRAM-SHA-256/512 (RFC 5802, RFC 7677) over SaslHandshake and SaslAuthenticate.
import { Buffer } from 'node:buffer';
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { KindlingError } from '../errors.js';
import { decodeSaslAuthenticate, decodeSaslHandshake, encodeSaslAuthenticate, encodeSaslHandshake, kafkaErrorName, KafkaErrorCode, type ApiName, type Reader } from './kafka-protocol.js';

/** Spark's kafka.sasl.mechanism values Kindling speaks (GSSAPI and OAUTHBEARER are not among them). */
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** Who logs in, and how. The password is never logged or put in a message. */
export interface SaslCredentials {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** What authentication needs of a fresh connection: one request at a time, in order. */
export interface SaslChannel {
  readonly address: string;
  send(api: ApiName, body: Buffer, timeoutMs: number): Promise<Reader>;
}

/** A refusal the user must fix (wrong password, a mechanism the listener does not enable): never retried. */
function authError(address: string, credentials: SaslCredentials, why: string): KindlingError {
  return new KindlingError('KAFKA_AUTH', `broker ${address}: SASL authentication of ${credentials.username} with ${credentials.mechanism} failed: ${why}`, { domain: 'user' });
}

/**
 * Logs the connection in: SaslHandshake names the mechanism, then the mechanism's messages go in
 * SaslAuthenticate requests. Only ApiVersions may come before; every other request after.
 * @throws KindlingError KAFKA_AUTH (not retriable) when the broker refuses the login or the mechanism.
 */
export async function authenticate(channel: SaslChannel, credentials: SaslCredentials, timeoutMs: number): Promise<void> {
  const { address } = channel;
  const handshake = decodeSaslHandshake(await channel.send('SaslHandshake', encodeSaslHandshake(credentials.mechanism), timeoutMs));
  if (handshake.errorCode !== KafkaErrorCode.NONE) {
    const enabled = handshake.mechanisms.length > 0 ? handshake.mechanisms.join(', ') : 'none: it is not a SASL listener';
    throw authError(address, credentials, `the listener refused mechanism ${credentials.mechanism} (${kafkaErrorName(handshake.errorCode)}; it enables ${enabled}); check --kafka-sasl-mechanism and --kafka-security-protocol`);
  }
  const exchange = async (message: Buffer): Promise<Buffer> => {
    const answer = decodeSaslAuthenticate(await channel.send('SaslAuthenticate', encodeSaslAuthenticate(message), timeoutMs));
    if (answer.errorCode !== KafkaErrorCode.NONE) {
      const hint = answer.errorCode === KafkaErrorCode.SASL_AUTHENTICATION_FAILED ? ' (check --kafka-sasl-username and the password)' : '';
      throw authError(address, credentials, `${answer.message ?? kafkaErrorName(answer.errorCode)}${hint}`);
    }
    return answer.authBytes;
  };
  if (credentials.mechanism === 'PLAIN') {
    await exchange(plainMessage(credentials.username, credentials.password));
    return;
  }
  const scram = new ScramClient(credentials.mechanism, credentials.username, credentials.password);
  const serverFirst = await exchange(Buffer.from(scram.clientFirst(), 'utf8'));
  const serverFinal = await exchange(Buffer.from(scram.clientFinal(serverFirst.toString('utf8')), 'utf8'));
  const refused = scram.checkServerFinal(serverFinal.toString('utf8'));
  if (refused !== null) throw authError(address, credentials, refused);
}

/** RFC 4616: authorization id (empty), user, password, NUL-separated. */
export function plainMessage(username: string, password: string): Buffer {
  return Buffer.from(`\u0000${username}\u0000${password}`, 'utf8');
}

/** RFC 5802's saslname: '=' and ',' escaped. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/**
 * The client side of one SCRAM exchange (no channel binding: `n,,`). Pure but for the nonce, which
 * a test may fix to replay RFC 7677's example.
 */
export class ScramClient {
  private readonly hash: 'sha256' | 'sha512';
  private readonly clientFirstBare: string;
  private expectedServerSignature: Buffer | null = null;

  constructor(
    mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
    username: string,
    private readonly password: string,
    private readonly nonce: string = randomBytes(24).toString('base64'),
  ) {
    this.hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
    this.clientFirstBare = `n=${saslName(username)},r=${nonce}`;
  }

  clientFirst(): string {
    return `n,,${this.clientFirstBare}`;
  }

  /** The proof for the server's challenge (`r=nonce,s=salt,i=iterations`). */
  clientFinal(serverFirst: string): string {
    const fields = scramFields(serverFirst);
    const serverNonce = fields.get('r');
    const salt = fields.get('s');
    const iterations = Number(fields.get('i'));
    if (fields.has('e')) throw new KindlingError('KAFKA_AUTH', `SCRAM: the broker refused the login: ${fields.get('e')}`, { domain: 'user' });
    if (!serverNonce?.startsWith(this.nonce) || salt === undefined || !Number.isSafeInteger(iterations) || iterations < 1) {
      throw new KindlingError('KAFKA_PROTOCOL', `SCRAM: malformed server challenge ${JSON.stringify(serverFirst)}`, { domain: 'external' });
    }
    const keyLength = this.hash === 'sha256' ? 32 : 64;
    const saltedPassword = pbkdf2Sync(Buffer.from(this.password, 'utf8'), Buffer.from(salt, 'base64'), iterations, keyLength, this.hash);
    const clientKey = this.hmac(saltedPassword, 'Client Key');
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${serverNonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = this.hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.expectedServerSignature = this.hmac(this.hmac(saltedPassword, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the server proved it knows the password too (`v=signature`); null when it did, else why not. */
  checkServerFinal(serverFinal: string): string | null {
    const fields = scramFields(serverFinal);
    if (fields.has('e')) return `the broker answered ${fields.get('e')}`;
    const v = fields.get('v');
    const expected = this.expectedServerSignature;
    const got = v === undefined ? null : Buffer.from(v, 'base64');
    if (!expected || !got || got.length !== expected.length || !timingSafeEqual(got, expected)) {
      return "the broker did not prove it holds this user's credentials (SCRAM server signature mismatch)";
    }
    return null;
  }

  private hmac(key: Buffer, text: string): Buffer {
    return createHmac(this.hash, key).update(text, 'utf8').digest();
  }
}

/** `a=1,b=2` into a map; a value may hold '=' (base64). */
function scramFields(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}
