// The replay thread: measures one what-if setting over its pool's input, or answers a web UI question about a run, off the main thread.
import { workerData } from 'node:worker_threads';
import { explainService, whatIfService } from '../src/replay/service.js';
import type { ReplayTask, WhatIfInput } from '../src/replay/threads.js';
import { measureSetting } from '../src/replay/what-if.js';

/** A what-if pool's input (null on the web UI's question thread). */
const input = workerData as WhatIfInput | null;

export default async function run(task: ReplayTask): Promise<unknown> {
  switch (task.kind) {
    case 'setting':
      if (!input) throw new Error('a what-if setting reached a replay thread without input');
      return measureSetting(input.query, input.batches, task.setting, { drain: input.drain });
    case 'explain':
      return explainService(task.spec)(task.question);
    case 'what-if':
      return whatIfService(task.spec)(task.question);
  }
}
