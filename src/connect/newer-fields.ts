// Refuses protobuf fields a client newer than Spark Connect 4.0 sends in a message Kindling translates, since ignoring them could change results.
import type { Message } from '@bufbuild/protobuf';
import { analysisError } from './errors.js';

/**
 * Throws when `message` carries fields Kindling's 4.0 protocol does not define (a newer trigger, a newer
 * source option field): every field of a translated 4.0 message is declared, so an unknown one is newer.
 */
export function refuseNewerFields(message: Message | undefined, what: string): void {
  const unknown = message?.$unknown;
  // A refused kind's payload is all unknown fields by design; its refusal names it.
  if (!unknown || unknown.length === 0 || message.$typeName === 'spark.connect.NotHandled') return;
  const numbers = [...new Set(unknown.map((f) => f.no))].join(', ');
  throw analysisError('KINDLING_NEWER_PROTOCOL', `${what} carries field(s) ${numbers} that Spark Connect 4.0 does not define: the client is newer than the protocol Kindling follows; use pyspark-client 4.0.x or leave out the newer option.`);
}
