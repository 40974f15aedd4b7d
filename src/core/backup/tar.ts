/**
 * The few parts of the POSIX tar format (ustar) a backup needs: regular files in folders,
 * written and read synchronously through file descriptors, sizes over 8 GiB in the base-256
 * form GNU tar and bsdtar read. Any `tar -xf` unpacks a Baton backup.
 */
import { readSync, writeSync } from 'node:fs';

const BLOCK = 512;
const enc = new TextEncoder();
const dec = new TextDecoder();

function writeAll(fd: number, bytes: Uint8Array) {
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar header for a regular file (or, with size 0 and type '5', a folder). */
function header(name: string, size: number, mtimeSec: number, type: '0' | '5'): Uint8Array {
  const nameBytes = enc.encode(name);
  if (nameBytes.length > 100) throw new Error(`tar: name too long: ${name}`);
  const h = new Uint8Array(BLOCK);
  h.set(nameBytes, 0);
  h.set(enc.encode(octal(type === '5' ? 0o755 : 0o644, 8)), 100);
  h.set(enc.encode(octal(0, 8)), 108);
  h.set(enc.encode(octal(0, 8)), 116);
  if (size < 8 ** 11) h.set(enc.encode(octal(size, 12)), 124);
  else {
    // base-256: the high bit of the first byte set, the value big-endian in the rest
    h[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) { h[i] = Number(v & 0xffn); v >>= 8n; }
  }
  h.set(enc.encode(octal(Math.max(0, Math.floor(mtimeSec)), 12)), 136);
  h.set(enc.encode('        '), 148); // checksum field counts as spaces while summing
  h[156] = type.charCodeAt(0);
  h.set(enc.encode('ustar\0' + '00'), 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
  return h;
}

export class TarWriter {
  constructor(private fd: number) {}

  folder(name: string, mtimeMs = Date.now()) {
    writeAll(this.fd, header(name.endsWith('/') ? name : `${name}/`, 0, mtimeMs / 1000, '5'));
  }

  /**
   * A file of exactly `size` bytes read from `read` (which fills the buffer it gets and
   * answers how many bytes it put there; 0 = no more). Fewer bytes than announced fail.
   */
  file(name: string, size: number, read: (buf: Uint8Array) => number, mtimeMs = Date.now()) {
    writeAll(this.fd, header(name, size, mtimeMs / 1000, '0'));
    const buf = new Uint8Array(1024 * 1024);
    let left = size;
    while (left > 0) {
      const n = read(left < buf.length ? buf.subarray(0, left) : buf);
      if (n <= 0) throw new Error(`tar: ${name} ended ${left} bytes early`);
      writeAll(this.fd, buf.subarray(0, n));
      left -= n;
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) writeAll(this.fd, new Uint8Array(pad));
  }

  bytes(name: string, data: Uint8Array, mtimeMs = Date.now()) {
    let off = 0;
    this.file(name, data.length, (buf) => {
      const n = Math.min(buf.length, data.length - off);
      buf.set(data.subarray(off, off + n));
      off += n;
      return n;
    }, mtimeMs);
  }

  /** Two zero blocks end the archive. */
  end() { writeAll(this.fd, new Uint8Array(2 * BLOCK)); }
}

export interface TarEntry { name: string; type: 'file' | 'folder'; size: number }

function readFully(fd: number, buf: Uint8Array): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, null);
    if (n <= 0) break;
    got += n;
  }
  return got;
}

function parseSize(h: Uint8Array): number {
  if (h[124] & 0x80) {
    let v = 0n;
    for (let i = 125; i < 136; i++) v = (v << 8n) | BigInt(h[i]);
    return Number(v);
  }
  const text = dec.decode(h.subarray(124, 136)).replace(/\0.*$/s, '').trim();
  if (!/^[0-7]*$/.test(text)) throw new Error('tar: bad size field');
  return text === '' ? 0 : parseInt(text, 8);
}

/**
 * Reads entries one by one: `onFile` gets each file's name and size and a function that
 * hands out its content in chunks. Headers whose checksum fails stop the read.
 */
export function readTar(fd: number, onEntry: (e: TarEntry, content: (sink: (chunk: Uint8Array) => void) => void) => void) {
  const h = new Uint8Array(BLOCK);
  for (;;) {
    const n = readFully(fd, h);
    if (n === 0) throw new Error('tar: the archive ends without its end marker (truncated?)');
    if (n < BLOCK) throw new Error('tar: truncated header');
    if (h.every((b) => b === 0)) return;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    const stored = parseInt(dec.decode(h.subarray(148, 156)).replace(/\0.*$/s, '').trim(), 8);
    if (sum !== stored) throw new Error('tar: header checksum mismatch (not a tar file, or damaged)');
    const prefix = dec.decode(h.subarray(345, 500)).replace(/\0.*$/s, '');
    const base = dec.decode(h.subarray(0, 100)).replace(/\0.*$/s, '');
    const name = prefix ? `${prefix}/${base}` : base;
    const type = String.fromCharCode(h[156] || 48);
    const size = parseSize(h);
    if (type !== '0' && type !== '5') throw new Error(`tar: ${name}: only files and folders are expected (type ${type})`);
    let consumed = false;
    const content = (sink: (chunk: Uint8Array) => void) => {
      consumed = true;
      const buf = new Uint8Array(1024 * 1024);
      let left = size;
      while (left > 0) {
        const got = readFully(fd, left < buf.length ? buf.subarray(0, left) : buf);
        if (got === 0) throw new Error(`tar: ${name} is truncated`);
        sink(buf.subarray(0, got));
        left -= got;
      }
    };
    onEntry({ name, type: type === '5' ? 'folder' : 'file', size }, content);
    if (!consumed) content(() => {});
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad && readFully(fd, new Uint8Array(pad)) < pad) throw new Error('tar: truncated padding');
  }
}
