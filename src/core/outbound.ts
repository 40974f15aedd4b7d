/**
 * Requests Baton itself makes to URLs that users chose (remote includes, forge commit
 * statuses, project hooks, and git fetching a project's repo_url: core/git.ts). Like GitLab's outbound-request setting, requests to loopback,
 * link-local, private and other non-public addresses are refused unless Baton runs with
 * `--allow-local-requests`, so a project's settings cannot make the server probe its own
 * network. Every hop of a redirect is checked again; only http(s) is spoken; a timeout
 * and a size limit (enforced while reading) bound each request.
 *
 * Known limit: the name is resolved here and again by fetch, so a DNS server answering
 * differently within milliseconds (rebinding) could still reach a private address.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export class OutboundError extends Error {}

export interface OutboundPolicy {
  allowLocal: boolean;
  /** whole request, headers and body */
  timeoutMs: number;
  /** bytes of response body read at most; more is an error */
  maxBytes: number;
  /** redirects followed (each re-checked); 0 = a redirect is an error */
  maxRedirects?: number;
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  /** the URL that answered (after redirects) */
  url: string;
}

function v4Parts(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** Is this literal address one that a public URL must not reach? */
export function isNonPublicAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = v4Parts(ip);
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254)
      || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 192 && b === 0 && v4Parts(ip)[2] === 0)
      || (a === 198 && (b === 18 || b === 19)) || a >= 224;
  }
  const v6 = ip.toLowerCase().replace(/^\[|\]$/g, '');
  if (v6 === '::' || v6 === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (mapped) return isNonPublicAddress(mapped[1]);
  if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(v6)) return true; // mapped v4 in hex form: refuse rather than decode
  const first = parseInt(v6.split(':')[0] || '0', 16);
  return (first & 0xffc0) === 0xfe80 // link-local
    || (first & 0xfe00) === 0xfc00 // unique local
    || (first & 0xff00) === 0xff00; // multicast
}

export const LOCAL_NETWORK_REFUSED = 'requests to the local network are not allowed (start Baton with --allow-local-requests to allow them)';

/**
 * Where a host name (or literal address) points: `local` when any of its addresses is not
 * public, `public`, or `unresolved` when DNS knows no address for it.
 */
export async function hostReach(rawHost: string): Promise<'public' | 'local' | 'unresolved'> {
  const host = rawHost.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      return 'unresolved';
    }
  }
  if (addresses.length === 0) return 'unresolved';
  return addresses.some(isNonPublicAddress) ? 'local' : 'public';
}

/** Checks scheme and address of a URL; resolves the host name. Throws OutboundError saying why. */
export async function checkOutboundUrl(raw: string, allowLocal: boolean): Promise<URL> {
  let url: URL;
  try { url = new URL(raw); } catch { throw new OutboundError('is not a valid URL'); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('only http and https URLs are allowed');
  if (allowLocal) return url;
  const reach = await hostReach(url.hostname);
  if (reach === 'unresolved') throw new OutboundError(`host ${url.hostname.replace(/^\[|\]$/g, '')} could not be resolved`);
  if (reach === 'local') throw new OutboundError(LOCAL_NETWORK_REFUSED);
  return url;
}

/** One outbound request under the policy; non-2xx answers are returned, not thrown. */
export async function fetchOutbound(raw: string, init: RequestInit, policy: OutboundPolicy): Promise<OutboundResponse> {
  const signal = AbortSignal.timeout(policy.timeoutMs);
  let current = raw;
  for (let hop = 0; ; hop++) {
    const url = await checkOutboundUrl(current, policy.allowLocal);
    let res: Response;
    try {
      res = await fetch(url, { ...init, redirect: 'manual', signal });
    } catch (e) {
      throw new OutboundError(signal.aborted ? `timed out after ${policy.timeoutMs / 1000} s` : `could not connect: ${(e as Error).message}`);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.has('location')) {
      await res.body?.cancel();
      if (hop >= (policy.maxRedirects ?? 0)) throw new OutboundError(`redirected (HTTP ${res.status}); redirects are not followed`);
      current = new URL(res.headers.get('location')!, url).toString();
      // A redirect may only keep to http(s); checkOutboundUrl re-checks scheme and address.
      continue;
    }
    const body = await readLimited(res, policy.maxBytes, signal, policy.timeoutMs);
    return { status: res.status, headers: res.headers, body, url: url.toString() };
  }
}

async function readLimited(res: Response, maxBytes: number, signal: AbortSignal, timeoutMs: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new OutboundError(`answer is larger than ${maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  try {
    for (;;) {
      const { done, value } = reader ? await reader.read() : { done: true, value: undefined };
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader!.cancel();
        throw new OutboundError(`answer is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof OutboundError) throw e;
    throw new OutboundError(signal.aborted ? `timed out after ${timeoutMs / 1000} s` : `could not read the answer: ${(e as Error).message}`);
  }
  return Buffer.concat(chunks);
}
