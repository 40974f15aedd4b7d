/**
 * TurnReads (src/db/turn-reads.ts): reads of one event-loop turn share one snapshot on a
 * second, read-only connection; the next turn sees what was written meanwhile, by this
 * connection or another process's; closing the database closes it too.
 */
import { afterEach, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/db/client';

let dir = '';
let db: Db | null = null;
afterEach(() => {
  try { db?.$client.close(); } catch { /* closed by the test */ }
  db = null;
  rmSync(dir, { recursive: true, force: true });
});

function setUp() {
  dir = mkdtempSync(join(tmpdir(), 'baton-turn-'));
  db = openDb(join(dir, 'baton.db'));
  db.$client.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  db.$client.exec("INSERT INTO t VALUES (1, 'a')");
  return { db, read: db.turnReads.query<{ v: string }, { id: number }>('SELECT v FROM t WHERE id = $id') };
}
const nextTurn = () => new Promise((r) => setImmediate(r));
const openOnDb = () => readdirSync('/proc/self/fd').filter((fd) => {
  try { return readlinkSync(`/proc/self/fd/${fd}`) === join(dir, 'baton.db'); } catch { return false; }
}).length;

test('a turn reads one snapshot; the next turn sees writes made meanwhile (this connection)', async () => {
  const { db, read } = setUp();
  expect(read.get({ id: 1 })).toEqual({ v: 'a' });
  db.$client.exec("UPDATE t SET v = 'b' WHERE id = 1");
  expect(read.get({ id: 1 })).toEqual({ v: 'a' }); // same turn: the snapshot of its first read
  await nextTurn();
  expect(read.get({ id: 1 })).toEqual({ v: 'b' });
  expect(read.get({ id: 2 })).toBeNull();
});

test('another connection\'s commit (another process\'s) is seen from the next turn on, and the open read never blocks it', async () => {
  const { read } = setUp();
  expect(read.get({ id: 1 })).toEqual({ v: 'a' });
  const other = new Database(join(dir, 'baton.db'));
  other.exec('PRAGMA busy_timeout = 0'); // would throw SQLITE_BUSY if the open read blocked it
  other.exec("INSERT INTO t VALUES (2, 'c')");
  other.close();
  expect(read.get({ id: 2 })).toBeNull();
  await nextTurn();
  expect(read.get({ id: 2 })).toEqual({ v: 'c' });
});

test('the reader is read-only, and closing the database closes it (no descriptor left, reads refused)', async () => {
  const { db, read } = setUp();
  const before = openOnDb();
  read.get({ id: 1 });
  expect(openOnDb()).toBe(before + 1);
  const writer = db.turnReads.query('INSERT INTO t VALUES (3, \'x\') RETURNING v');
  expect(() => writer.get({})).toThrow(/readonly/);
  db.$client.close(); // with the turn's transaction still open
  expect(openOnDb()).toBe(before - 1);
  expect(() => read.get({ id: 1 })).toThrow(/closed/);
  await nextTurn(); // the end of the turn after the close is harmless
});
