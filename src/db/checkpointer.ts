/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit
 * that crosses the threshold: it copies the WAL's pages into the database file and fsyncs
 * it, on the request path of whichever claim or PATCH committed last (bench P2: about a
 * third of what a commit cost). A server process instead turns the automatic checkpoint
 * off and lets a worker thread, with its own connection, checkpoint every EVERY_MS
 * (PASSIVE: it never waits for, nor blocks, a reader or the writer). If the worker cannot
 * start or dies, the automatic checkpoint is turned back on.
 *
 * The worker is a blob of plain JavaScript, so the compiled binary needs no second entry point.
 */
import type { Database } from 'bun:sqlite';
import { WAL_AUTOCHECKPOINT_PAGES } from './client';

const EVERY_MS = 200;

const WORKER = `
import { Database } from 'bun:sqlite';
let db = null;
let timer = null;
self.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'start') {
    db = new Database(m.file);
    db.exec('PRAGMA busy_timeout = 0');
    timer = setInterval(() => {
      try { db.query('PRAGMA wal_checkpoint(PASSIVE)').get(); } catch {}
    }, m.everyMs);
    postMessage({ type: 'started' });
  } else if (m.type === 'stop') {
    clearInterval(timer);
    try { db?.close(); } catch {}
    postMessage({ type: 'stopped' });
  }
};
`;

export class Checkpointer {
  private worker: Worker | null = null;
  private starting: Promise<boolean> | null = null;

  constructor(private client: Database) {}

  /** Resolves once the worker checkpoints: true; false if it could not start (SQLite's own checkpoint stays on). */
  start(everyMs = EVERY_MS): Promise<boolean> {
    return (this.starting ??= this.boot(everyMs));
  }

  private async boot(everyMs: number): Promise<boolean> {
    const url = URL.createObjectURL(new Blob([WORKER], { type: 'application/javascript' }));
    try {
      const worker = new Worker(url);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { worker.terminate(); reject(new Error('no answer')); }, 5000);
        worker.onmessage = (e) => { if ((e.data as { type: string }).type === 'started') { clearTimeout(timer); resolve(); } };
        worker.onerror = (e) => { clearTimeout(timer); reject(e); };
        worker.postMessage({ type: 'start', file: this.client.filename, everyMs });
      });
      worker.onerror = () => this.fallBack();
      worker.addEventListener('close', () => this.fallBack());
      worker.unref();
      this.worker = worker;
      this.client.exec('PRAGMA wal_autocheckpoint = 0');
      return true;
    } catch {
      this.fallBack();
      return false;
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  /** Stops the worker and closes its connection (before the server's own connection closes). */
  async stop(): Promise<void> {
    await this.starting;
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      worker.onmessage = (e) => { if ((e.data as { type: string }).type === 'stopped') { clearTimeout(timer); resolve(); } };
      worker.postMessage({ type: 'stop' });
    });
    worker.terminate();
    this.fallBack();
  }

  private fallBack() {
    this.worker = null;
    try { this.client.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`); } catch { /* closed */ }
  }
}
