// The web UI and --progress-json flags of `kindling run SCRIPT.py` and `kindling connect`, and the observers they start for the script's queries.
import { flagNamed, restyle, type FlagSpec, type FlagValues } from '../cli.js';
import { RUN_FLAGS, uiConfig } from '../config.js';
import { QueryObservers } from '../metrics/observe-queries.js';
import type { RunnerObservers } from './run-query.js';

const SEE = 'Seeing the queries';

/** The flags `kindling` has for its UI and progress records, for the queries a script starts. */
export const OBSERVE_FLAGS = [
  restyle(flagNamed(RUN_FLAGS, 'progress-json'), { group: SEE, help: "write each batch's progress record of every query the script starts (Spark's StreamingQueryProgress fields, the query's id and runId, plus tasks, workers, CPU and memory) as one JSON line to FILE, or to stdout with - (console tables then go to stderr)" }),
  restyle(flagNamed(RUN_FLAGS, 'ui-port'), { group: SEE }),
  restyle(flagNamed(RUN_FLAGS, 'ui-host'), { group: SEE }),
  restyle(flagNamed(RUN_FLAGS, 'no-ui'), { group: SEE }),
] as const satisfies readonly FlagSpec[];

/** Starts the UI and --progress-json for the script's queries, before the script runs (a busy --ui-port is exit 2 then). */
export async function startScriptObservers(values: FlagValues<typeof OBSERVE_FLAGS>, given: ReadonlySet<string>, log: (line: string) => void): Promise<RunnerObservers & { close(): Promise<void> }> {
  const ui = uiConfig(values, given);
  const progressJson = values['progress-json'] ?? null;
  const observers = await QueryObservers.start({ progressJson, ui, log });
  return {
    observers,
    // --progress-json - has stdout: the tables go to stderr, as kindling's own console sink does then.
    consoleOut: progressJson === '-' ? process.stderr : process.stdout,
    close: () => observers.close(),
  };
}
