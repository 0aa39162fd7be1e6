// trigger(once=True): the wrapped source's first batch, then the end — Spark's single-batch trigger.
import { isResumable, type PollResult, type ResumableSource, type Source } from './source.js';

/**
 * Ends its source after one batch. Spark's Trigger.Once reads everything available in that batch
 * (MicroBatchExecution drops the sources' read limits), so the wrapped source must be opened without
 * maxFilesPerTrigger/maxOffsetsPerTrigger. Checkpoint replays (pollUntil) pass through: they re-run
 * batches that were logged, not new ones.
 */
export function onceSource<O>(source: Source<O>): Source<O> {
  let done = false;
  const once: Source<O> = {
    name: source.name,
    describe: () => `${source.describe()}, one batch (trigger once)`,
    poll: async (): Promise<PollResult<O>> => {
      if (done) return { kind: 'end' };
      const polled = await source.poll();
      if (polled.kind === 'batch') done = true;
      return polled;
    },
    close: () => source.close(),
  };
  if (!isResumable(source)) return once;
  const resumable: ResumableSource<O> = {
    ...once,
    identity: () => source.identity(),
    parseOffsets: (json) => source.parseOffsets(json),
    seek: (offsets, metadata) => source.seek(offsets, metadata),
    pollUntil: (endOffsets) => source.pollUntil(endOffsets),
  };
  return resumable;
}
