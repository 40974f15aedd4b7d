/**
 * Responses built by hand: runners ≤ 1.9 compare `Content-Type` literally, so JSON goes out
 * as exactly `application/json` (Elysia's default adds `;charset=utf-8`).
 */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function empty(status = 204, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

export function text(body: string | Uint8Array, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
}

/**
 * Bodiless answers carrying one header whose value rarely changes (a poll's epoch): the
 * Headers are built once per value and copied into each Response, which costs less than
 * converting a header object on every answer (bench P1).
 */
export function emptyWith(status: number, name: string): (value: string) => Response {
  let last: string | null = null;
  let headers = new Headers();
  return (value) => {
    if (value !== last) { last = value; headers = new Headers({ [name]: value }); }
    return new Response(null, { status, headers });
  };
}
