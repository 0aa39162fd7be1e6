// The web UI's HTTP server (node:http): the page, its scripts, the JSON API and the live event stream.
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
import { SseHub } from './sse.js';

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

/** The UI server of one run. Start it with `listen`, feed it with `publish`, stop it with `close`. */
export class UiServer {
  private readonly server: Server;
  private readonly sse = new SseHub();
  private readonly dirs = assetDirs();
  private ended = false;
  /** The page's address once listening. */
  url: string | null = null;

  constructor(private readonly data: UiData) {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(err as Error).message}`);
        else res.destroy();
      });
    });
  }

  /** Open live connections (browser tabs on the page). */
  get liveClients(): number {
    return this.sse.size;
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

  /** Sends one serialised progress record to every open page. */
  publish(json: string): void {
    this.sse.broadcast('progress', json);
  }

  /** Tells open pages the run is over, then closes every connection and the listener. */
  async close(): Promise<void> {
    this.ended = true;
    this.sse.broadcast('end', '{}');
    this.sse.closeAll();
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
    if (path === '/api/progress') {
      const limit = Number(url.searchParams.get('limit') ?? this.data.history.capacity);
      const records = this.data.history.recent(Number.isInteger(limit) && limit > 0 ? limit : this.data.history.capacity);
      return this.json(res, records);
    }
    if (path === '/api/config') return this.json(res, this.data.run);
    if (path === '/api/results') {
      const batches = (this.data.results?.latest() ?? []).map((b) => ({ batchId: b.batchId, drained: b.drained, totalRows: b.totalRows, rows: b.rows.map((r) => JSON.parse(rowToJson(r, b.columns)) as unknown) }));
      return this.json(res, { enabled: this.data.results !== null, batches });
    }
    if (path === '/api/explain') return this.json(res, await this.explain(url.searchParams));
    if (path === '/api/what-if') {
      if (!this.data.whatIf) return this.json(res, { ok: false, error: 'what-if is not available for this run' });
      const window = url.searchParams.get('window');
      return this.json(res, await this.data.whatIf({ watermark: url.searchParams.get('watermark') ?? '0s,10s,30s,60s', ...(window ? { window } : {}) }));
    }
    if (path === '/api/events') {
      if (this.ended) return this.send(res, 503, 'text/plain; charset=utf-8', 'the run is over');
      return this.sse.add(req, res, JSON.stringify({ batches: this.data.history.size }));
    }
    return this.send(res, 404, 'text/plain; charset=utf-8', 'not found');
  }

  /** GET /api/explain?key=K[&window=ISO] or ?row=JSON: the replay's answer for a key, or for an output row. */
  private async explain(params: URLSearchParams): Promise<ExplainAnswer> {
    if (!this.data.explain) return { ok: false, error: 'explaining is not available for this run' };
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
    return this.data.explain({ ...(key !== null && key !== '' ? { key } : {}), ...(window !== null && window !== '' ? { window } : {}), ...(row ? { row } : {}) });
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
