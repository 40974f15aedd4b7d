/**
 * R3 — bad input: a seeded random fuzzer for every endpoint of both runner protocols and the
 * REST API. Each case is built so that it MUST be refused (wrong or missing credential,
 * a type no conversion can fix, broken framing, sizes over the limits, `../` and NUL in
 * names, invalid UTF-8…); the few read-only calls that may succeed say so. The caller
 * checks the answers (never 5xx, never an accepted write), the process (alive, memory
 * bounded) and the data dir (unchanged). Shared by test/reliability and test/soak.
 */
import { ADMIN_TOKEN, REGISTRATION_TOKEN } from '../support/process';
import { rawRequest } from '../support/raw';

export interface Creds {
  runnerV1: string; runnerV4: string;
  /** running job of the v1 runner, its token, its stored trace length */
  jobV1: number; jobV1Token: string; jobV1Length: number;
  jobV4: number; jobV4Token: string; jobV4Length: number;
  projectId: number; pipelineId: number; projectToken: string;
  /** resources of the people and automation routes, when the fixture made them (else their ids name nothing) */
  userId?: number; tokenId?: number; triggerId?: number; scheduleId?: number; scheduleKey?: string; hookId?: number; runnerId?: number;
  /** the project's webhook secret (a delivery signed with anything else is refused) */
  webhookSecret?: string;
  /** `<namespace>/<path>` of the project, for the dashboard's pages */
  projectPath?: string;
}

/**
 * A route of the app for the route-driven REST generators: its method and path template,
 * the TypeBox model of its body if it has one, and whether it is a people-facing route (an
 * auth macro names its permission). The test reads them from createApp, so a new route is
 * fuzzed without a new list.
 */
export interface AppRoute { method: string; path: string; body?: unknown; permission?: string }

export interface FuzzCase {
  kind: string;
  /** `may-succeed`: a read-only call, any status < 500 is fine; else 4xx is required */
  expect: 'refused' | 'may-succeed';
  send(base: string): Promise<number>;
}

export interface FuzzReport {
  sent: number;
  /** `METHOD /path` of every request sent through fetch (query cut off): which routes were reached */
  reached: Set<string>;
  /** status → count */
  statuses: Map<number, number>;
  /** kind → a few examples of answers that broke the rules */
  violations: string[];
  byKind: Map<string, number>;
}

// ---------------------------------------------------------------- randomness

export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)];
  const bytes = (n: number) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = int(256); return b; };
  return { next, int, pick, bytes };
}
type Rng = ReturnType<typeof rng>;

/** Values no TypeBox conversion turns into the field's type (checked against Value.Convert). */
const UNFIXABLE = {
  str: [null, {}, [], [1], { a: 1 }, [[]], [{}]],
  bool: ['maybe', 'abc', {}, [], 1.5, 12, '', [[]], null],
  int: ['maybe', 'abc', {}, [], '', 'NaN', [[]], null],
  obj: ['maybe', 12, [], true, '', [[]], null],
  tags: [null, {}, { a: 1 }, [[]], [{}]],
} as const;
type FieldType = keyof typeof UNFIXABLE;

const BAD_IDS = ['abc', '-1', '99999999999999999999', '%00', '1%00', '..%2F..%2Fetc%2Fpasswd', '%c3%28', "1'%20OR%201=1--", '%7B%7B7*7%7D%7D',
  'null', 'undefined', '%5B%5D', 'x'.repeat(3000), '%ff%fe', '1.5', '999999', '-0', ' '];
const WEIRD_STRINGS = ['../../etc/passwd', '..\\..\\windows', 'a\u0000b', '\u0000', '%00', '\ud800', '\u202e', '${jndi:ldap://127.0.0.1/x}', '<script>', "'; DROP TABLE jobs; --", '', ' ', 'é'.repeat(1000)];

function garbageToken(r: Rng): string {
  return r.pick([
    '', 'x', 'glrt-' + 'A'.repeat(27), 'glcbt-' + 'B'.repeat(27), 'glpat-nope', REGISTRATION_TOKEN + 'x', REGISTRATION_TOKEN.slice(0, -1),
    ADMIN_TOKEN.toUpperCase(), ADMIN_TOKEN + 'x', '\u00ff\u00fe', 'a'.repeat(10_000), '%00', '../../../', 'null',
  ]);
}

/**
 * A JSON text that is not what a params endpoint takes. `strict`: only texts that are not a
 * JSON object at all (the others are objects with no known field, which an update may take
 * as "change nothing").
 */
function brokenJson(r: Rng, strict = false): string | Uint8Array {
  switch (strict ? r.pick([0, 1, 2, 3, 7, 8]) : r.int(9)) {
    case 0: return r.bytes(1 + r.int(300));
    case 1: return r.pick(['[]', '"x"', '1', 'null', 'true', '[{"token":"x"}]']);
    case 2: { const s = JSON.stringify({ token: 'x', info: { name: 'y' }, tag_list: ['a', 'b'] }); return s.slice(0, 1 + r.int(s.length - 1)); }
    case 3: return '['.repeat(20_000) + ']'.repeat(20_000);
    case 4: return '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);
    case 5: return new Uint8Array([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d]);
    case 6: return '{"token": "x", "token": {}, "__proto__": {"token": "y"}}';
    case 7: return '\ufeff{"token":1}}';
    default: return '{' + Array.from({ length: 2000 }, (_, i) => `"k${i}":${i}`).join(',') + ',}';
  }
}

// ---------------------------------------------------------------- case builders

const DEBUG = !!process.env.FUZZ_DEBUG;

/** Every `METHOD /path` sent (the report copies it). */
const reachedPaths = new Set<string>();

async function send(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: NonNullable<RequestInit['body']>): Promise<number> {
  reachedPaths.add(`${method} ${path.split('?')[0]}`);
  const show = () => `${method} ${path.slice(0, 200)} ${JSON.stringify(headers).slice(0, 300)} ${typeof body === 'string' ? body.slice(0, 300) : body instanceof Uint8Array ? `<${body.length} bytes>` : body ? '<form>' : ''}`;
  try {
    const res = await fetch(base + path, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(20_000) });
    const text = await res.text().catch(() => '');
    if (DEBUG && (res.status < 400 || res.status >= 500)) console.log(`[fuzz] ${res.status} ← ${show()} → ${text.slice(0, 200)}`);
    return res.status;
  } catch (e) {
    if (DEBUG) console.log(`[fuzz] ${String(e)} ← ${show()}`);
    return -2;
  }
}

const json = (v: unknown) => ({ 'content-type': 'application/json', body: typeof v === 'string' || v instanceof Uint8Array ? v : JSON.stringify(v) });

/** Wrong-typed body for a params endpoint: `base` fields (valid credential) + one broken field. */
function wrongType(r: Rng, base: Record<string, unknown>, fields: Record<string, FieldType>): Record<string, unknown> {
  const names = Object.keys(fields);
  const out: Record<string, unknown> = { ...base };
  const n = 1 + r.int(Math.min(3, names.length));
  for (let i = 0; i < n; i++) {
    const f = r.pick(names);
    out[f] = r.pick(UNFIXABLE[fields[f]] as readonly unknown[]);
  }
  return out;
}

function multipart(r: Rng, mode: 'truncated' | 'bad-name' | 'no-file' | 'no-boundary' | 'huge-part-header' | 'garbage'): { ct: string; body: Uint8Array } {
  const b = 'fuzz' + r.int(1e9);
  const enc = new TextEncoder();
  const part = (name: string, filename: string | null, data: Uint8Array) => Buffer.concat([
    enc.encode(`--${b}\r\nContent-Disposition: form-data; name="${name}"${filename === null ? '' : `; filename="${filename}"`}\r\nContent-Type: application/zip\r\n\r\n`),
    data, enc.encode('\r\n'),
  ]);
  const close = enc.encode(`--${b}--\r\n`);
  switch (mode) {
    case 'truncated': {
      const whole = Buffer.concat([part('file', 'a.zip', r.bytes(2000 + r.int(20_000))), close]);
      return { ct: `multipart/form-data; boundary=${b}`, body: whole.subarray(0, r.int(whole.length - close.length - 2)) };
    }
    case 'bad-name': {
      const name = r.pick(['../../../etc/passwd', '..', '.', 'a/b.zip', 'a\\\\b.zip', 'a\u0000b.zip', '/abs.zip']);
      return { ct: `multipart/form-data; boundary=${b}`, body: Buffer.concat([part('file', name, r.bytes(100)), close]) };
    }
    case 'no-file':
      return { ct: `multipart/form-data; boundary=${b}`, body: Buffer.concat([part('expire_in', null, enc.encode('1 day')), part('other', 'x.zip', r.bytes(50)), close]) };
    case 'no-boundary':
      return { ct: r.pick(['multipart/form-data', 'multipart/form-data; boundary=', 'multipart/mixed; boundary=x', 'application/zip']), body: r.bytes(500) };
    case 'huge-part-header':
      return { ct: `multipart/form-data; boundary=${b}`, body: Buffer.concat([enc.encode(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="${'a'.repeat(40_000)}"\r\n`), r.bytes(100)]) };
    default:
      return { ct: `multipart/form-data; boundary=${b}`, body: r.bytes(1 + r.int(5000)) };
  }
}

function garbledRange(r: Rng, avoid: number): string {
  for (;;) {
    const v = r.pick(['', 'abc', '-5', '5-', '-', '1-2-3', 'bytes=0-1', 'bytes 0-1/2', '0-0', '99999999999999999999999-1', '1e5-2', '\u00ff-\u00fe',
      '0x10-20', ' 3 - 4', `${r.int(1e6)}-${r.int(1e6)}`, `${r.int(100)}`, '9007199254740993-1', Buffer.from('٣-٤').toString('latin1'), '-0-1']);
    const m = /^\s*(\d+)/.exec(v.split('-')[0] ?? '');
    if ((m ? Number(m[1]) : 0) !== avoid) return v;
  }
}

/** Every case generator, each one an endpoint × a way of being wrong. */
export function caseGenerators(c: Creds, limits: { maxTrace: number; maxArtifact: number }, routes: AppRoute[] = []): Array<(r: Rng) => FuzzCase> {
  const refused = (kind: string, s: (base: string) => Promise<number>): FuzzCase => ({ kind, expect: 'refused', send: s });
  const readOnly = (kind: string, s: (base: string) => Promise<number>): FuzzCase => ({ kind, expect: 'may-succeed', send: s });

  const v1Register = { description: 'str', tag_list: 'tags', run_untagged: 'bool', locked: 'bool', info: 'obj', token: 'str' } as const;
  const v4Register = { description: 'str', tag_list: 'tags', run_untagged: 'bool', locked: 'bool', paused: 'bool', active: 'bool', maximum_timeout: 'int', info: 'obj', token: 'str' } as const;
  const gens: Array<(r: Rng) => FuzzCase> = [];

  /** A params endpoint: broken JSON / wrong content types / wrong credential / wrong types with the right credential. */
  const paramsEndpoint = (kind: string, method: string, paths: string[], goodBase: Record<string, unknown>, fields: Record<string, FieldType>, headers: () => Record<string, string> = () => ({})) => {
    gens.push((r) => {
      const path = r.pick(paths);
      const mode = r.int(7);
      if (mode === 0) { const j = json(brokenJson(r)); return refused(`${kind} broken-json`, (b) => send(b, method, path, { ...headers(), 'content-type': j['content-type'] }, j.body)); }
      if (mode === 1) {
        const body = wrongType(r, goodBase, fields);
        const j = json(body);
        return refused(`${kind} wrong-type`, (b) => send(b, method, path, { ...headers(), 'content-type': j['content-type'] }, j.body));
      }
      if (mode === 2) {
        // form encoding with hostile nested keys and a wrong credential
        const key = r.pick(['__proto__[token]', 'constructor[prototype][token]', 'info[name][][]', 'a[[[[', ']]]', 'tag_list[][]', 'token[]', '%00', 'info[__proto__][x]']);
        const form = `${key}=${encodeURIComponent(REGISTRATION_TOKEN)}&token=${encodeURIComponent(garbageToken(r))}&x=%ff%fe%00`;
        return refused(`${kind} hostile-form`, (b) => send(b, method, path, { ...headers(), 'content-type': 'application/x-www-form-urlencoded' }, form));
      }
      if (mode === 3) {
        const mp = multipart(r, r.pick(['truncated', 'garbage', 'no-boundary'] as const));
        return refused(`${kind} broken-multipart`, (b) => send(b, method, path, { ...headers(), 'content-type': mp.ct }, mp.body));
      }
      if (mode === 4) {
        const body = { ...Object.fromEntries(Object.keys(goodBase).map((k) => [k, garbageToken(r)])), [r.pick(Object.keys(fields))]: r.pick(WEIRD_STRINGS) };
        return refused(`${kind} wrong-credential`, (b) => send(b, method, path + (r.int(2) ? `?token=${encodeURIComponent(garbageToken(r))}` : ''), { 'content-type': 'application/json' }, JSON.stringify(body)));
      }
      if (mode === 5) {
        // a body type the endpoint does not read → no credential at all
        const ct = r.pick(['text/plain', 'application/xml', 'application/octet-stream', '', 'application/json-patch+json']);
        return refused(`${kind} other-content-type`, (b) => send(b, method, path, ct ? { 'content-type': ct } : {}, r.bytes(r.int(400))));
      }
      const q = r.pick(['?token=%ff%fe', '?token[]=a&token[]=b', '?info[name]=%00', '?' + 'a=1&'.repeat(3000), '?token=' + encodeURIComponent(garbageToken(r))]);
      return refused(`${kind} query-only`, (b) => send(b, method, path + q, headers()));
    });
  };

  // ---- v1
  paramsEndpoint('v1 register', 'POST', ['/ci/api/v1/runners/register', '/ci/api/v1/runners/register.json'], { token: REGISTRATION_TOKEN }, v1Register);
  paramsEndpoint('v1 delete runner', 'DELETE', ['/ci/api/v1/runners/delete', '/ci/api/v1/runners/delete.json'], { token: c.runnerV1 }, { token: 'str' });
  paramsEndpoint('v1 request build', 'POST', ['/ci/api/v1/builds/register', '/ci/api/v1/builds/register.json'], { token: c.runnerV1 }, { token: 'str', info: 'obj', last_update: 'str' });
  paramsEndpoint('v1 update build', 'PUT', [`/ci/api/v1/builds/${c.jobV1}`], { token: c.runnerV1 }, { token: 'str', state: 'str', trace: 'str', info: 'obj' });
  gens.push((r) => {
    const id = r.int(3) ? String(c.jobV1) : r.pick(BAD_IDS);
    const token = r.int(4) ? c.jobV1Token : garbageToken(r);
    const mode = r.int(4);
    const range = mode === 0 ? undefined : garbledRange(r, c.jobV1Length);
    const body = mode === 3 ? r.bytes(limits.maxTrace + 1 + r.int(1000)) : r.bytes(r.int(2000));
    return refused(`v1 trace ${mode === 3 ? 'too-large' : 'garbled-range'}`, (b) => send(b, 'PATCH', `/ci/api/v1/builds/${id}/trace.txt`, { 'BUILD-TOKEN': token, 'content-type': 'text/plain', ...(range === undefined ? {} : { 'content-range': range }) }, body));
  });
  const artifactUpload = (kind: string, path: (id: string) => string, header: string, job: number, token: string) => gens.push((r) => {
    const id = r.int(4) ? String(job) : r.pick(BAD_IDS);
    const tok = r.int(4) ? token : garbageToken(r);
    const mode = r.pick(['truncated', 'bad-name', 'no-file', 'no-boundary', 'huge-part-header', 'garbage', 'too-large'] as const);
    if (mode === 'too-large') {
      const form = new FormData();
      form.append('file', new Blob([r.bytes(limits.maxArtifact + r.int(1000))]), 'big.zip');
      return refused(`${kind} too-large`, (b) => send(b, 'POST', path(id), { [header]: tok }, form));
    }
    const mp = multipart(r, mode);
    return refused(`${kind} ${mode}`, (b) => send(b, 'POST', path(id), { [header]: tok, 'content-type': mp.ct }, mp.body));
  });
  artifactUpload('v1 artifacts', (id) => `/ci/api/v1/builds/${id}/artifacts`, 'BUILD-TOKEN', c.jobV1, c.jobV1Token);
  gens.push((r) => {
    const id = r.int(2) ? String(c.jobV1) : r.pick(BAD_IDS);
    return r.int(2)
      ? readOnly('v1 artifacts download', (b) => send(b, 'GET', `/ci/api/v1/builds/${id}/artifacts`, { 'BUILD-TOKEN': r.int(3) ? garbageToken(r) : c.jobV1Token }))
      : refused('v1 artifacts delete', (b) => send(b, 'DELETE', `/ci/api/v1/builds/${r.pick([id, String(c.jobV1)])}/artifacts`, { 'BUILD-TOKEN': garbageToken(r) }));
  });

  // ---- v4 runner API
  paramsEndpoint('v4 register', 'POST', ['/api/v4/runners'], { token: REGISTRATION_TOKEN }, v4Register);
  paramsEndpoint('v4 verify', 'POST', ['/api/v4/runners/verify'], { token: c.runnerV4 }, { token: 'str', system_id: 'str' });
  paramsEndpoint('v4 delete runner', 'DELETE', ['/api/v4/runners'], { token: c.runnerV4 }, { token: 'str', system_id: 'str' });
  paramsEndpoint('v4 create runner', 'POST', ['/api/v4/user/runners'], { runner_type: 'instance_type' }, { runner_type: 'str', project_id: 'int', description: 'str', run_untagged: 'bool', maximum_timeout: 'int', tag_list: 'tags' },
    () => ({ 'PRIVATE-TOKEN': ADMIN_TOKEN }));
  paramsEndpoint('v4 request job', 'POST', ['/api/v4/jobs/request'], { token: c.runnerV4 }, { token: 'str', info: 'obj', last_update: 'str', system_id: 'str' });
  paramsEndpoint('v4 update job', 'PUT', [`/api/v4/jobs/${c.jobV4}`], { token: c.jobV4Token }, { token: 'str', state: 'str', trace: 'str', failure_reason: 'str', exit_code: 'int', info: 'obj', checksum: 'str' });
  gens.push((r) => {
    const id = r.int(3) ? String(c.jobV4) : r.pick(BAD_IDS);
    const token = r.int(4) ? c.jobV4Token : garbageToken(r);
    const mode = r.int(4);
    const range = mode === 0 ? undefined : garbledRange(r, c.jobV4Length);
    const body = mode === 3 ? r.bytes(limits.maxTrace + 1 + r.int(1000)) : r.bytes(r.int(2000));
    return refused(`v4 trace ${mode === 3 ? 'too-large' : 'garbled-range'}`, (b) => send(b, 'PATCH', `/api/v4/jobs/${id}/trace`, { 'JOB-TOKEN': token, ...(range === undefined ? {} : { 'content-range': range }) }, body));
  });
  artifactUpload('v4 artifacts', (id) => `/api/v4/jobs/${id}/artifacts?artifact_format=${['zip', 'gzip', '%00'][id.length % 3]}`, 'JOB-TOKEN', c.jobV4, c.jobV4Token);
  gens.push((r) => readOnly('v4 artifacts download', (b) => send(b, 'GET', `/api/v4/jobs/${r.int(2) ? c.jobV4 : r.pick(BAD_IDS)}/artifacts`, { 'JOB-TOKEN': r.int(3) ? garbageToken(r) : c.jobV4Token })));

  // ---- REST API: every people-facing route of the app (restRouteGenerators below), plus names
  const P = c.projectId;
  gens.push((r) => {
    // names with `../` and NUL where the REST API takes names (variable keys, project paths)
    const key = r.pick(WEIRD_STRINGS.filter(Boolean));
    return r.int(2)
      ? refused('rest variable bad-key', (b) => send(b, 'POST', `/api/v4/projects/${P}/variables`, { 'PRIVATE-TOKEN': ADMIN_TOKEN, 'content-type': 'application/json' }, JSON.stringify({ key, value: 'v' })))
      : refused('rest project bad-path', (b) => send(b, 'POST', '/api/v4/projects', { 'PRIVATE-TOKEN': ADMIN_TOKEN, 'content-type': 'application/json' }, JSON.stringify({ name: 'fuzz', path: key, repo_url: '/nonexistent' })));
  });

  // ---- anything: huge headers and bodies, unknown paths, hostile raw HTTP
  gens.push((r) => {
    const mode = r.int(6);
    const path = r.pick(['/ci/api/v1/builds/register', '/api/v4/jobs/request', '/api/v4/projects', '/ci/api/v1/runners/register']);
    if (mode === 0) return refused('huge header', (b) => send(b, 'POST', path, { 'x-big': 'a'.repeat(r.pick([20_000, 70_000, 300_000])), 'content-type': 'application/json' }, '{}'));
    if (mode === 1) return refused('many headers', (b) => send(b, 'POST', path, { ...Object.fromEntries(Array.from({ length: 300 + r.int(500) }, (_, i) => [`x-h${i}`, 'v'.repeat(100)])), 'content-type': 'application/json' }, '{}'));
    if (mode === 2) return refused('huge json body', (b) => send(b, 'POST', path, { 'content-type': 'application/json', 'PRIVATE-TOKEN': ADMIN_TOKEN }, '{"token":"' + 'a'.repeat(17 * 1024 * 1024) + '"}'));
    if (mode === 3) return refused('huge form body', (b) => send(b, 'POST', path, { 'content-type': 'application/x-www-form-urlencoded' }, 'token=' + 'a'.repeat(17 * 1024 * 1024)));
    if (mode === 4) return refused('unknown path', (b) => send(b, r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']), r.pick(['/ci/api/v2/x', '/api/v4/nope', '/%ff', '/api/v4/projects/1/../../..', '/.env', '/api/v4/jobs/1/trace/../../x', '/' + 'a/'.repeat(2000)]), {}));
    return readOnly('public', (b) => send(b, 'GET', r.pick(['/-/health', '/-/liveness', '/-/readiness', '/metrics', '/api/v4/version', '/swagger', '/swagger/json',
      '/swagger/assets/swagger-ui.css', '/swagger/assets/swagger-ui-bundle.js']) + r.pick(['', '?%ff', '?x=' + 'y'.repeat(5000)]), { 'x-request-id': r.pick(['ok-1', '../../x', 'a'.repeat(500), '\u00ff']) }));
  });
  gens.push(...restRouteGenerators(c, routes), ...inboundGenerators(c), ...pageGenerators(c, routes));
  gens.push((r) => {
    const host = 'Host: 127.0.0.1\r\n';
    const reqs = [
      `GET /ci/api/v1/builds/../../../../etc/passwd HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
      `GET /api/v4/jobs/1/artifacts/../../../../baton.db HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
      `PATCH /ci/api/v1/builds/${c.jobV1}/trace.txt HTTP/1.1\r\n${host}BUILD-TOKEN: a\u0000b\r\nContent-Range: 0\u0000-1\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`,
      `POST /ci/api/v1/builds/register HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{"a":1}`,
      `POST /ci/api/v1/builds/register HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `GET / HTTP/1.1\r\n${host}X-Bad\u0001Header: 1\r\nConnection: close\r\n\r\n`,
      `\u00ff\u00fe\u0000GARBAGE\r\n\r\n`,
      `GET /api/v4/projects HTTP/9.9\r\n${host}\r\n`,
      `POST /api/v4/runners HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 30\r\nConnection: close\r\n\r\n{"token":"\u00c3\u0028\u00ff"}                `,
      `GET /api/v4/projects/${P} HTTP/1.1\r\n${host}PRIVATE-TOKEN: ${ADMIN_TOKEN}\u0000\r\nConnection: close\r\n\r\n`,
    ];
    const raw = r.pick(reqs);
    return refused('raw http', async (b) => {
      const s = await rawRequest(b, Buffer.from(raw, 'latin1'), 3000);
      if (s === 0 || s === -1) return 400; // a closed or held connection is a refusal, not a crash
      // Bun's HTTP parser answers an unknown HTTP version itself, as RFC 9110 says; Baton never sees it.
      if (s === 505 && raw.includes('HTTP/9.9')) return 400;
      // `/ci/api/v1/builds/../../../../etc/passwd` resolves to `/etc/passwd`, a dashboard path
      // (`/<namespace>/<project>`): an anonymous caller is sent to the sign-in page, a refusal.
      if (s === 302 && /^GET \S*\/\.\.\//.test(raw)) return 401;
      return s;
    });
  });
  return gens;
}

export async function fuzz(base: string, gens: Array<(r: Rng) => FuzzCase>, opts: { requests: number; seed: number; concurrency: number }): Promise<FuzzReport> {
  const r = rng(opts.seed);
  reachedPaths.clear();
  const report: FuzzReport = { sent: 0, reached: reachedPaths, statuses: new Map(), violations: [], byKind: new Map() };
  const cases: FuzzCase[] = Array.from({ length: opts.requests }, () => r.pick(gens)(r));
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const status = await c.send(base);
      report.sent++;
      report.statuses.set(status, (report.statuses.get(status) ?? 0) + 1);
      report.byKind.set(c.kind, (report.byKind.get(c.kind) ?? 0) + 1);
      // a dashboard page refuses by redirecting to the sign-in page
      const ok = c.expect === 'refused' ? (status >= 400 && status < 500) || (c.kind.startsWith('page') && (status === 302 || status === 303)) : status >= 200 && status < 500;
      if (!ok && report.violations.length < 40) report.violations.push(`${c.kind}: ${status}`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return report;
}

// ---------------------------------------------------------------- route-driven REST cases

/** The field kind of a TypeBox property, for values no conversion fixes; null when none can be broken safely. */
function fieldKind(schema: Record<string, unknown>): FieldType | null {
  switch (schema.type) {
    case 'string': return 'str';
    case 'boolean': return 'bool';
    case 'integer': case 'number': return 'int';
    case 'object': return 'obj';
    case 'array': return 'tags';
    default: return null; // unions, Any: a value they refuse cannot be picked blindly
  }
}

/** `{field: kind}` of a body model's breakable properties, or null when "every field broken" might still be valid. */
function breakable(model: unknown): Record<string, FieldType> | null {
  const m = model as { type?: string; properties?: Record<string, Record<string, unknown>>; required?: string[] } | undefined;
  if (!m || m.type !== 'object' || !m.properties) return null;
  const fields: Record<string, FieldType> = {};
  for (const [k, v] of Object.entries(m.properties)) { const kind = fieldKind(v); if (kind) fields[k] = kind; }
  const names = Object.keys(fields);
  // every property must be breakable, or a required one is: else the unbroken ones may make a valid body
  const required = (m.required ?? []).some((k) => k in fields);
  if (names.length === 0 || (names.length !== Object.keys(m.properties).length && !required)) return null;
  return fields;
}

/**
 * Cases for every people-facing route (auth macro), each an endpoint × a way of being wrong:
 * a wrong or missing credential (any method: 401); with the admin token, reads with hostile
 * queries (may succeed: they change nothing), writes on ids that name nothing, and — with
 * real ids — bodies that are not a JSON object or whose every field has a type no conversion
 * fixes. A write without path ids and without a body (revoking the token in use) is only
 * ever sent with a wrong credential.
 */
export function restRouteGenerators(c: Creds, routes: AppRoute[]): Array<(r: Rng) => FuzzCase> {
  const people = routes.filter((x) => x.permission !== undefined);
  if (people.length === 0) return [];
  const nothing = '999999999';
  const real = (template: string): string => {
    const parts = template.split('/');
    return parts.map((seg, i) => {
      if (!seg.startsWith(':')) return seg;
      const parent = parts[i - 1];
      const name = seg.slice(1);
      if (name === 'id') {
        if (parent === 'projects') return String(c.projectId);
        if (parent === 'users') return String(c.userId ?? nothing);
        if (parent === 'runners') return String(c.runnerId ?? 1);
        if (parent === 'personal_access_tokens') return String(c.tokenId ?? nothing);
      }
      if (name === 'pipeline_id') return String(c.pipelineId);
      if (name === 'job_id') return String(c.jobV1);
      if (name === 'user_id') return String(c.userId ?? nothing);
      if (name === 'trigger_id') return String(c.triggerId ?? nothing);
      if (name === 'schedule_id') return String(c.scheduleId ?? nothing);
      if (name === 'hook_id') return String(c.hookId ?? nothing);
      if (name === 'runner_id') return String(c.runnerId ?? 1);
      if (name === 'environment_id') return '1';
      if (name === 'key') return parent === 'variables' && parts.includes('pipeline_schedules') ? (c.scheduleKey ?? 'NOPE') : parent === 'variables' ? 'SECRET' : 'nope';
      return nothing;
    }).join('/');
  };
  const bad = (r: Rng, template: string) => template.split('/').map((seg) => (seg.startsWith(':') ? r.pick(BAD_IDS) : seg)).join('/');
  const hasParams = (t: string) => t.includes('/:');
  const QUERIES = ['', '?page=-1', '?per_page=abc', '?page=99999999999', '?scope[]=%00', '?scope=running&scope[]=x', '?status=%ff', '?ref=../../x',
    '?order_by=id;drop', '?per_page=1e9', '?sort=sideways', '?search=%00%ff', '?user_id=abc', '?membership=maybe', '?' + 'x=1&'.repeat(2000)];
  const adminHeader = (r: Rng): Record<string, string> => r.pick<Record<string, string>>([{ 'PRIVATE-TOKEN': garbageToken(r) }, { authorization: `Bearer ${garbageToken(r)}` },
    { authorization: `Basic ${btoa(`root:${ADMIN_TOKEN}`)}` }, {}, { 'private-token': ADMIN_TOKEN.slice(1) }, { cookie: `baton_session=${garbageToken(r)}` }]);
  const refused = (kind: string, s: (base: string) => Promise<number>): FuzzCase => ({ kind, expect: 'refused', send: s });
  const readOnly = (kind: string, s: (base: string) => Promise<number>): FuzzCase => ({ kind, expect: 'may-succeed', send: s });
  const admin = { 'PRIVATE-TOKEN': ADMIN_TOKEN };

  return [
    (r) => {
      // a wrong or missing credential, on any route, with any body
      const route = r.pick(people);
      const path = r.int(3) ? real(route.path) : bad(r, route.path);
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : brokenJson(r);
      return refused(`rest ${route.method === 'GET' ? 'read' : 'write'} wrong-credential`, (b) => send(b, route.method, path + r.pick(QUERIES),
        { ...adminHeader(r), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body));
    },
    (r) => {
      const route = r.pick(people);
      if (route.method === 'GET') return readOnly('rest read', (b) => send(b, 'GET', (r.int(4) ? real(route.path) : bad(r, route.path)) + r.pick(QUERIES), admin));
      const fields = breakable(route.body);
      const modes: ('bad-id' | 'broken-json' | 'wrong-type')[] = [];
      if (hasParams(route.path)) modes.push('bad-id');
      if (route.body !== undefined) modes.push('broken-json');
      if (fields) modes.push('wrong-type');
      // nothing to break without hurting the fixture (e.g. revoking the token in use): a wrong credential instead
      if (modes.length === 0) return refused('rest write wrong-credential', (b) => send(b, route.method, route.path, adminHeader(r)));
      const mode = r.pick(modes);
      if (mode === 'bad-id') {
        return refused('rest write bad-id', (b) => send(b, route.method, bad(r, route.path), { ...admin, 'content-type': 'application/json' }, route.method === 'DELETE' ? undefined : '{}'));
      }
      if (mode === 'broken-json') {
        const j = json(brokenJson(r, true));
        return refused('rest write broken-json', (b) => send(b, route.method, real(route.path), { ...admin, 'content-type': j['content-type'] }, j.body));
      }
      // every field of the model broken at once, so no combination can be valid
      const body: Record<string, unknown> = {};
      for (const [f, kind] of Object.entries(fields!)) body[f] = r.pick(UNFIXABLE[kind] as readonly unknown[]);
      return refused('rest write wrong-type', (b) => send(b, route.method, real(route.path), { ...admin, 'content-type': 'application/json' }, JSON.stringify(body)));
    },
  ];
}

/**
 * The routes that take no personal credential: push webhooks (a signature made with the
 * project's webhook secret), trigger tokens (`token`), and the dashboard's sign-in and
 * sign-out. Nothing the fuzzer sends may pass: a wrong or no signature, a wrong or no
 * trigger token, a wrong password.
 */
export function inboundGenerators(c: Creds): Array<(r: Rng) => FuzzCase> {
  const P = c.projectId;
  const refused = (kind: string, s: (base: string) => Promise<number>): FuzzCase => ({ kind, expect: 'refused', send: s });
  const readOnly = (kind: string, s: (base: string) => Promise<number>): FuzzCase => ({ kind, expect: 'may-succeed', send: s });
  const project = (r: Rng) => (r.int(4) ? String(P) : r.pick(BAD_IDS));
  const safeStrings = WEIRD_STRINGS.filter((w) => w !== '\ud800'); // a lone surrogate cannot be URI-encoded
  return [
    (r) => {
      // a push delivery: as a forge sends it, or broken, never signed with the secret
      const forge = r.pick(['github', 'gitea', 'forgejo', 'gitlab', 'none'] as const);
      const body = r.int(3) ? JSON.stringify({ ref: r.pick(['refs/heads/main', '../../x', '', 'refs/tags/%00']), before: '0'.repeat(40), after: r.pick(['a'.repeat(40), 'zz', '']), head_commit: { id: 'a'.repeat(40), message: r.pick(WEIRD_STRINGS) } }) : brokenJson(r);
      const sig = r.pick(['', 'sha256=', 'sha256=' + '0'.repeat(64), 'deadbeef', garbageToken(r), (c.webhookSecret ?? 'x') + 'x']);
      const headers: Record<string, string> = { 'content-type': r.pick(['application/json', 'application/x-www-form-urlencoded', 'text/plain']) };
      if (forge === 'github') Object.assign(headers, { 'X-GitHub-Event': r.pick(['push', 'ping', 'delete', '%00']), 'X-GitHub-Delivery': crypto.randomUUID(), 'X-Hub-Signature-256': sig });
      if (forge === 'gitea') Object.assign(headers, { 'X-Gitea-Event': 'push', 'X-Gitea-Delivery': crypto.randomUUID(), 'X-Gitea-Signature': sig });
      if (forge === 'forgejo') Object.assign(headers, { 'X-Forgejo-Event': 'push', 'X-Forgejo-Signature': sig });
      if (forge === 'gitlab') Object.assign(headers, { 'X-Gitlab-Event': r.pick(['Push Hook', 'Tag Push Hook', 'Pipeline Hook']), 'X-Gitlab-Token': sig });
      return refused(`webhook ${forge}`, (b) => send(b, 'POST', `/api/v4/projects/${project(r)}/webhook`, headers, body));
    },
    (r) => {
      // trigger a pipeline: a wrong token, none, or broken parameters
      const path = r.int(2) ? `/api/v4/projects/${project(r)}/trigger/pipeline` : `/api/v4/projects/${project(r)}/ref/${r.pick(['main', '..%2F..', '%00', 'x'.repeat(300)])}/trigger/pipeline`;
      const token = r.pick([undefined, garbageToken(r), 'glptt-' + '0'.repeat(40), ADMIN_TOKEN, c.runnerV4, c.projectToken]);
      const mode = r.int(4);
      if (mode === 0) return refused('trigger query', (b) => send(b, 'POST', `${path}?${token === undefined ? '' : `token=${encodeURIComponent(token)}&`}ref=main&variables[A]=%00`));
      if (mode === 1) {
        const form = `${token === undefined ? '' : `token=${encodeURIComponent(token)}&`}ref=${encodeURIComponent(r.pick(safeStrings))}&variables[__proto__][x]=1&variables[]=x`;
        return refused('trigger form', (b) => send(b, 'POST', path, { 'content-type': 'application/x-www-form-urlencoded' }, form));
      }
      if (mode === 2) { const j = json(brokenJson(r)); return refused('trigger broken-json', (b) => send(b, 'POST', path, { 'content-type': j['content-type'] }, j.body)); }
      const body = { token: token ?? null, ref: r.pick([...WEIRD_STRINGS, 'main']), variables: r.pick([{ A: {} }, [{ key: 'A' }], 'x', { 'bad-key': 'v' }, null]) };
      return refused('trigger json', (b) => send(b, 'POST', path, { 'content-type': 'application/json' }, JSON.stringify(body)));
    },
    (r) => {
      // sign in with a wrong password, broken fields or a cross-origin request; sign out without a session
      if (r.int(4) === 0) return readOnly('sign out', (b) => send(b, 'POST', '/users/sign_out', { cookie: `baton_session=${garbageToken(r)}`, 'content-type': 'application/json' }, '{}'));
      const mode = r.int(3);
      if (mode === 0) return refused('sign in wrong', (b) => send(b, 'POST', '/users/sign_in', { 'content-type': 'application/json' }, JSON.stringify({ login: r.pick(['root', 'nobody', ...WEIRD_STRINGS]), password: garbageToken(r) })));
      if (mode === 1) { const j = json(brokenJson(r, true)); return refused('sign in broken-json', (b) => send(b, 'POST', '/users/sign_in', { 'content-type': j['content-type'] }, j.body)); }
      return refused('sign in form', (b) => send(b, 'POST', '/users/sign_in', { 'content-type': 'application/x-www-form-urlencoded', origin: r.pick(['https://evil.example', 'null']) },
        `user[login]=root&user[password]=${encodeURIComponent(garbageToken(r))}&redirect_to=//evil.example`));
    },
  ];
}

/**
 * The dashboard's pages (GET routes outside the APIs): with a wrong or no credential they
 * answer the sign-in redirect (or 401/404), with the admin token they render; ids that name
 * nothing, hostile queries and `Range` headers on the raw log must still never answer 5xx.
 */
export function pageGenerators(c: Creds, routes: AppRoute[]): Array<(r: Rng) => FuzzCase> {
  const pages = routes.filter((x) => x.method === 'GET' && x.permission === undefined && !/^\/(api|ci|-|swagger|metrics)(\/|$)/.test(x.path));
  if (pages.length === 0) return [];
  const fill = (r: Rng, template: string, good: boolean) => template
    .replace(':namespace/:project', good ? (c.projectPath ?? 'root/none') : r.pick(['nobody/none', '..%2F..', '%00/x', 'a'.repeat(300) + '/b']))
    .replace(':pipeline_id', good ? String(c.pipelineId) : r.pick(BAD_IDS))
    .replace(':job_id', good ? String(c.jobV1) : r.pick(BAD_IDS))
    .replace(':file', good ? r.pick(['favicon.svg', 'nope.js']) : r.pick(['../../etc/passwd', '%2e%2e%2fbaton.db', '.', 'x'.repeat(500)]));
  const QUERIES = ['', '?page=-1', '?page=abc', '?status=%ff', '?ref=../../x', '?per_page=1e9', '?offset=-5', '?offset=99999999999', '?' + 'x=1&'.repeat(2000)];
  return [
    (r) => {
      const route = r.pick(pages);
      const path = fill(r, route.path, r.int(2) === 0) + r.pick(QUERIES);
      const headers = r.pick<Record<string, string>>([{}, { cookie: `baton_session=${garbageToken(r)}` }, { 'PRIVATE-TOKEN': garbageToken(r) }]);
      // public pages (sign-in, assets) may answer 200 to anyone; the rest must not show anything
      const open = route.path === '/users/sign_in' || route.path.startsWith('/assets/');
      return { kind: 'page anonymous', expect: open ? 'may-succeed' : 'refused', send: (b) => send(b, 'GET', path, headers) };
    },
    (r) => {
      const route = r.pick(pages);
      const path = fill(r, route.path, r.int(3) !== 0) + r.pick(QUERIES);
      const headers: Record<string, string> = { 'PRIVATE-TOKEN': ADMIN_TOKEN };
      if (route.path.endsWith('/raw')) headers.range = r.pick(['bytes=0-10', 'bytes=-5', 'bytes=999999999-', 'bytes=5-1', 'bytes=abc', 'lines=1-2']);
      return { kind: 'page admin', expect: 'may-succeed', send: (b) => send(b, 'GET', path, headers) };
    },
  ];
}
