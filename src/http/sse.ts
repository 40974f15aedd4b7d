/**
 * Server-Sent Events, shared by the log stream and the status streams (src/rest-api/streams.ts
 * says what each one sends). One stream is one `text/event-stream` response whose body is
 * pulled by the client: a source writes what is new, then the stream sleeps until the core
 * signals a change (core/notifier.ts topics) — never a poll of the disk — or until the
 * keep-alive period passes, when it sends a `:` comment (so proxies keep the connection) and
 * looks again (which also notices changes made by another process on the same data dir).
 *
 * Streams are bounded: at most `perUser` at once per caller and `total` in all (429 with
 * Retry-After beyond). A stream's slot is released when the source ends, when the client goes
 * away (request aborted or body canceled) and when Baton stops (the notifier closes, every
 * stream ends at once so the graceful stop is not held up).
 */
import { DomainError } from '../core/errors';

export interface StreamLimits {
  /** streams one caller may hold open at once */
  perUser: number;
  /** streams the server holds open at once */
  total: number;
  /** the keep-alive period (default KEEP_ALIVE_MS; tests shorten it) */
  keepAliveMs?: number;
}

/** How long a client should wait before reconnecting (the `retry:` field), ms. */
const RETRY_MS = 2000;
/** A comment every so often: proxies and load balancers cut connections that stay silent. */
export const KEEP_ALIVE_MS = 15_000;

/** Counts open streams per caller and in all. */
export class StreamSlots {
  private byUser = new Map<string, number>();
  private open = 0;

  constructor(readonly limits: StreamLimits) {}

  /** A slot for `user`, or 429; the returned function gives it back (once). */
  take(user: string): () => void {
    const mine = this.byUser.get(user) ?? 0;
    if (mine >= this.limits.perUser || this.open >= this.limits.total) {
      const why = mine >= this.limits.perUser ? `you have ${mine} open (at most ${this.limits.perUser} per user)` : `the server has ${this.open} open (at most ${this.limits.total})`;
      throw new DomainError('rate_limited', `429 Too Many Requests - too many event streams: ${why}; close one and try again`, {
        retryAfter: 5, headers: { 'Retry-After': '5' },
      });
    }
    this.byUser.set(user, mine + 1);
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const left = (this.byUser.get(user) ?? 1) - 1;
      if (left <= 0) this.byUser.delete(user);
      else this.byUser.set(user, left);
    };
  }

  /** Streams open now (in all, or for one caller). */
  count(user?: string): number {
    return user === undefined ? this.open : this.byUser.get(user) ?? 0;
  }
}

/** One event in the wire format: `data` is JSON (which never holds a raw line break). */
export function sseEvent(name: string, data: unknown, id?: string | number): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * What a stream sends. `next` writes (with `emit`) what is new since its last call and says
 * whether there is more to send at once (`more`: the client is asked for room first, which
 * is the back-pressure), nothing for now (`wait`: sleep until a wake-up), or that the
 * stream is over (`end`). `watch` subscribes to the wake-ups.
 */
export interface StreamSource {
  /** `emit` takes an event as text, or already encoded (an event shared by many streams) */
  next(emit: (event: string | Uint8Array) => void): 'more' | 'wait' | 'end';
  watch(wake: () => void): () => void;
  /** called before looking again after a keep-alive period without any wake-up */
  refresh?(): void;
}

export interface StreamOptions {
  request: Request;
  source: StreamSource;
  /** the slot taken for this stream (StreamSlots.take) */
  release: () => void;
  /** true once Baton is stopping */
  closed: () => boolean;
  keepAliveMs?: number;
  /** after a wake-up, wait this long so that a burst of changes makes one event (status streams) */
  coalesceMs?: number;
}

/**
 * The keep-alive deadlines of every sleeping stream, checked by one timer: a stream sleeps
 * after every event, and a timer made and cleared per wake-up was a good part of what 50
 * watchers of one log cost (bench P10).
 */
class Deadlines {
  private waiting = new Set<{ at: number; fire: () => void }>();
  private timer: Timer | null = null;

  add(ms: number, fire: () => void): () => void {
    const entry = { at: performance.now() + ms, fire };
    this.waiting.add(entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), Math.min(ms, 1000));
      this.timer.unref?.();
    }
    return () => { this.waiting.delete(entry); };
  }

  private check() {
    const now = performance.now();
    for (const e of this.waiting) {
      if (e.at <= now) {
        this.waiting.delete(e);
        e.fire();
      }
    }
    if (this.waiting.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

const keepAlives = new Deadlines();

const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(': keep-alive\n\n');

export function eventStream(opts: StreamOptions): Response {
  const { request, source } = opts;
  const keepAliveMs = opts.keepAliveMs ?? KEEP_ALIVE_MS;
  let done = false;
  let woken = false;
  let wake: (() => void) | null = null;
  const unwatch = source.watch(() => {
    woken = true;
    wake?.();
  });
  const finish = () => {
    if (done) return;
    done = true;
    unwatch();
    opts.release();
    request.signal.removeEventListener('abort', finish);
    wake?.();
  };
  request.signal.addEventListener('abort', finish, { once: true });
  const sleep = (ms: number) => new Promise<boolean>((resolve) => {
    const timeout = () => { wake = null; resolve(false); };
    const cancel = keepAlives.add(ms, timeout);
    wake = () => { cancel(); wake = null; resolve(true); };
  });
  const close = (c: ReadableStreamDefaultController<Uint8Array>) => {
    finish();
    try { c.close(); } catch { /* already canceled by the client */ }
  };

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(encoder.encode(`retry: ${RETRY_MS}\n\n`));
    },
    async pull(c) {
      for (;;) {
        if (done || opts.closed()) return close(c);
        woken = false;
        let sent = false;
        const state = source.next((e) => {
          sent = true;
          c.enqueue(typeof e === 'string' ? encoder.encode(e) : e);
        });
        if (state === 'end') return close(c);
        if (state === 'more' || sent) return;
        if (woken) continue;
        const signalled = await sleep(keepAliveMs);
        if (done || opts.closed()) return close(c);
        if (!signalled) {
          source.refresh?.();
          c.enqueue(KEEP_ALIVE);
          return;
        }
        if (opts.coalesceMs) await Bun.sleep(opts.coalesceMs);
      }
    },
    cancel() {
      finish();
    },
  });
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx buffers proxied responses unless told not to
      'x-accel-buffering': 'no',
    },
  });
}

/**
 * The offset to resume from: `Last-Event-ID` (what EventSource sends when it reconnects)
 * wins over the `offset` query parameter (where a page starts); both are byte counts.
 */
export function resumeOffset(request: Request, queryOffset: string | undefined): number {
  const last = request.headers.get('last-event-id');
  const [raw, field] = last !== null && last !== '' ? [last, 'Last-Event-ID'] : [queryOffset, 'offset'];
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,15}$/.test(raw)) throw new DomainError('bad_request', `400 Bad request - ${field} is invalid: expected a byte offset (a whole number), got "${raw.slice(0, 40)}"`);
  return Number(raw);
}
