/**
 * P5 load: one artifact upload of a given size, sent as a runner sends it — multipart with
 * a single `file` part, `Transfer-Encoding: chunked` (no Content-Length) — generated on the
 * fly so the generator itself holds only one chunk.
 */
import { main, options, ready } from './common';
import { artifactsUrl, jobTokenHeader, RunnerClient, userAgent, type Proto } from './runner';

interface Opts { url: string; proto: Proto; bytes: number; chunkBytes: number; registrationToken: string }

main(async () => {
  const o = options<Opts>();
  const runner = await RunnerClient.register(o.url, o.proto, o.registrationToken);
  const a = await runner.poll({ echo: false });
  if (!a.job) throw new Error('no job to upload artifacts for');
  const job = a.job;
  const boundary = '----BatonBench' + Math.random().toString(16).slice(2);
  const head = new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="artifacts.zip"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
  // Incompressible bytes, as a zip is; one random block reused.
  const block = new Uint8Array(o.chunkBytes);
  crypto.getRandomValues(block.subarray(0, Math.min(block.length, 65536)));
  for (let i = 65536; i < block.length; i += 65536) block.copyWithin(i, 0, Math.min(65536, block.length - i));
  await ready();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    start(c) { c.enqueue(head); },
    pull(c) {
      if (sent >= o.bytes) { c.enqueue(tail); c.close(); return; }
      const n = Math.min(o.chunkBytes, o.bytes - sent);
      c.enqueue(n === block.length ? block : block.subarray(0, n));
      sent += n;
    },
  }, { highWaterMark: 0 });
  const t0 = performance.now();
  const res = await fetch(artifactsUrl(o.url, o.proto, job), {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, [jobTokenHeader(o.proto)]: job.token, 'user-agent': userAgent(o.proto) },
    body,
  });
  const text = await res.text();
  const seconds = (performance.now() - t0) / 1000;
  if (res.status !== 201) throw new Error(`artifact upload: HTTP ${res.status} ${text.slice(0, 300)}`);
  return { jobId: job.id, bytes: o.bytes, seconds, mibps: o.bytes / 2 ** 20 / seconds };
});
