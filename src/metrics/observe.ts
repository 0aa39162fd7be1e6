// Wires a run's observers: system sampling, the terminal (live or plain), --progress-json and the web UI.
import { fstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { ProgressHistory } from './history.js';
import { ProgressJsonWriter } from './json-writer.js';
import type { ProgressRecord, SystemProgress } from './progress.js';
import type { ResultsSink } from './results-sink.js';
import type { RunDescription } from './run-info.js';
import { StickyFooter, type FooterTerminal } from './sticky-footer.js';
import { progressLine } from './summary.js';
import { SystemSampler } from './system-sampler.js';
import { renderTerminalView, ViewHistory, waitingForFirstRows } from './terminal-view.js';
import { UiServer, type UiData, type UiListen } from './web/server.js';

/** How progress shows in the terminal: redrawn in place, one plain line per batch, or not at all. */
export type TerminalMode = 'live' | 'plain' | 'none';

/** The coordinator as the observers see it. */
export interface ObservedEngine {
  onProgress(listener: (p: ProgressRecord) => void): void;
  systemProbe: (() => SystemProgress) | null;
}

/** A terminal stream: process.stderr or a stand-in. */
export interface TerminalStream extends FooterTerminal {
  readonly isTTY?: boolean;
  readonly columns?: number;
  hasColors?(): boolean;
}

/** What to observe a run with. */
export interface ObserveOptions {
  readonly terminal: TerminalMode;
  /** --progress-json: a path, '-' for stdout, or null. */
  readonly progressJson: string | null;
  /** The web UI, or null for --no-ui. */
  readonly ui: UiListen | null;
  readonly run: RunDescription;
  /** Kept output rows for the Results page (a sink added to the run), or null. */
  readonly results: ResultsSink | null;
  /** The Results tab's why/why-not answers (UiData.explain). */
  readonly explain?: UiData['explain'];
  /** The Results tab's what-if plot (UiData.whatIf). */
  readonly whatIf?: UiData['whatIf'];
  readonly log: (line: string) => void;
  readonly stderr?: TerminalStream;
  readonly stdout?: Writable & { readonly isTTY?: boolean };
  /** Injected in tests. */
  readonly sampler?: SystemSampler;
}

/** A run's observers; close them after the run. */
export interface Observability {
  /** The web UI's address, or null when it is off or could not start. */
  readonly uiUrl: string | null;
  readonly ui: UiServer | null;
  /** Stops the live view (its last state stays on screen), flushes --progress-json, closes the UI. */
  close(): Promise<void>;
}

/** True when file descriptor `fd` is a pipe or socket (whose reader may print to the same terminal). */
export function isPipe(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/**
 * Live view on a terminal that can redraw, plain lines elsewhere (pipes, CI, TERM=dumb), none with
 * --quiet. When stdout is a pipe (`kindling | tee out.txt`, `--progress-json - | jq`) its reader
 * may print on the same terminal at any moment, which no redraw can keep up with: plain lines then.
 */
export function chooseTerminalMode(quiet: boolean, stderr: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env, stdoutIsPipe = isPipe(1)): TerminalMode {
  if (quiet) return 'none';
  return stderr.isTTY === true && env['TERM'] !== 'dumb' && !stdoutIsPipe ? 'live' : 'plain';
}

/**
 * Starts the observers and subscribes them to the engine's progress records. Everything here
 * runs once per batch on the main thread (a JSON.stringify, a redraw), never once per event;
 * CPU load is sampled on a timer. A UI that cannot listen is reported and skipped, unless the
 * user chose its port, which then fails the run (exit 2) before any batch.
 */
export async function startObservability(engine: ObservedEngine, o: ObserveOptions): Promise<Observability> {
  const stderr = o.stderr ?? process.stderr;
  const stdout = o.stdout ?? process.stdout;
  const needsSystem = o.terminal === 'live' || o.progressJson !== null || o.ui !== null;
  const sampler = needsSystem ? (o.sampler ?? new SystemSampler({ onError: (err) => o.log(`kindling: CPU/memory sampling stopped: ${(err as Error).message}`) })).start() : null;
  if (sampler) engine.systemProbe = () => sampler.snapshot();

  let json: ProgressJsonWriter | null = null;
  let ui: UiServer | null = null;
  const history = new ProgressHistory();
  try {
    if (o.progressJson !== null) json = await ProgressJsonWriter.open(o.progressJson, stdout);
    if (o.ui) {
      const server = new UiServer({ history, run: o.run, results: o.results, ...(o.explain ? { explain: o.explain } : {}), ...(o.whatIf ? { whatIf: o.whatIf } : {}) });
      try {
        await server.listen(o.ui);
        ui = server;
      } catch (err) {
        if (o.ui.explicitPort) throw err;
        o.log(`kindling: ${(err as Error).message}; running without the web UI (choose a port with --ui-port, or --no-ui)`);
      }
    }
  } catch (err) {
    await sampler?.stop();
    await json?.close().catch(() => {});
    throw err;
  }

  let footer: StickyFooter | null = null;
  const view = new ViewHistory();
  const color = o.terminal === 'live' && (stderr.hasColors?.() ?? false);
  if (o.terminal === 'live') {
    const shared = stdout.isTTY ? [stdout] : [];
    footer = new StickyFooter(stderr, shared).start();
  }
  const uiUrl = ui?.url ?? null;

  engine.onProgress((p) => {
    if (ui) history.add(p);
    if (json || (ui && ui.liveClients > 0)) {
      const line = JSON.stringify(p);
      json?.write(line);
      ui?.publish(line);
    }
    if (o.terminal === 'none') return;
    view.add(p);
    if (footer) footer.update(renderTerminalView(p, view, { width: stderr.columns || 100, color, uiUrl, query: o.run.query }));
    else o.log(progressLine(p, waitingForFirstRows(o.run.query, view)));
  });

  let closed = false;
  return {
    uiUrl,
    ui,
    async close() {
      if (closed) return;
      closed = true;
      footer?.stop();
      const results = await Promise.allSettled([json?.close(), ui?.close(), sampler?.stop()]);
      engine.systemProbe = null;
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
