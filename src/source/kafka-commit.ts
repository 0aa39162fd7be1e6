// Advisory offset commits to the consumer group, so Kafka's own tools show the lag; Kindling never reads them back.
import { KindlingError } from '../errors.js';
import { brokerAddressText } from './kafka-address.js';
import type { KafkaCluster } from './kafka-cluster.js';
import { decodeFindCoordinator, decodeOffsetCommit, encodeFindCoordinator, encodeOffsetCommit, kafkaError, kafkaErrorName, KafkaErrorCode } from './kafka-protocol.js';

/** The offset of each topic partition a commit records. */
export type CommitOffsets = ReadonlyArray<{ partition: number; offset: number }>;

/**
 * Commits the offsets the engine has finished to the group, outside any group generation, as a
 * standalone consumer does, at most every `intervalMs` unless forced and only when they changed.
 * Failures are logged once per kind and otherwise ignored.
 */
export class AdvisoryCommitter {
  private coordinator: string | null = null;
  private committing: Promise<void> | null = null;
  private again: (() => CommitOffsets | null) | null = null;
  private lastCommitMs = 0;
  private lastCommitKey = '';
  private readonly errorsLogged = new Set<string>();
  private closed = false;

  constructor(
    private readonly cluster: KafkaCluster,
    private readonly o: { readonly groupId: string; readonly topic: string; readonly intervalMs: number; readonly requestTimeoutMs: number; readonly log: (line: string) => void },
  ) {}

  /** The commit in flight, if any. */
  get inFlight(): Promise<void> | null {
    return this.committing;
  }

  /** Stops logging failures (the source is closing). */
  close(): void {
    this.closed = true;
  }

  /** Commits `offsets()` (null: nothing to commit yet); a forced commit while one is in flight runs again after it. */
  commit(offsets: () => CommitOffsets | null, force: boolean): Promise<void> {
    if (this.committing) {
      if (force) this.again = offsets;
      return this.committing;
    }
    const now = offsets();
    if (this.closed || now === null) return Promise.resolve();
    if (!force && Date.now() - this.lastCommitMs < this.o.intervalMs) return Promise.resolve();
    const key = JSON.stringify(now);
    if (key === this.lastCommitKey) return Promise.resolve();
    this.lastCommitMs = Date.now();
    this.committing = this.send(now)
      .then(() => {
        this.lastCommitKey = key;
      })
      .catch((err: unknown) => {
        this.coordinator = null;
        const e = err as KindlingError;
        const kind = e.code ?? 'ERROR';
        if (!this.closed && !this.errorsLogged.has(kind) && e.code !== 'KAFKA_CLOSED') {
          this.errorsLogged.add(kind);
          this.o.log(`kafka: advisory offset commit to group ${this.o.groupId} failed: ${e.message} (Kindling keeps its own offsets; reading is unaffected)`);
        }
      })
      .finally(() => {
        this.committing = null;
        const again = this.again;
        this.again = null;
        if (again) void this.commit(again, true);
      });
    return this.committing;
  }

  private async send(offsets: CommitOffsets): Promise<void> {
    const { groupId, topic, requestTimeoutMs } = this.o;
    if (this.coordinator === null) {
      const { conn } = await this.cluster.anyConnection();
      const found = decodeFindCoordinator(await conn.send('FindCoordinator', encodeFindCoordinator(groupId), requestTimeoutMs));
      if (found.errorCode !== 0) throw kafkaError(found.errorCode, `finding the coordinator of group ${groupId}`);
      this.coordinator = brokerAddressText(found.coordinator.host, found.coordinator.port);
    }
    const conn = await this.cluster.connection(this.coordinator);
    for (const r of decodeOffsetCommit(await conn.send('OffsetCommit', encodeOffsetCommit(groupId, topic, offsets), requestTimeoutMs))) {
      if (r.errorCode !== 0) {
        const hint =
          r.errorCode === KafkaErrorCode.UNKNOWN_MEMBER_ID || r.errorCode === KafkaErrorCode.ILLEGAL_GENERATION || r.errorCode === KafkaErrorCode.REBALANCE_IN_PROGRESS
            ? ' (another consumer is an active member of this group; give Kindling its own --group)'
            : '';
        throw new KindlingError(`KAFKA_COMMIT`, `${topic}-${r.partition}: broker answered ${kafkaErrorName(r.errorCode)}${hint}`, { domain: 'external', retriable: true });
      }
    }
  }
}
