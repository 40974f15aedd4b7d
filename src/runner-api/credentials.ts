/** Where runner-facing credentials come from; shared by both runner protocols. */

/** A job token: the `token` parameter wins over the header, as in GitLab. */
export function jobToken(request: Request, header: 'build-token' | 'job-token', params?: { token?: unknown }): string | undefined {
  // Most requests carry no query string: no URL is parsed for them (every trace PATCH comes here).
  const url = request.url;
  const q = url.indexOf('?');
  const fromQuery = q === -1 ? null : new URLSearchParams(url.slice(q + 1)).get('token');
  const fromParams = typeof params?.token === 'string' ? params.token : undefined;
  return fromParams ?? fromQuery ?? request.headers.get(header) ?? undefined;
}

/** The numeric id of `:id` or `:id.json`; NaN for anything else (→ 404). */
export function idParam(raw: string): number {
  const m = /^(-?\d{1,15})(?:\.json)?$/.exec(raw);
  return m ? Number(m[1]) : NaN;
}

/** The bytes of a body that must be read whole (trace patches), refusing more than `max`. */
export async function readBody(request: Request, max: number): Promise<Uint8Array | null> {
  const header = request.headers.get('content-length');
  const declared = header === null ? NaN : Number(header);
  if (declared > max) return null;
  // A declared length within the limit is read in one go (streaming costs ~5× per PATCH).
  if (Number.isFinite(declared)) return declared === 0 ? new Uint8Array(0) : new Uint8Array(await request.arrayBuffer());
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of request.body) {
    n += c.length;
    if (n > max) return null;
    chunks.push(c);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
