/**
 * Rows of a drizzle table read through bun:sqlite directly, for the few statements on the
 * hottest paths (the claim): drizzle's generic row mapping cost more than SQLite spent
 * running the statement (a job row: ~25 µs mapped by drizzle, ~2 µs here; bench P2). The
 * decoding is drizzle's own (each column's mapFromDriverValue), so a row reads exactly as
 * drizzle would read it; only the walk is compiled once per table.
 */
import { Column, getTableColumns, sql, type InferInsertModel, type InferSelectModel, type Table } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db } from './client';

export interface RowReader<T extends Table> {
  /** The table's columns in SQL, in the order `read` expects them (for SELECT or RETURNING). */
  columns: string;
  /** One row of `.values()` → the row drizzle's select() would give. */
  read(values: unknown[]): InferSelectModel<T>;
}

export function rowReader<T extends Table>(table: T): RowReader<T> {
  const cols = Object.entries(getTableColumns(table)) as [string, Column][];
  const keys = cols.map(([k]) => k);
  // Identity decoders are skipped: only booleans, JSON and the like need work.
  const decoders = cols.map(([, c]) => (c.mapFromDriverValue === Column.prototype.mapFromDriverValue ? null : (v: unknown) => c.mapFromDriverValue(v)));
  return {
    columns: cols.map(([, c]) => `"${c.name}"`).join(', '),
    read(values) {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) {
        const v = values[i];
        const d = decoders[i];
        row[keys[i]] = v === null || d === null ? v : d(v);
      }
      return row as InferSelectModel<T>;
    },
  };
}

/**
 * An INSERT of exactly these columns with each value a placeholder of the column's name, to
 * `.prepare()` once: drizzle renders an insert anew on every call otherwise. Values still go
 * through the columns' encoders (JSON, booleans); a column left out gets its SQL default.
 */
export function preparedInsert<T extends SQLiteTable>(db: Db, table: T, keys: readonly (keyof InferInsertModel<T> & string)[]) {
  const values = Object.fromEntries(keys.map((k) => [k, sql.placeholder(k)]));
  return db.insert(table).values(values as InferInsertModel<T>);
}
