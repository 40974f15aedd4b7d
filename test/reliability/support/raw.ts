/**
 * Raw HTTP/1.1 over a TCP socket, for requests fetch() refuses to send: literal `../` path
 * segments, NUL and control bytes in headers, broken request lines, lying Content-Length.
 * Returns the status of the first response line, or 0 when the server closed the
 * connection without answering (allowed for garbage that is not HTTP at all).
 */
export async function rawRequest(url: string, bytes: Uint8Array | string, timeoutMs = 5000): Promise<number> {
  const { hostname, port } = new URL(url);
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  let received = '';
  return new Promise<number>((resolve) => {
    let settled = false;
    const done = (status: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(status);
    };
    const parse = () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      return m ? Number(m[1]) : 0;
    };
    const timer = setTimeout(() => { done(parse() || -1); sock?.end(); }, timeoutMs);
    let sock: { end(): void } | undefined;
    Bun.connect({
      hostname, port: Number(port),
      socket: {
        open(s) { sock = s; s.write(data); },
        data(s, chunk) {
          received += Buffer.from(chunk).toString('latin1');
          if (/^HTTP\/1\.[01] \d{3}/.test(received)) { done(parse()); s.end(); }
        },
        close() { done(parse()); },
        error() { done(parse()); },
        connectError() { done(-2); },
      },
    }).catch(() => done(-2));
  });
}
