/**
 * `wrk` (Debian's package) as the load generator of P1/P1b: written in C, several threads,
 * so the bare baseline it drives is the machine's limit and not the generator's, which a
 * Bun fetch loop reaches first. Each of the N connections cycles through the runners' own
 * requests (prebuilt in Lua: token, `info`, and `last_update` when echoing).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userAgent, type Proto } from '../load/runner';

export function hasWrk(): boolean {
  return Bun.which('wrk') !== null;
}

export interface WrkResult { rate: number; requests: number; non2xx: number; socketErrors: number }

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** The Lua script: one prebuilt request per runner, taken in turn by every connection. */
function script(path: string, proto: Proto, bodies: string[]): string {
  const headers = `{["Content-Type"]="application/json", ["Accept"]="application/json", ["User-Agent"]=${luaString(userAgent(proto))}}`;
  return `local bodies = {${bodies.map(luaString).join(',\n')}}
local reqs = {}
local i = 0
init = function(args)
  for k, b in ipairs(bodies) do reqs[k] = wrk.format("POST", ${luaString(path)}, ${headers}, b) end
  i = math.random(#reqs)
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
`;
}

/** Runs wrk for `seconds` after a `warmupSeconds` run whose figures are dropped. */
export async function wrkPolls(o: {
  url: string; proto: Proto; tokens: string[]; lastUpdate?: string; connections: number; threads: number;
  warmupSeconds: number; seconds: number; dir: string; info: object;
}): Promise<WrkResult> {
  const path = o.proto === 'v1' ? '/ci/api/v1/builds/register.json' : '/api/v4/jobs/request';
  const bodies = o.tokens.map((token) => JSON.stringify({ token, info: o.info, ...(o.lastUpdate !== undefined ? { last_update: o.lastUpdate } : {}) }));
  const file = join(o.dir, `wrk-${o.proto}-${o.lastUpdate === undefined ? 'noecho' : 'echo'}.lua`);
  writeFileSync(file, script(path, o.proto, bodies));
  const run = async (seconds: number) => {
    const proc = Bun.spawn(['wrk', '-t', String(o.threads), '-c', String(o.connections), '-d', `${Math.max(1, Math.round(seconds))}s`, '-s', file, o.url], { stdout: 'pipe', stderr: 'pipe' });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`wrk exited ${code}: ${err || out}`);
    const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    return {
      rate: num(/Requests\/sec:\s+([\d.]+)/),
      requests: num(/(\d+) requests in/),
      non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
      socketErrors: socket ? socket.slice(1).reduce((a, n) => a + Number(n), 0) : 0,
      out,
    };
  };
  if (Math.round(o.warmupSeconds) > 0) await run(o.warmupSeconds);
  const r = await run(o.seconds);
  if (r.requests === 0 || r.rate === 0) throw new Error(`wrk measured nothing: ${r.out}`);
  return { rate: r.rate, requests: r.requests, non2xx: r.non2xx, socketErrors: r.socketErrors };
}
