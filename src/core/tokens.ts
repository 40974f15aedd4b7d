/**
 * Secrets: generated from a cryptographic source, stored as sha256 where they need not be
 * shown again, compared in constant time. Tokens carry GitLab-style prefixes so they can
 * be recognised (and masked) inside job logs.
 */
import { createHash, hash as oneShotHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = { runner: 'glrt-', job: 'glcbt-', registration: 'GR1348941', project: 'GR1348941', admin: 'glpat-', trigger: 'glptt-' } as const;

/** URL-safe random text; 20 bytes ≈ 160 bits. */
export function randomToken(prefix = '', bytes = 20): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

/** 160 random bits as hex: what a forge's "secret" field gets (webhook secrets, GitLab's trigger-token shape). */
export function randomHex(bytes = 20): string {
  return randomBytes(bytes).toString('hex');
}

/** sha256 hex; the one-shot form, ~4× cheaper than a hasher object (it runs on every PATCH). */
export function hashToken(token: string): string {
  return oneShotHash('sha256', token, 'hex');
}

/** Does a presented token hash to this stored hash? Constant-time, one sha256. */
export function matchesHash(stored: string | null, token: string): boolean {
  if (stored === null) return false;
  const a = Buffer.from(stored, 'latin1');
  const b = Buffer.from(hashToken(token), 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time equality of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** Job tokens have a fixed shape so a log can be scanned for them: prefix + 27 base64url chars. */
export const JOB_TOKEN_PATTERN = /glcbt-[A-Za-z0-9_-]{27}/g;
