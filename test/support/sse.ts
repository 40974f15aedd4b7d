/**
 * A Server-Sent Events client for tests, reading the wire format itself (no EventSource in
 * Bun): events as they arrive, the ability to drop the connection half-way, and reconnection
 * with Last-Event-ID.
 */
export interface SseEvent { event: string; data: string; id?: string }

export class SseReader {
  private buffer = '';
  private decoder = new TextDecoder();
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  /** comments seen (keep-alives) */
  comments = 0;
  /** the `retry:` value sent, if any */
  retry?: number;
  ended = false;
  private pending?: ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>;

  constructor(readonly response: Response, private controller: AbortController) {
    this.reader = response.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const controller = new AbortController();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    return new SseReader(res, controller);
  }

  /** The next event, or null when the stream ended. */
  async next(timeoutMs = 10_000): Promise<SseEvent | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = this.take();
      if (ev) return ev;
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms (buffer: ${JSON.stringify(this.buffer.slice(0, 200))})`);
      let timer: Timer | undefined;
      // a read that loses the race is kept for the next round, so no chunk is lost
      this.pending ??= this.reader.read();
      const r = await Promise.race([
        this.pending,
        new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), left); }),
      ]).finally(() => clearTimeout(timer));
      if (r === 'timeout') continue;
      this.pending = undefined;
      if (r.done) this.ended = true;
      else this.buffer += this.decoder.decode(r.value, { stream: true });
    }
  }

  /** Events until (and with) the first for which `stop` holds, or until the stream ends. */
  async until(stop: (e: SseEvent) => boolean, timeoutMs = 20_000): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (!e) return out;
      out.push(e);
      if (stop(e)) return out;
    }
  }

  /** Drops the connection as a network failure would. */
  drop() {
    this.controller.abort();
    this.ended = true;
  }

  private take(): SseEvent | null {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end === -1) return null;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const ev: SseEvent = { event: 'message', data: '' };
      const data: string[] = [];
      let any = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) { this.comments++; continue; }
        const i = line.indexOf(':');
        const field = i === -1 ? line : line.slice(0, i);
        const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') { ev.event = value; any = true; }
        else if (field === 'data') { data.push(value); any = true; }
        else if (field === 'id') { ev.id = value; any = true; }
        else if (field === 'retry') this.retry = Number(value);
      }
      if (!any) continue;
      ev.data = data.join('\n');
      return ev;
    }
  }
}
