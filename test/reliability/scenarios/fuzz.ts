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
}

export interface FuzzCase {
  kind: string;
  /** `may-succeed`: a read-only call, any status < 500 is fine; else 4xx is required */
  expect: 'refused' | 'may-succeed';
  send(base: string): Promise<number>;
}

export interface FuzzReport {
  sent: number;
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

async function send(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: NonNullable<RequestInit['body']>): Promise<number> {
  const show = () => `${method} ${path.slice(0, 200)} ${JSON.stringify(headers).slice(0, 300)} ${typeof body === 'string' ? body.slice(0, 300) : body instanceof Uint8Array ? `<${body.length} bytes>` : body ? '<form>' : ''}`;
  try {
    const res = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(20_000) });
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
export function caseGenerators(c: Creds, limits: { maxTrace: number; maxArtifact: number }): Array<(r: Rng) => FuzzCase> {
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

  // ---- REST API (admin token): reads with hostile queries, writes that cannot be valid, any call with a wrong token
  const P = c.projectId;
  const restReads = [`/api/v4/projects`, `/api/v4/projects/${P}`, `/api/v4/projects/${P}/variables`, `/api/v4/projects/${P}/variables/SECRET`,
    `/api/v4/projects/${P}/pipelines`, `/api/v4/projects/${P}/pipelines/${c.pipelineId}`, `/api/v4/projects/${P}/pipelines/${c.pipelineId}/jobs`,
    `/api/v4/projects/${P}/jobs`, `/api/v4/projects/${P}/jobs/${c.jobV1}`, `/api/v4/projects/${P}/jobs/${c.jobV1}/trace`,
    `/api/v4/projects/${P}/jobs/${c.jobV1}/artifacts`, `/api/v4/runners`, `/api/v4/runners/all`, `/api/v4/projects/${P}/runners`];
  const restWrites: Array<[string, string]> = [['POST', '/api/v4/projects'], ['PUT', `/api/v4/projects/${P}`], ['DELETE', `/api/v4/projects/${P}`],
    ['POST', `/api/v4/projects/${P}/variables`], ['PUT', `/api/v4/projects/${P}/variables/SECRET`], ['DELETE', `/api/v4/projects/${P}/variables/SECRET`],
    ['POST', `/api/v4/projects/${P}/pipeline`], ['POST', `/api/v4/projects/${P}/pipelines/${c.pipelineId}/cancel`], ['POST', `/api/v4/projects/${P}/pipelines/${c.pipelineId}/retry`],
    ['DELETE', `/api/v4/projects/${P}/pipelines/${c.pipelineId}`], ['POST', `/api/v4/projects/${P}/jobs/${c.jobV1}/cancel`], ['POST', `/api/v4/projects/${P}/jobs/${c.jobV1}/retry`],
    ['POST', `/api/v4/projects/${P}/jobs/${c.jobV1}/play`], ['DELETE', `/api/v4/projects/${P}/jobs/${c.jobV1}/artifacts`], ['POST', `/api/v4/projects/${P}/jobs/${c.jobV1}/artifacts/keep`],
    ['PUT', `/api/v4/runners/1`], ['DELETE', `/api/v4/runners/1`], ['POST', `/api/v4/projects/${P}/runners`], ['DELETE', `/api/v4/projects/${P}/runners/1`]];
  const adminHeader = (r: Rng): Record<string, string> => r.pick<Record<string, string>>([{ 'PRIVATE-TOKEN': garbageToken(r) }, { authorization: `Bearer ${garbageToken(r)}` }, { authorization: `Basic ${btoa(`root:${ADMIN_TOKEN}`)}` }, {}, { 'private-token': ADMIN_TOKEN.slice(1) }]);
  gens.push((r) => {
    const path = r.pick(restReads);
    const q = r.pick(['', '?page=-1', '?per_page=abc', '?page=99999999999', '?scope[]=%00', '?scope=running&scope[]=x', '?status=%ff', '?ref=../../x', '?order_by=id;drop', '?per_page=1e9', '?' + 'x=1&'.repeat(2000)]);
    return r.int(2)
      ? readOnly('rest read', (b) => send(b, 'GET', path + q, { 'PRIVATE-TOKEN': ADMIN_TOKEN }))
      : refused('rest read wrong-admin', (b) => send(b, 'GET', path + q, adminHeader(r)));
  });
  gens.push((r) => {
    const [method, path] = r.pick(restWrites);
    const body = brokenJson(r);
    return refused('rest write wrong-admin', (b) => send(b, method, path, { ...adminHeader(r), 'content-type': 'application/json' }, method === 'DELETE' && r.int(2) ? undefined : body));
  });
  gens.push((r) => {
    // With the admin token: only bodies that cannot be valid, or ids that name nothing.
    const [method, path] = r.pick(restWrites.filter(([m]) => m !== 'DELETE'));
    const fields: Record<string, FieldType> = path.endsWith('/projects') || /projects\/\d+$/.test(path)
      ? { name: 'str', repo_url: 'str', path: 'str', build_timeout: 'int', shared_runners_enabled: 'bool', clone_with_job_token: 'bool' }
      : path.includes('variables') ? { key: 'str', value: 'str', masked: 'bool' }
        : path.endsWith('/pipeline') ? { ref: 'str', sha: 'str', content: 'str', tag: 'bool' }
          : path.includes('/runners') ? { runner_id: 'int', description: 'str', active: 'bool', tag_list: 'tags', maximum_timeout: 'int', run_untagged: 'bool' }
            : {};
    // endpoints without a body (cancel, retry, play, keep) are only called on ids that name nothing
    const mode = Object.keys(fields).length ? r.int(3) : 0;
    const badPath = path.replace(/\/(\d+)(?=\/|$)/g, () => `/${r.pick(BAD_IDS)}`);
    if (mode === 0) return refused('rest write bad-id', (b) => send(b, method, badPath, { 'PRIVATE-TOKEN': ADMIN_TOKEN, 'content-type': 'application/json' }, '{}'));
    if (mode === 1) { const j = json(brokenJson(r, true)); return refused('rest write broken-json', (b) => send(b, method, path, { 'PRIVATE-TOKEN': ADMIN_TOKEN, 'content-type': j['content-type'] }, j.body)); }
    const body = wrongType(r, {}, fields);
    // every field of the model broken at once, so no combination can be valid
    for (const f of Object.keys(fields)) body[f] = r.pick(UNFIXABLE[fields[f]] as readonly unknown[]);
    return refused('rest write wrong-type', (b) => send(b, method, path, { 'PRIVATE-TOKEN': ADMIN_TOKEN, 'content-type': 'application/json' }, JSON.stringify(body)));
  });
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
    return readOnly('public', (b) => send(b, 'GET', r.pick(['/-/health', '/api/v4/version', '/swagger', '/swagger/json']) + r.pick(['', '?%ff', '?x=' + 'y'.repeat(5000)]), { 'x-request-id': r.pick(['ok-1', '../../x', 'a'.repeat(500), '\u00ff']) }));
  });
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
  const report: FuzzReport = { sent: 0, statuses: new Map(), violations: [], byKind: new Map() };
  const cases: FuzzCase[] = Array.from({ length: opts.requests }, () => r.pick(gens)(r));
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const status = await c.send(base);
      report.sent++;
      report.statuses.set(status, (report.statuses.get(status) ?? 0) + 1);
      report.byKind.set(c.kind, (report.byKind.get(c.kind) ?? 0) + 1);
      const ok = c.expect === 'refused' ? status >= 400 && status < 500 : status >= 200 && status < 500;
      if (!ok && report.violations.length < 40) report.violations.push(`${c.kind}: ${status}`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return report;
}
