/**
 * The list of files inside a zip archive (the artifacts browser), read from its central
 * directory at the end of the file — the archive is never unpacked or read whole. Bounded:
 * at most `maxBytes` of directory are read and `maxEntries` entries listed; the rest is
 * reported as truncated. ZIP64 archives (over 4 GiB or 65 535 entries) are understood.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ZipEntry {
  path: string;
  /** uncompressed size in bytes */
  size: number;
  directory: boolean;
}

export interface ZipListing {
  entries: ZipEntry[];
  /** entries the archive says it holds */
  total: number;
  truncated: boolean;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;

export class ZipError extends Error {}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n <= 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

export function listZip(path: string, opts: { maxEntries?: number; maxBytes?: number } = {}): ZipListing {
  const maxEntries = opts.maxEntries ?? 10_000;
  const maxBytes = opts.maxBytes ?? 8 * 2 ** 20;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // the end record is 22 bytes plus a comment of at most 65 535
    const tailLen = Math.min(size, 22 + 65_535);
    const tail = readAt(fd, size - tailLen, tailLen);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === EOCD) { at = i; break; }
    if (at === -1) throw new ZipError('not a zip archive (no end of central directory)');
    let total = tail.readUInt16LE(at + 10);
    let dirSize = tail.readUInt32LE(at + 12);
    let dirOffset = tail.readUInt32LE(at + 16);
    if ((total === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) && at >= 20 && tail.readUInt32LE(at - 20) === ZIP64_LOCATOR) {
      const recordAt = Number(tail.readBigUInt64LE(at - 20 + 8));
      const rec = readAt(fd, recordAt, 56);
      if (rec.length < 56 || rec.readUInt32LE(0) !== ZIP64_EOCD) throw new ZipError('broken ZIP64 end record');
      total = Number(rec.readBigUInt64LE(32));
      dirSize = Number(rec.readBigUInt64LE(40));
      dirOffset = Number(rec.readBigUInt64LE(48));
    }
    if (dirOffset + dirSize > size) throw new ZipError('the central directory lies outside the file');
    const dir = readAt(fd, dirOffset, Math.min(dirSize, maxBytes));
    const entries: ZipEntry[] = [];
    let p = 0;
    while (p + 46 <= dir.length && entries.length < maxEntries) {
      if (dir.readUInt32LE(p) !== CENTRAL) throw new ZipError('broken central directory entry');
      const flags = dir.readUInt16LE(p + 8);
      let usize = dir.readUInt32LE(p + 24);
      const nameLen = dir.readUInt16LE(p + 28);
      const extraLen = dir.readUInt16LE(p + 30);
      const commentLen = dir.readUInt16LE(p + 32);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > dir.length) break; // cut by maxBytes
      const nameBytes = dir.subarray(p + 46, p + 46 + nameLen);
      const name = flags & 0x800 ? nameBytes.toString('utf8') : nameBytes.toString('latin1');
      if (usize === 0xffffffff) {
        // the ZIP64 extra field holds the real size first
        for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
          const id = dir.readUInt16LE(e);
          const len = dir.readUInt16LE(e + 2);
          if (id === 0x0001 && len >= 8) { usize = Number(dir.readBigUInt64LE(e + 4)); break; }
          e += 4 + len;
        }
      }
      entries.push({ path: name, size: usize, directory: name.endsWith('/') });
      p = end;
    }
    return { entries, total, truncated: entries.length < total };
  } finally {
    closeSync(fd);
  }
}
