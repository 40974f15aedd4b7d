/** The artifacts browser's zip listing (src/core/zip.ts): central directory only, bounded, ZIP64. */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listZip, ZipError } from '../../src/core/zip';
import { makeZip } from '../support/zip';

const dir = mkdtempSync(join(tmpdir(), 'baton-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

describe('listZip', () => {
  test('paths (UTF-8), sizes and directories of a plain archive, with a trailing comment', () => {
    const p = file('a.zip', makeZip([{ path: 'out/', data: '' }, { path: 'out/report.txt', data: 'x'.repeat(1234) }, { path: 'ünïcode.md', data: 'é' }], { comment: 'made by a test' }));
    expect(listZip(p)).toEqual({
      entries: [{ path: 'out/', size: 0, directory: true }, { path: 'out/report.txt', size: 1234, directory: false }, { path: 'ünïcode.md', size: 2, directory: false }],
      total: 3, truncated: false,
    });
  });

  test('ZIP64 end records', () => {
    const p = file('z64.zip', makeZip([{ path: 'a', data: 'aa' }, { path: 'b', data: 'bbb' }], { zip64: true }));
    expect(listZip(p)).toEqual({ entries: [{ path: 'a', size: 2, directory: false }, { path: 'b', size: 3, directory: false }], total: 2, truncated: false });
  });

  test('bounded: at most maxEntries listed, at most maxBytes of directory read', () => {
    const p = file('many.zip', makeZip(Array.from({ length: 300 }, (_, i) => ({ path: `f${i}.txt`, data: String(i) }))));
    const few = listZip(p, { maxEntries: 10 });
    expect({ n: few.entries.length, total: few.total, truncated: few.truncated, last: few.entries.at(-1)?.path }).toEqual({ n: 10, total: 300, truncated: true, last: 'f9.txt' });
    const cut = listZip(p, { maxBytes: 1000 });
    expect(cut.truncated).toBe(true);
    expect(cut.entries.length).toBeGreaterThan(0);
    expect(cut.entries.length).toBeLessThan(300);
  });

  test.each([
    ['not a zip', 'hello, not an archive'],
    ['empty file', ''],
    ['a central directory pointing outside the file', (() => { const z = Buffer.from(makeZip([{ path: 'a', data: 'a' }])); z.writeUInt32LE(0x7fffffff, z.length - 6); return z; })()],
  ])('%s → ZipError', (_, bytes) => {
    expect(() => listZip(file(`bad-${Math.random()}.zip`, bytes))).toThrow(ZipError);
  });
});
