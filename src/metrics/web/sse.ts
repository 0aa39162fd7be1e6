// Server-sent events: the open /api/events connections and one broadcast per batch.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A client further behind than this (bytes queued) is dropped rather than buffered without bound. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** An event stream that only says the run (query) is over: for a page opened after its query stopped. */
export function endedStream(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.end('event: end\ndata: {}\n\n');
}

/** The open event streams; each batch is sent to all of them as one `progress` event. */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly keepAlive: NodeJS.Timeout;

  constructor(keepAliveMs = 15_000) {
    // Proxies and browsers drop silent connections; a comment line keeps them open.
    this.keepAlive = setInterval(() => this.send(': keep-alive\n\n'), keepAliveMs);
    this.keepAlive.unref();
  }

  /** Open event streams. */
  get size(): number {
    return this.clients.size;
  }

  /** Turns a request into an event stream and keeps it until the client goes. */
  add(req: IncomingMessage, res: ServerResponse, hello: string): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write(`retry: 2000\nevent: hello\ndata: ${hello}\n\n`);
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }

  /** Sends one named event whose data is a single-line JSON string. */
  broadcast(event: string, json: string): void {
    if (this.clients.size > 0) this.send(`event: ${event}\ndata: ${json}\n\n`);
  }

  /** Ends every stream (the run is over) and stops the keep-alive timer. */
  closeAll(): void {
    clearInterval(this.keepAlive);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private send(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_QUEUED_BYTES) {
        res.destroy();
        this.clients.delete(res);
      } else res.write(text);
    }
  }
}
