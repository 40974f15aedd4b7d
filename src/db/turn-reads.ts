/**
 * Reads that may see the database as it was at the start of this event-loop turn share one
 * read transaction, on a second, read-only connection, instead of each paying for its own.
 *
 * In WAL mode a statement outside a transaction begins and ends a read transaction itself
 * (locks on the -shm and the database file): ~4 µs of a ~5 µs lookup by key, and under load
 * every trace PATCH reads its job (bench P4). Here the first read of a turn begins the
 * transaction and the end of the turn (setImmediate) ends it, so the snapshot is never older
 * than one turn: a write made earlier in the same turn, by this process or another, may not
 * be seen yet — as if the read had arrived a moment sooner. Only for reads where that is so.
 * The connection is separate because a transaction on the main one would take in its writes.
 */
import { Database, type SQLQueryBindings } from 'bun:sqlite';

export class TurnReads {
  private conn: Database | null = null;
  private inTurn = false;
  private closed = false;

  constructor(private readonly file: string, private readonly busyTimeoutMs: number) {}

  /** A prepared read: `get(params)` → the first row or null. */
  query<R, P extends Record<string, SQLQueryBindings>>(text: string): { get(params: P): R | null } {
    let stmt: ReturnType<Database['query']> | null = null;
    return {
      get: (params: P): R | null => {
        const conn = this.begin();
        stmt ??= conn.query(text);
        return (stmt.get(params as never) as R | null) ?? null;
      },
    };
  }

  private begin(): Database {
    if (this.closed) throw new Error('TurnReads: the database is closed');
    if (!this.conn) {
      this.conn = new Database(this.file, { readonly: true, strict: true });
      this.conn.exec(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
    }
    if (!this.inTurn) {
      this.conn.exec('BEGIN');
      this.inTurn = true;
      setImmediate(() => this.end());
    }
    return this.conn;
  }

  private end() {
    if (!this.inTurn) return;
    this.inTurn = false;
    try { this.conn?.exec('COMMIT'); } catch { /* closed meanwhile */ }
  }

  close() {
    this.closed = true;
    this.end();
    this.conn?.close();
    this.conn = null;
  }
}
