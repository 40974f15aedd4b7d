/**
 * In-process wake-ups for long-polling runners: whoever makes work available calls
 * notify(); held job requests wait on wait(). This is the seam where PostgreSQL
 * LISTEN/NOTIFY would plug in for several replicas.
 */
export class Notifier {
  private waiters = new Set<() => void>();
  private closed = false;

  /** Resolves 'notified', 'timeout', 'aborted' or 'closed' (shutdown), whichever comes first. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<'notified' | 'timeout' | 'aborted' | 'closed'> {
    if (this.closed) return Promise.resolve('closed');
    if (signal?.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: 'notified' | 'timeout' | 'aborted' | 'closed') => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters.delete(onNotify);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const onNotify = () => finish(this.closed ? 'closed' : 'notified');
      const onAbort = () => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      this.waiters.add(onNotify);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  notify() {
    const ws = [...this.waiters];
    for (const w of ws) w();
  }

  get waiting() { return this.waiters.size; }

  /** Releases every held request (shutdown) and refuses new waits. */
  close() {
    this.closed = true;
    this.notify();
  }
}
