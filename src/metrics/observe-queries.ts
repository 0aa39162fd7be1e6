// Observers of the queries a PySpark script starts (kindling run, kindling connect): one web UI with a page per query, one --progress-json stream of every query's records, CPU and memory sampled once.
import type { Writable } from 'node:stream';
import { ProgressHistory } from './history.js';
import { ProgressJsonWriter } from './json-writer.js';
import type { ObservedEngine } from './observe.js';
import { ResultsSink } from './results-sink.js';
import type { RunDescription } from './run-info.js';
import { SystemSampler } from './system-sampler.js';
import { UiServer, type UiListen } from './web/server.js';

/** What to observe the script's queries with. */
export interface QueriesObserveOptions {
  /** --progress-json: a path, '-' for stdout, or null. */
  readonly progressJson: string | null;
  /** The web UI, or null for --no-ui. */
  readonly ui: UiListen | null;
  readonly log: (line: string) => void;
  readonly stdout?: Writable;
}

/** One query being watched: the sink that keeps its rows for the Results tab (null without a UI), and its end. */
export interface WatchedQuery {
  readonly results: ResultsSink | null;
  /** The query stopped: its page says so (and stays, with its batches). */
  end(): void;
}

/**
 * The observers of a process that runs queries as a script starts them, one after another or at once. The UI starts
 * before the script runs (a page opened early waits for the first query) and lives until the process ends, so each
 * query stays on view after it stopped; Kindling's own run has one query and uses startObservability instead.
 */
export class QueryObservers {
  private constructor(
    private readonly json: ProgressJsonWriter | null,
    readonly ui: UiServer | null,
    private readonly sampler: SystemSampler | null,
  ) {}

  /** Opens --progress-json and starts the UI; a busy --ui-port the user chose is an error, a busy default is reported and skipped. */
  static async start(o: QueriesObserveOptions): Promise<QueryObservers> {
    const json = o.progressJson !== null ? await ProgressJsonWriter.open(o.progressJson, o.stdout ?? process.stdout) : null;
    let ui: UiServer | null = null;
    if (o.ui) {
      const server = new UiServer();
      try {
        await server.listen(o.ui);
        ui = server;
      } catch (err) {
        if (o.ui.explicitPort) {
          await json?.close().catch(() => {});
          throw err;
        }
        o.log(`kindling: ${(err as Error).message}; running without the web UI (choose a port with --ui-port, or --no-ui)`);
      }
    }
    const sampler = json || ui ? new SystemSampler({ onError: (err) => o.log(`kindling: CPU/memory sampling stopped: ${(err as Error).message}`) }).start() : null;
    return new QueryObservers(json, ui, sampler);
  }

  /** The web UI's address, or null when it is off or could not start. */
  get uiUrl(): string | null {
    return this.ui?.url ?? null;
  }

  /** A results sink for a query about to start (the Results tab), or null without a UI. */
  resultsSink(): ResultsSink | null {
    return this.ui ? new ResultsSink() : null;
  }

  /** Watches a started query: its records go to the UI's page for it and to --progress-json, each batch once. */
  watch(engine: ObservedEngine, run: RunDescription, results: ResultsSink | null): WatchedQuery {
    const sampler = this.sampler;
    if (sampler) engine.systemProbe = () => sampler.snapshot();
    const history = new ProgressHistory();
    const feed = this.ui?.addQuery({ history, run, results }) ?? null;
    engine.onProgress((p) => {
      history.add(p);
      if (this.json || (feed && feed.liveClients > 0)) {
        const line = JSON.stringify(p);
        this.json?.write(line);
        feed?.publish(line);
      }
    });
    return { results, end: () => feed?.end() };
  }

  /** Flushes --progress-json, closes the UI, stops sampling. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([this.json?.close(), this.ui?.close(), this.sampler?.stop()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
