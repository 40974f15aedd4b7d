/** Line counts of a trace (the raw log's X-Log-Lines-Before), remembered between asks and forgotten when the trace is replaced. */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBlobStore } from '../../src/core/storage';

const dir = mkdtempSync(join(tmpdir(), 'baton-lines-'));
const store = new LocalBlobStore(dir);
afterAll(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });

const naive = (text: string, offset: number) => Buffer.from(text).subarray(0, offset).toString('latin1').split('\n').length - 1;

test('counts match a plain count at any offset, asked in any order, as the trace grows and after it is replaced', () => {
  let text = '';
  let offset = 0;
  const append = (s: string) => {
    store.appendTrace(7, offset, Buffer.from(s));
    text += s;
    offset += Buffer.byteLength(s);
  };
  for (let i = 0; i < 3000; i++) append(`line ${i} ${'é'.repeat(i % 7)}\n`);
  const size = Buffer.byteLength(text);
  for (const at of [size, 10, size - 5, 0, Math.floor(size / 2), size, 1, size - 1]) expect(store.countTraceLines(7, at)).toBe(naive(text, at));
  for (let i = 0; i < 500; i++) append(`more ${i}\n`);
  const bigger = Buffer.byteLength(text);
  for (const at of [bigger, bigger - 3, size + 7, size]) expect(store.countTraceLines(7, at)).toBe(naive(text, at));
  const replaced = 'a\nb\nc\n'.repeat(10);
  store.replaceTrace(7, Buffer.from(replaced));
  for (const at of [0, 5, replaced.length]) expect(store.countTraceLines(7, at)).toBe(naive(replaced, at));
});
