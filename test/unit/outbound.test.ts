/** Outbound requests to user-chosen URLs: address rules, redirects, timeouts and size limits. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { checkOutboundUrl, fetchOutbound, isNonPublicAddress, OutboundError } from '../../src/core/outbound';

describe('isNonPublicAddress', () => {
  test.each([
    ['127.0.0.1', true], ['127.8.9.1', true], ['10.1.2.3', true], ['172.16.0.1', true], ['172.31.255.255', true],
    ['172.32.0.1', false], ['192.168.1.1', true], ['169.254.169.254', true], ['100.64.0.1', true], ['0.0.0.0', true],
    ['224.0.0.1', true], ['255.255.255.255', true], ['8.8.8.8', false], ['93.184.216.34', false],
    ['::1', true], ['::', true], ['fe80::1', true], ['fd00::1', true], ['fc12::1', true], ['ff02::1', true],
    ['::ffff:127.0.0.1', true], ['::ffff:8.8.8.8', false], ['::ffff:7f00:1', true], ['2001:4860:4860::8888', false],
  ])('%s → %p', (ip, expected) => {
    expect(isNonPublicAddress(ip)).toBe(expected);
  });
});

describe('checkOutboundUrl', () => {
  test.each([
    ['http://127.0.0.1:9/x', 'requests to the local network are not allowed'],
    ['http://localhost/x', 'requests to the local network are not allowed'],
    ['http://[::1]/x', 'requests to the local network are not allowed'],
    ['http://169.254.169.254/latest/meta-data', 'requests to the local network are not allowed'],
    ['file:///etc/passwd', 'only http and https URLs are allowed'],
    ['ftp://example.com/x', 'only http and https URLs are allowed'],
    ['not a url', 'is not a valid URL'],
  ])('%s is refused: %s', async (url, message) => {
    const err = await checkOutboundUrl(url, false).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect((err as Error).message).toContain(message);
  });

  test('--allow-local-requests lets loopback through, never other schemes', async () => {
    expect((await checkOutboundUrl('http://127.0.0.1:9/x', true)).hostname).toBe('127.0.0.1');
    expect(await checkOutboundUrl('file:///etc/passwd', true).catch((e) => e)).toBeInstanceOf(OutboundError);
  });
});

describe('fetchOutbound against a loopback server', () => {
  let server: ReturnType<typeof Bun.serve>;
  let base = '';
  beforeAll(() => {
    server = Bun.serve({
      port: 0, hostname: '127.0.0.1',
      async fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === '/ok') return new Response('hello');
        if (path === '/big') return new Response('x'.repeat(5000));
        if (path === '/chunked') return new Response(new ReadableStream({ start(c) { for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('y'.repeat(1000))); c.close(); } }));
        if (path === '/slow') { await Bun.sleep(2000); return new Response('late'); }
        if (path === '/redirect') return Response.redirect(`${base}/ok`, 302);
        if (path === '/to-file') return new Response(null, { status: 302, headers: { location: 'file:///etc/passwd' } });
        return new Response('nope', { status: 404 });
      },
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.stop(true));

  const policy = { allowLocal: true, timeoutMs: 500, maxBytes: 4096 };

  test('a plain answer', async () => {
    const r = await fetchOutbound(`${base}/ok`, {}, policy);
    expect(r.status).toBe(200);
    expect(new TextDecoder().decode(r.body)).toBe('hello');
  });

  test('non-2xx answers are returned', async () => {
    expect((await fetchOutbound(`${base}/missing`, {}, policy)).status).toBe(404);
  });

  test.each(['/big', '/chunked'])('%s: larger than maxBytes is refused while reading', async (path) => {
    const err = await fetchOutbound(`${base}${path}`, {}, policy).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect((err as Error).message).toContain('larger than 4096 bytes');
  });

  test('a slow server times out', async () => {
    const err = await fetchOutbound(`${base}/slow`, {}, policy).catch((e) => e);
    expect((err as Error).message).toContain('timed out');
  });

  test('redirects: refused by default, followed and re-checked when allowed', async () => {
    expect(((await fetchOutbound(`${base}/redirect`, {}, policy).catch((e) => e)) as Error).message).toContain('redirects are not followed');
    expect((await fetchOutbound(`${base}/redirect`, {}, { ...policy, maxRedirects: 3 })).url).toBe(`${base}/ok`);
    expect(((await fetchOutbound(`${base}/to-file`, {}, { ...policy, maxRedirects: 3 }).catch((e) => e)) as Error).message).toContain('only http and https');
  });

  test('without --allow-local-requests the loopback server is not reached', async () => {
    const err = await fetchOutbound(`${base}/ok`, {}, { ...policy, allowLocal: false }).catch((e) => e);
    expect((err as Error).message).toContain('--allow-local-requests');
  });
});
