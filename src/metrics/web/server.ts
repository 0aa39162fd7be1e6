// The web UI's HTTP server (node:http): the page, its scripts, the JSON API and the live event stream, for one run or for each query a PySpark script starts.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { projectRoot } from '../../engine/pool.js';
import { KindlingError } from '../../errors.js';
import type { ExplainAnswer, ExplainQuestion, WhatIfAnswer, WhatIfQuestion } from '../../replay/service.js';
import { rowToJson } from '../../plan/output.js';
import type { ProgressHistory } from '../history.js';
import type { ResultsSink } from '../results-sink.js';
import type { RunDescription } from '../run-info.js';
import { endedStream, SseHub } from './sse.js';

/** What the server shows; it only reads these. */
export interface UiData {
  readonly history: ProgressHistory;
  readonly run: RunDescription;
  readonly results: ResultsSink | null;
  /** Answers the Results tab's "why?" and "why not?" by replaying the run (src/replay); absent: the page says it cannot. */
  readonly explain?: (question: ExplainQuestion) => Promise<ExplainAnswer>;
  /** The Results tab's what-if plot: the run's input under other watermarks (src/replay). */
  readonly whatIf?: (question: WhatIfQuestion) => Promise<WhatIfAnswer>;
}

/** Where to listen. `explicitPort`: the user chose the port, so a busy one is an error, not a retry. */
export interface UiListen {
  readonly host: string;
  readonly port: number;
  readonly explicitPort: boolean;
}

/** One query the UI shows: its data and the pages following it live. */
interface View {
  readonly data: UiData;
  readonly sse: SseHub;
  ended: boolean;
}

/** A query as GET /api/queries lists it, in start order (the page's query picker). */
export interface UiQuerySummary {
  readonly id: string;
  readonly runId: string;
  readonly name: string;
  readonly startedAt: string;
  readonly active: boolean;
}

/** A query added to the UI with `addQuery`: its live feed and its end. */
export interface UiQueryFeed {
  /** Sends one serialised progress record to the pages showing this query. */
  publish(json: string): void;
  /** Open live connections to this query's pages. */
  readonly liveClients: number;
  /** The query stopped: its pages say so; its data stays to be looked at. */
  end(): void;
}

/** Like Spark's spark.port.maxRetries: from the default port, try this many next ones. */
export const PORT_RETRIES = 16;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page's files: static HTML/CSS from the source tree, browser modules compiled into dist/. */
function assetDirs(): { staticDir: string; modulesDir: string } {
  const root = projectRoot();
  return { staticDir: join(root, 'src', 'metrics', 'web', 'static'), modulesDir: join(root, 'dist', 'src', 'metrics') };
}

/**
 * The UI server. Kindling's own run: `new UiServer(data)`, fed with `publish`. `kindling run`/`connect`: `new UiServer()`,
 * and `addQuery` for each query the script starts; the page shows the newest unless its address names one (?query=RUNID).
 * Stop it with `close`.
 */
export class UiServer {
  private readonly server: Server;
  /** Pages waiting for the first query. */
  private readonly lobby = new SseHub();
  private readonly views: View[] = [];
  private readonly dirs = assetDirs();
  private ended = false;
  /** The page's address once listening. */
  url: string | null = null;

  constructor(data?: UiData) {
    if (data) this.addQuery(data);
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(err as Error).message}`);
        else res.destroy();
      });
    });
  }

  /** Open live connections (browser tabs on the page) to the newest query. */
  get liveClients(): number {
    return this.views.at(-1)?.sse.size ?? 0;
  }

  /** Shows one more query (a script started it); pages that follow the newest switch to it. */
  addQuery(data: UiData): UiQueryFeed {
    const view: View = { data, sse: new SseHub(), ended: false };
    this.views.push(view);
    this.lobby.broadcast('query', JSON.stringify({ runId: data.run.runId }));
    return {
      publish: (json) => view.sse.broadcast('progress', json),
      get liveClients() {
        return view.sse.size;
      },
      end: () => {
        view.ended = true;
        view.sse.broadcast('end', '{}');
        view.sse.closeAll();
      },
    };
  }

  /** The queries shown, in start order. */
  queries(): UiQuerySummary[] {
    return this.views.map((v) => ({ id: v.data.run.id, runId: v.data.run.runId, name: v.data.run.query.name, startedAt: v.data.run.startedAt, active: !v.ended && !this.ended }));
  }

  /**
   * Listens on host:port. A busy default port moves on to the next ones, as Spark's UI does
   * (4040, 4041, ...); a busy port the user chose is a user error.
   */
  async listen(where: UiListen): Promise<string> {
    const tries = where.explicitPort || where.port === 0 ? 1 : PORT_RETRIES + 1;
    let lastError: NodeJS.ErrnoException | null = null;
    for (let i = 0; i < tries; i++) {
      const port = where.port + i;
      try {
        await new Promise<void>((resolve, reject) => {
          const onError = (err: Error): void => reject(err);
          this.server.once('error', onError);
          this.server.listen(port, where.host, () => {
            this.server.off('error', onError);
            resolve();
          });
        });
        const address = this.server.address() as AddressInfo;
        const shown = where.host === '0.0.0.0' || where.host === '::' ? '127.0.0.1' : where.host.includes(':') ? `[${where.host}]` : where.host;
        this.url = `http://${shown}:${address.port}/`;
        return this.url;
      } catch (err) {
        lastError = err as NodeJS.ErrnoException;
        if (lastError.code !== 'EADDRINUSE') break;
      }
    }
    const range = tries > 1 ? `ports ${where.port}-${where.port + tries - 1} are` : `port ${where.port} is`;
    const why = lastError?.code === 'EADDRINUSE' ? `${range} in use` : (lastError?.message ?? 'unknown error');
    if (where.explicitPort) {
      const fix = lastError?.code === 'EADDRINUSE' ? '; choose another port, 0 for any free one, or --no-ui' : '';
      throw new KindlingError('UI_LISTEN', `--ui-port ${where.port}: web UI on ${where.host}: ${why}${fix}`, { domain: 'user', cause: lastError });
    }
    throw new KindlingError('UI_LISTEN', `web UI on ${where.host}: ${why}`, { domain: 'external', cause: lastError });
  }

  /** Sends one serialised progress record to every page showing the newest query. */
  publish(json: string): void {
    this.views.at(-1)?.sse.broadcast('progress', json);
  }

  /** Tells open pages the run is over, then closes every connection and the listener. */
  async close(): Promise<void> {
    this.ended = true;
    for (const v of this.views) {
      if (!v.ended) v.sse.broadcast('end', '{}');
      v.sse.closeAll();
    }
    this.lobby.closeAll();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.send(res, 405, 'text/plain; charset=utf-8', 'only GET');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/' || path === '/index.html') return this.file(res, join(this.dirs.staticDir, 'index.html'));
    if (path === '/style.css') return this.file(res, join(this.dirs.staticDir, 'style.css'));
    if (path.startsWith('/m/')) {
      // Browser modules compiled by tsc; only .js files inside dist/src/metrics are served.
      let name: string;
      try {
        name = decodeURIComponent(path.slice(3));
      } catch {
        return this.send(res, 400, 'text/plain; charset=utf-8', 'bad path');
      }
      const file = normalize(join(this.dirs.modulesDir, name));
      if (!file.startsWith(this.dirs.modulesDir + sep) || extname(file) !== '.js') return this.send(res, 404, 'text/plain; charset=utf-8', 'not found');
      return this.file(res, file);
    }
    if (path === '/api/queries') return this.json(res, this.queries());
    if (!path.startsWith('/api/')) return this.send(res, 404, 'text/plain; charset=utf-8', 'not found');
    // The query asked for (?query=RUNID), else the newest; none yet: the page waits for the script's writeStream.start().
    const wanted = url.searchParams.get('query');
    const view = wanted ? this.views.find((v) => v.data.run.runId === wanted) : this.views.at(-1);
    if (path === '/api/events' && !view && !wanted) {
      if (this.ended) return this.send(res, 503, 'text/plain; charset=utf-8', 'the run is over');
      return this.lobby.add(req, res, JSON.stringify({ batches: 0, waiting: true }));
    }
    if (!view) return this.send(res, 404, 'application/json; charset=utf-8', JSON.stringify({ error: wanted ? `no query with runId ${wanted}` : 'no query has started yet' }));
    return this.api(path, url, view, req, res);
  }

  private async api(path: string, url: URL, view: View, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const data = view.data;
    if (path === '/api/progress') {
      const limit = Number(url.searchParams.get('limit') ?? data.history.capacity);
      const records = data.history.recent(Number.isInteger(limit) && limit > 0 ? limit : data.history.capacity);
      return this.json(res, records);
    }
    if (path === '/api/config') return this.json(res, data.run);
    if (path === '/api/results') {
      const batches = (data.results?.latest() ?? []).map((b) => ({ batchId: b.batchId, drained: b.drained, totalRows: b.totalRows, rows: b.rows.map((r) => JSON.parse(rowToJson(r, b.columns)) as unknown) }));
      return this.json(res, { enabled: data.results !== null, batches });
    }
    if (path === '/api/explain') return this.json(res, await this.explain(data, url.searchParams));
    if (path === '/api/what-if') {
      if (!data.whatIf) return this.json(res, { ok: false, error: 'what-if is not available for this run' });
      const window = url.searchParams.get('window');
      return this.json(res, await data.whatIf({ watermark: url.searchParams.get('watermark') ?? '0s,10s,30s,60s', ...(window ? { window } : {}) }));
    }
    if (path === '/api/events') {
      if (this.ended) return this.send(res, 503, 'text/plain; charset=utf-8', 'the run is over');
      // A query that stopped while the server runs on: the page hears at once that it ended (no reconnecting).
      if (view.ended) return endedStream(res);
      return view.sse.add(req, res, JSON.stringify({ batches: data.history.size }));
    }
    return this.send(res, 404, 'text/plain; charset=utf-8', 'not found');
  }

  /** GET /api/explain?key=K[&window=ISO] or ?row=JSON: the replay's answer for a key, or for an output row. */
  private async explain(data: UiData, params: URLSearchParams): Promise<ExplainAnswer> {
    if (!data.explain) return { ok: false, error: 'explaining is not available for this run' };
    const rowText = params.get('row');
    let row: Record<string, unknown> | undefined;
    if (rowText !== null) {
      try {
        row = JSON.parse(rowText) as Record<string, unknown>;
      } catch {
        return { ok: false, error: 'row must be a result row as JSON' };
      }
    }
    const key = params.get('key');
    const window = params.get('window');
    return data.explain({ ...(key !== null && key !== '' ? { key } : {}), ...(window !== null && window !== '' ? { window } : {}), ...(row ? { row } : {}) });
  }

  private async file(res: ServerResponse, file: string): Promise<void> {
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return this.send(res, 404, 'text/plain; charset=utf-8', `not found (is the project built? run \`npm run build\`)`);
    }
    this.send(res, 200, TYPES[extname(file)] ?? 'application/octet-stream', body);
  }

  private json(res: ServerResponse, value: unknown): void {
    this.send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value));
  }

  private send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-cache', 'Content-Length': Buffer.byteLength(body) });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }
}
