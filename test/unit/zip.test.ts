/** The artifacts browser's zip listing (src/core/zip.ts): central directory only, bounded, ZIP64. */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { listZip, readZipEntry, ZipError } from '../../src/core/zip';
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

describe('readZipEntry: one file out of an archive (trigger:include:artifact)', () => {
  /** a one-entry archive whose data is deflated (method 8), as runners write them */
  function deflatedZip(name: string, text: string): Uint8Array {
    const data = Buffer.from(text);
    const packed = deflateRawSync(data);
    const n = Buffer.from(name);
    const crc = Bun.hash.crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14); local.writeUInt32LE(packed.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16); central.writeUInt32LE(packed.length, 20); central.writeUInt32LE(data.length, 24); central.writeUInt16LE(n.length, 28);
    const dirOffset = 30 + n.length + packed.length;
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(1, 8); eocd.writeUInt16LE(1, 10);
    eocd.writeUInt32LE(46 + n.length, 12); eocd.writeUInt32LE(dirOffset, 16);
    return Buffer.concat([local, n, packed, central, n, eocd]);
  }
  let n = 0;
  const write = (bytes: Uint8Array) => file(`entry-${++n}.zip`, bytes);
  const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

  test('a stored file, a file in a folder, and a missing one', () => {
    const file = write(makeZip([{ path: 'child.yml', data: 'a:\n  script: [x]\n' }, { path: 'ci/b.yml', data: 'b' }]));
    expect(text(readZipEntry(file, 'child.yml', 1024))).toBe('a:\n  script: [x]\n');
    expect(text(readZipEntry(file, 'ci/b.yml', 1024))).toBe('b');
    expect(readZipEntry(file, 'nope.yml', 1024)).toBeNull();
  });
  test('a deflated file is inflated', () => {
    const body = 'x:\n  script: [echo deflated]\n'.repeat(50);
    expect(text(readZipEntry(write(deflatedZip('gen.yml', body)), 'gen.yml', 1 << 20))).toBe(body);
  });
  test('over the limit, or not a zip → ZipError', () => {
    expect(() => readZipEntry(write(makeZip([{ path: 'big.yml', data: 'y'.repeat(2000) }])), 'big.yml', 1000)).toThrow(ZipError);
    expect(() => readZipEntry(write(deflatedZip('big.yml', 'z'.repeat(5000))), 'big.yml', 1000)).toThrow();
    expect(() => readZipEntry(write(new TextEncoder().encode('not a zip at all')), 'a', 10)).toThrow(ZipError);
  });
});
