/**
 * P10 load, the watchers: N clients follow one job's log stream (Server-Sent Events) from
 * before it starts until its `end` event, noting when each slice arrived (its id is the byte
 * offset after it) and keeping a hash of what they received, so run.ts can check every
 * watcher got exactly the log and measure how late each slice came.
 */
import { main, options, ready, wallNow } from './common';

interface Opts { url: string; token: string; projectId: number; jobId: number; watchers: number }

main(async () => {
  const o = options<Opts>();
  const streams = await Promise.all(Array.from({ length: o.watchers }, async () => {
    const res = await fetch(`${o.url}/api/v4/projects/${o.projectId}/jobs/${o.jobId}/trace/stream`, { headers: { 'private-token': o.token, accept: 'text/event-stream' } });
    if (res.status !== 200) throw new Error(`stream: HTTP ${res.status} ${await res.text()}`);
    return res;
  }));
  await ready();
  const results = await Promise.all(streams.map(async (res) => {
    const decoder = new TextDecoder();
    const hasher = new Bun.CryptoHasher('sha256');
    const arrivals: [offset: number, at: number][] = [];
    let buffer = '';
    let bytes = 0;
    let ended = false;
    for await (const chunk of res.body!) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        if (event === 'trace') {
          const text = JSON.parse(/^data: (.*)$/m.exec(block)![1]) as string;
          const b = new TextEncoder().encode(text);
          hasher.update(b);
          bytes += b.length;
          arrivals.push([Number(/^id: (\d+)$/m.exec(block)![1]), wallNow()]);
        } else if (event === 'end') ended = true;
      }
      if (ended) break;
    }
    return { bytes, sha256: hasher.digest('hex'), arrivals, ended };
  }));
  return { watchers: results };
});
