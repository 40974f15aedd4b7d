/**
 * A streaming multipart/form-data reader: part headers are parsed, part bodies are handed on
 * chunk by chunk, so an artifact of any size passes through bounded memory. A body that
 * ends before its closing boundary makes the part's stream throw (the upload is discarded).
 */
import { badRequest } from '../core/errors';

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 16 * 1024;

export interface PartHeaders {
  name: string | null;
  filename: string | null;
  contentType: string | null;
}

export function boundaryOf(contentType: string | null): string | null {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return null;
  const m = /boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : null;
}

export class MultipartReader {
  private buf: Buffer;
  private reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> };
  private delimiter: Buffer;
  private ended = false;
  private started = false;

  constructor(body: ReadableStream<Uint8Array>, boundary: string) {
    this.reader = body.getReader() as unknown as MultipartReader['reader'];
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    // The first boundary has no CRLF before it; pretend it has.
    this.buf = Buffer.from(CRLF);
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const { done, value } = await this.reader.read();
    if (done || !value) {
      this.ended = true;
      return false;
    }
    this.buf = this.buf.length === 0 ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.concat([this.buf, value]);
    return true;
  }

  private async need(n: number) {
    while (this.buf.length < n) if (!(await this.fill())) throw badRequest('file: the multipart body ended too early');
  }

  /** Skips the preamble up to the first boundary. */
  private async start() {
    this.started = true;
    for (;;) {
      const i = this.buf.indexOf(this.delimiter);
      if (i !== -1) {
        this.buf = this.buf.subarray(i + this.delimiter.length);
        return;
      }
      if (this.buf.length > MAX_HEADER_BYTES) throw badRequest('file: no multipart boundary found');
      if (!(await this.fill())) throw badRequest('file: no multipart boundary found');
    }
  }

  /** Headers of the next part, or null after the closing boundary. */
  async nextPart(): Promise<PartHeaders | null> {
    if (!this.started) await this.start();
    await this.need(2);
    if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) return null; // "--": closing boundary
    let end: number;
    for (;;) {
      end = this.buf.indexOf(HEADER_END);
      if (end !== -1) break;
      if (this.buf.length > MAX_HEADER_BYTES) throw badRequest('file: multipart part headers are too large');
      if (!(await this.fill())) throw badRequest('file: the multipart body ended too early');
    }
    const head = this.buf.subarray(0, end).toString('utf8');
    this.buf = this.buf.subarray(end + HEADER_END.length);
    const headers: PartHeaders = { name: null, filename: null, contentType: null };
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === 'content-disposition') {
        headers.name = param(value, 'name');
        headers.filename = param(value, 'filename');
      } else if (key === 'content-type') headers.contentType = value;
    }
    return headers;
  }

  /** The current part's bytes, chunk by chunk, up to the next boundary. */
  async *partData(): AsyncGenerator<Uint8Array> {
    const keep = this.delimiter.length - 1;
    for (;;) {
      const i = this.buf.indexOf(this.delimiter);
      if (i !== -1) {
        if (i > 0) yield this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + this.delimiter.length);
        return;
      }
      // Hold back only bytes that could begin the boundary (usually none), so the next chunk
      // is usually taken as it is instead of being copied onto a tail (a 1 GiB upload).
      const hold = partialDelimiter(this.buf, this.delimiter, keep);
      if (this.buf.length > hold) {
        const out = this.buf.subarray(0, this.buf.length - hold);
        this.buf = this.buf.subarray(this.buf.length - hold);
        yield out;
      }
      if (!(await this.fill())) throw badRequest('file: the multipart body ended too early');
    }
  }

  /** Reads a small part whole (form fields); refuses more than `max` bytes. */
  async partText(max = 64 * 1024): Promise<string> {
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const c of this.partData()) {
      n += c.length;
      if (n > max) throw badRequest('a multipart form field is too large');
      chunks.push(c);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  cancel() {
    this.reader.cancel().catch(() => {});
  }
}

/** How many bytes at the end of `buf` (at most `max`) are the beginning of `delimiter`. */
function partialDelimiter(buf: Buffer, delimiter: Buffer, max: number): number {
  for (let p = Math.max(0, buf.length - max); p < buf.length; p++) {
    if (buf[p] === delimiter[0] && buf.subarray(p).equals(delimiter.subarray(0, buf.length - p))) return buf.length - p;
  }
  return 0;
}

function param(header: string, name: string): string | null {
  const m = new RegExp(`(?:^|;)\\s*${name}\\*?=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i').exec(header);
  if (!m) return null;
  const v = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2].trim();
  return v;
}
