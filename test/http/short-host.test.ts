/** A runner configured with a short host name (`http://ci/`, a Docker service) still reaches every route. */
import { expect, test } from 'bun:test';
import { connect } from 'node:net';
import { startTestServer } from '../support/harness';

test.each(['ci', 'a', 'abc', 'ci.example.com'])('Host: %s routes normally', async (host) => {
  const s = await startTestServer();
  try {
    const port = Number(new URL(s.url).port);
    const out: string = await new Promise((resolve, reject) => {
      const sock = connect(port, '127.0.0.1', () => sock.write(`GET /-/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
      let data = '';
      sock.on('data', (d) => (data += d));
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
    });
    expect(out).toStartWith('HTTP/1.1 200');
    expect(out).toContain('{"status":"ok"}');
  } finally {
    await s.stop();
  }
});
