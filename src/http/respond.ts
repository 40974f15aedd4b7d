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
