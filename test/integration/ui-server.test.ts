// The web UI's HTTP server on 127.0.0.1: JSON API, page assets, live events, and what happens on a busy port.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KindlingError } from '../../src/errors.js';
import { ProgressHistory } from '../../src/metrics/history.js';
import { ResultsSink } from '../../src/metrics/results-sink.js';
import { describeRun } from '../../src/metrics/run-info.js';
import { UiServer } from '../../src/metrics/web/server.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { record } from '../unit/metrics-fixture.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startUi(records = 3): Promise<{ ui: UiServer; base: string; history: ProgressHistory; results: ResultsSink }> {
  const history = new ProgressHistory(10);
  for (let i = 0; i < records; i++) history.add(record({ batchId: i, numInputRows: 1000 * (i + 1) }));
  const results = new ResultsSink();
  const startUs = Date.parse('2024-11-25T10:40:00Z') * 1000;
  const columns = [{ name: 'window', type: 'window' as const }, { name: 'user_id', type: 'string' as const }, { name: 'crash_count', type: 'long' as const }];
  await results.emit({ batchId: 2, drained: false, columns, rows: [[{ startUs, endUs: startUs + 10_000_000 }, 'user_1007', 3]] });
  const run = describeRun({ cores: 2, partitions: 2, sinks: [] }, crashAlertsPlan, 'generator (test)', { id: 'q', runId: 'r' });
  const ui = new UiServer({ history, run, results });
  const base = await ui.listen({ host: '127.0.0.1', port: 0, explicitPort: true });
  cleanups.push(() => ui.close());
  return { ui, base, history, results };
}

async function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

async function occupiedPort(): Promise<number> {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => blocker.close(() => resolve())));
  return (blocker.address() as AddressInfo).port;
}

/** Reads server-sent events from `url` until `until` says stop (or the stream ends). */
function readEvents(url: string, until: (events: Array<{ event: string; data: string }>) => boolean): Promise<Array<{ event: string; data: string }>> {
  return new Promise((resolve, reject) => {
    const events: Array<{ event: string; data: string }> = [];
    const req = request(url, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) events.push({ event, data });
          if (until(events)) {
            req.destroy();
            resolve(events);
          }
        }
      });
      res.on('end', () => resolve(events));
    });
    req.on('error', (err) => (events.length ? resolve(events) : reject(err)));
    req.end();
  });
}

describe('UiServer', () => {
  it('serves the recent progress records, oldest first, and a limit of the newest', async () => {
    const { base } = await startUi(4);
    const all = JSON.parse((await get(`${base}api/progress`)).body) as Array<{ batchId: number }>;
    expect(all.map((p) => p.batchId)).toEqual([0, 1, 2, 3]);
    const last = JSON.parse((await get(`${base}api/progress?limit=2`)).body) as Array<{ batchId: number; numInputRows: number }>;
    expect(last.map((p) => [p.batchId, p.numInputRows])).toEqual([
      [2, 3000],
      [3, 4000],
    ]);
  });

  it('serves the run description and the latest results in Spark JSON shape', async () => {
    const { base } = await startUi();
    const config = JSON.parse((await get(`${base}api/config`)).body) as { query: { name: string; window: unknown; watermarkDelayMs: number }; settings: Record<string, unknown> };
    expect(config.query).toMatchObject({ name: 'crash-alerts', window: { sizeMs: 10_000, slideMs: 10_000 }, watermarkDelayMs: 30_000 });
    expect(config.settings).toMatchObject({ cores: 2, partitions: 2, sinks: 'none', outputMode: 'append' });
    const results = JSON.parse((await get(`${base}api/results`)).body) as { batches: unknown[] };
    expect(results.batches).toEqual([
      { batchId: 2, drained: false, totalRows: 1, rows: [{ window: { start: '2024-11-25T10:40:00.000Z', end: '2024-11-25T10:40:10.000Z' }, user_id: 'user_1007', crash_count: 3 }] },
    ]);
  });

  it('serves the page and its compiled modules, and nothing outside them', async () => {
    const { base } = await startUi();
    const page = await get(base);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('/m/web/client/app.js');
    expect(page.body, 'no asset from another host (no CDN)').not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    const app = await get(`${base}m/web/client/app.js`);
    expect(app.status).toBe(200);
    expect(app.type).toMatch(/^text\/javascript/);
    expect((await get(`${base}m/bottleneck.js`)).status).toBe(200);
    expect((await get(`${base}style.css`)).type).toMatch(/^text\/css/);
    for (const path of ['m/../../package.json', 'm/%2e%2e/%2e%2e/package.json', 'm/web/client/app.js.map', 'm/web/server.ts', 'nope']) {
      expect((await get(`${base}${path}`)).status, path).toBe(404);
    }
    expect((await get(`${base}m/%E0%A4%A`)).status).toBe(400);
    expect((await get(`${base}api/progress`, 'POST')).status).toBe(405);
  });

  it('streams each published record as a progress event and says when the run ends', async () => {
    const { ui, base } = await startUi(2);
    const done = readEvents(`${base}api/events`, (events) => events.some((e) => e.event === 'end'));
    const deadline = Date.now() + 5000;
    while (ui.liveClients === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(ui.liveClients).toBe(1);
    ui.publish(JSON.stringify({ batchId: 2 }));
    ui.publish(JSON.stringify({ batchId: 3 }));
    await ui.close();
    const events = await done;
    expect(events).toEqual([
      { event: 'hello', data: '{"batches":2}' },
      { event: 'progress', data: '{"batchId":2}' },
      { event: 'progress', data: '{"batchId":3}' },
      { event: 'end', data: '{}' },
    ]);
  });

  it("shows each query a script starts: the newest by default, any by ?query=RUNID, each with its own data and events", async () => {
    const ui = new UiServer();
    const base = await ui.listen({ host: '127.0.0.1', port: 0, explicitPort: true });
    cleanups.push(() => ui.close());
    // Before the first query: none listed, no data, and the event stream waits for one.
    expect(JSON.parse((await get(`${base}api/queries`)).body)).toEqual([]);
    expect((await get(`${base}api/progress`)).status).toBe(404);
    const lobby = readEvents(`${base}api/events`, (events) => events.some((e) => e.event === 'query'));
    const query = (id: string, runId: string, batches: number): { feed: ReturnType<UiServer['addQuery']>; history: ProgressHistory } => {
      const history = new ProgressHistory();
      for (let i = 0; i < batches; i++) history.add(record({ batchId: i }));
      return { feed: ui.addQuery({ history, run: describeRun({}, crashAlertsPlan, 'x', { id, runId }), results: null }), history };
    };
    await new Promise((r) => setTimeout(r, 100));
    const first = query('q1', 'r1', 2);
    expect((await lobby).map((e) => e.event)).toEqual(['hello', 'query']);
    const second = query('q2', 'r2', 5);
    const listed = JSON.parse((await get(`${base}api/queries`)).body) as Array<{ id: string; runId: string; active: boolean }>;
    expect(listed.map(({ id, runId, active }) => [id, runId, active])).toEqual([['q1', 'r1', true], ['q2', 'r2', true]]);
    const batchesOf = async (path: string): Promise<number> => (JSON.parse((await get(`${base}api/${path}`)).body) as unknown[]).length;
    expect(await batchesOf('progress')).toBe(5);
    expect(await batchesOf('progress?query=r1')).toBe(2);
    expect((JSON.parse((await get(`${base}api/config?query=r1`)).body) as { id: string }).id).toBe('q1');
    expect((await get(`${base}api/config?query=nope`)).status).toBe(404);
    // A record goes to the pages of its own query only.
    const firstEvents = readEvents(`${base}api/events?query=r1`, (events) => events.some((e) => e.event === 'end'));
    while (first.feed.liveClients === 0) await new Promise((r) => setTimeout(r, 10));
    second.feed.publish('{"batchId":5}');
    first.feed.publish('{"batchId":2}');
    first.feed.end();
    expect(await firstEvents).toEqual([{ event: 'hello', data: '{"batches":2}' }, { event: 'progress', data: '{"batchId":2}' }, { event: 'end', data: '{}' }]);
    // A stopped query stays on view; a page opened on it hears at once that it ended.
    expect((JSON.parse((await get(`${base}api/queries`)).body) as Array<{ active: boolean }>).map((q) => q.active)).toEqual([false, true]);
    expect(await batchesOf('progress?query=r1')).toBe(2);
    expect(await readEvents(`${base}api/events?query=r1`, () => false)).toEqual([{ event: 'end', data: '{}' }]);
  });

  it('moves from a busy default port to the next one, as Spark does', async () => {
    const busy = await occupiedPort();
    const ui = new UiServer({ history: new ProgressHistory(), run: describeRun({}, crashAlertsPlan, 'x', { id: 'q', runId: 'r' }), results: null });
    cleanups.push(() => ui.close());
    const url = await ui.listen({ host: '127.0.0.1', port: busy, explicitPort: false });
    const port = Number(new URL(url).port);
    expect(port).toBeGreaterThan(busy);
    expect(port).toBeLessThanOrEqual(busy + 16);
  });

  it('refuses a busy port the user chose, as a user error naming the port', async () => {
    const busy = await occupiedPort();
    const ui = new UiServer({ history: new ProgressHistory(), run: describeRun({}, crashAlertsPlan, 'x', { id: 'q', runId: 'r' }), results: null });
    cleanups.push(() => ui.close());
    const err = await ui.listen({ host: '127.0.0.1', port: busy, explicitPort: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KindlingError);
    expect((err as KindlingError).domain).toBe('user');
    expect((err as Error).message).toBe(`--ui-port ${busy}: web UI on 127.0.0.1: port ${busy} is in use; choose another port, 0 for any free one, or --no-ui`);
  });
});
