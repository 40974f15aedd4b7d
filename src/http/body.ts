/** A raw request body read whole, refused with 413 as soon as it passes `max` (declared or streamed). */
import { DomainError } from '../core/errors';

export async function readBody(request: Request, max: number): Promise<Uint8Array> {
  const tooLarge = () => new DomainError('too_large', `413 Request Entity Too Large - the body may be at most ${Math.round(max / 1024 / 1024)} MiB`);
  if (Number(request.headers.get('content-length') ?? 0) > max) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of request.body) {
    n += c.length;
    if (n > max) throw tooLarge();
    chunks.push(c);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
