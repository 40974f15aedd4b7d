/**
 * What the forge modules share: reading the delivered JSON out of a JSON or form body,
 * HMAC-SHA256 checks in constant time, and field access that fails with a 400 naming the
 * field. A forge module only verifies and normalises; it never touches the database.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest } from '../../errors';
import { safeEqual } from '../../tokens';
import type { CommitInfo } from '../../pipeline-creation';
import type { Normalised, PushSource } from '../push-event';

export type Verdict = 'ok' | 'missing' | 'mismatch';

export interface ForgeModule {
  source: PushSource;
  /** told by the headers alone */
  matches(h: Headers): boolean;
  /** the event name the sender gave */
  event(h: Headers): string;
  /** checks the delivery against the project's secret, on the bytes as received */
  verify(h: Headers, raw: Uint8Array, secret: string): Verdict;
  normalise(h: Headers, doc: Record<string, unknown>): Normalised;
  /** the sender's id of this delivery (stable across its redeliveries), if it has one */
  deliveryId(h: Headers, n: Normalised): string | null;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON text of a delivery: the body itself, or the `payload` field of a form body. */
export function payloadText(h: Headers, raw: Uint8Array): string {
  let text: string;
  try { text = UTF8.decode(raw); } catch { throw badRequest('400 Bad request - the payload is not valid UTF-8'); }
  if ((h.get('content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw badRequest('400 Bad request - payload is missing (a form delivery carries the JSON in the "payload" field)');
    return payload;
  }
  return text;
}

export function parsePayload(text: string): Record<string, unknown> {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch { throw badRequest('400 Bad request - the payload is not valid JSON'); }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw badRequest('400 Bad request - the payload must be a JSON object');
  return doc as Record<string, unknown>;
}

/** HMAC-SHA256 of `data` under `secret`, compared with a presented hex digest in constant time. */
export function hmacMatches(secret: string, data: Uint8Array | string, presentedHex: string): boolean {
  const want = createHmac('sha256', secret).update(data).digest();
  if (!/^[0-9a-f]{64}$/i.test(presentedHex)) return false;
  return timingSafeEqual(want, Buffer.from(presentedHex, 'hex'));
}

/** A shared secret sent in plain text (GitLab's X-Gitlab-Token). */
export function tokenVerdict(presented: string | null, secret: string): Verdict {
  if (presented === null || presented === '') return 'missing';
  return secret !== '' && safeEqual(presented, secret) ? 'ok' : 'mismatch';
}

/** A header with a value; an empty header counts as absent (Gitea sends empty signatures when it has no secret). */
export function header(h: Headers, name: string): string | null {
  const v = h.get(name);
  return v === null || v.trim() === '' ? null : v.trim();
}

// ---- fields, each failure naming its path

type Doc = Record<string, unknown>;

export function str(doc: Doc, key: string, path = key): string {
  const v = doc[key];
  if (v === undefined || v === null) throw badRequest(`400 Bad request - ${path} is missing`);
  if (typeof v !== 'string') throw badRequest(`400 Bad request - ${path} is invalid: expected a string`);
  return v;
}

export function optStr(doc: Doc, key: string, path = key): string | null {
  const v = doc[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw badRequest(`400 Bad request - ${path} is invalid: expected a string`);
  return v;
}

export function optObj(doc: Doc, key: string, path = key): Doc | null {
  const v = doc[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`400 Bad request - ${path} is invalid: expected an object`);
  return v as Doc;
}

export function optArr(doc: Doc, key: string, path = key): Doc[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest(`400 Bad request - ${path} is invalid: expected an array`);
  return v.map((x, i) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw badRequest(`400 Bad request - ${path}[${i}] is invalid: expected an object`);
    return x as Doc;
  });
}

export function optNum(doc: Doc, key: string): number | undefined {
  const v = doc[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/i;

/** A commit id: 40 (SHA-1) or 64 (SHA-256) hex digits. */
export function sha(doc: Doc, key: string, path = key): string {
  const v = str(doc, key, path);
  if (!SHA.test(v)) throw badRequest(`400 Bad request - ${path} is invalid: expected a full commit sha, got "${v.slice(0, 80)}"`);
  return v.toLowerCase();
}

/** A pushed ref must be a full ref name. */
export function fullRef(doc: Doc, key = 'ref'): string {
  const v = str(doc, key);
  if (!/^refs\/[^\x00-\x20]+$/.test(v) || v.length > 1024) throw badRequest(`400 Bad request - ${key} is invalid: expected a full ref such as refs/heads/main, got "${v.slice(0, 80)}"`);
  return v;
}

/** A commit object of a payload (`head_commit`, an entry of `commits`) → CommitInfo. */
export function commitInfo(c: Doc, path: string): CommitInfo {
  const author = optObj(c, 'author', `${path}.author`) ?? {};
  return {
    message: optStr(c, 'message', `${path}.message`) ?? '',
    authorName: optStr(author, 'name', `${path}.author.name`) ?? '',
    authorEmail: optStr(author, 'email', `${path}.author.email`) ?? '',
    timestamp: optStr(c, 'timestamp', `${path}.timestamp`) ?? '',
  };
}
