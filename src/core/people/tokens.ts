/**
 * Personal access tokens (`glpat-…`): made for a user with scopes `api` (everything the
 * user may do) or `read_api` (only reads), optionally expiring at midnight UTC of a date.
 * The token is shown once; only its sha256 is kept, found by an exact index lookup and
 * compared in constant time (../tokens.ts). `last_used_at` is written at most once a minute.
 *
 * The admin token is one of them: the bootstrap token of the built-in root user, made or
 * pinned at start (`--admin-token`), rotated by `baton tokens --rotate-admin`. Data dirs from
 * before users existed kept its hash in `settings`; it becomes this token unchanged.
 */
import { and, desc, eq, isNull, or, sql, type SQL } from 'drizzle-orm';
import { personalAccessTokens, users, type PersonalAccessToken, type User } from '../../db/schema';
import type { CoreDeps } from '../context';
import { badRequest, invalid, notFound } from '../errors';
import { likePattern } from '../projects';
import { hashToken, randomToken, safeEqual, TOKEN_PREFIX } from '../tokens';
import { atomically } from '../tx';
import { readSetting, writeSetting, type UserService } from './users';

/** The scopes Baton knows; GitLab's others (sudo, read_repository, …) are refused by name. */
export const SCOPES = ['api', 'read_api'] as const;
export type Scope = (typeof SCOPES)[number];

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap admin token';
const BOOTSTRAP_SETTING = 'bootstrap_token_id';
/** Where data dirs from before users kept the admin token's hash. */
const LEGACY_ADMIN_HASH = 'admin_token_hash';
const LAST_USED_THROTTLE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface TokenInput {
  name: string;
  scopes: string[];
  /** `YYYY-MM-DD`; null/undefined = never */
  expiresAt?: string | null;
}

export interface TokenFilter {
  userId?: number;
  revoked?: boolean;
  /** active = neither revoked nor expired */
  state?: 'active' | 'inactive';
  search?: string;
}

/** Why a presented token was refused (GitLab tells expired and revoked apart). */
export type TokenRefusal = 'unknown' | 'expired' | 'revoked';

export type TokenAuth = { ok: true; token: PersonalAccessToken; user: User } | { ok: false; why: TokenRefusal };

/** `2026-03-01` → midnight UTC of that day; anything else (or an impossible date) → NaN. */
export function parseDate(raw: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  if (!m) return NaN;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().startsWith(raw) ? ms : NaN;
}

/** A date in a request that must lie after today (UTC): the thing it limits ends at its midnight. */
export function futureDate(field: string, raw: string | null | undefined, now: number): number | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const ms = parseDate(raw);
  if (Number.isNaN(ms)) throw badRequest(`${field} is invalid: expected a date such as 2030-01-31`);
  if (ms <= Math.floor(now / DAY_MS) * DAY_MS) throw invalid(field, 'must be a date after today');
  return ms;
}

export function isExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt <= now;
}

/** Prepared once: every token-authenticated request runs it. */
const byHash = (db: CoreDeps['db']) => db.select({ token: personalAccessTokens, user: users }).from(personalAccessTokens)
  .innerJoin(users, eq(users.id, personalAccessTokens.userId))
  .where(eq(personalAccessTokens.tokenHash, sql.placeholder('hash'))).prepare();

export class PersonalAccessTokenService {
  constructor(private deps: CoreDeps, private users: UserService) {}

  private get db() { return this.deps.db; }
  private q?: ReturnType<typeof byHash>;

  create(userId: number, input: TokenInput): { token: PersonalAccessToken; secret: string } {
    this.users.get(userId);
    if (input.name.trim() === '') throw invalid('name', "can't be blank");
    if (input.name.length > 255) throw invalid('name', 'is too long (maximum is 255 characters)');
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0) throw badRequest('400 Bad request - scopes is missing');
    const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown.length) {
      throw badRequest(`400 Bad request - scopes does not have a valid value: ${unknown.map((s) => `"${s}"`).join(', ')} (Baton knows ${SCOPES.join(', ')})`);
    }
    const now = this.deps.clock.now();
    const expiresAt = futureDate('expires_at', input.expiresAt, now);
    const secret = randomToken(TOKEN_PREFIX.admin);
    const token = this.db.insert(personalAccessTokens).values({
      userId, name: input.name, tokenHash: hashToken(secret), scopes, expiresAt, createdAt: now,
    }).returning().get();
    return { token, secret };
  }

  /** The token behind a presented secret, with its user, or why it is refused. */
  authenticate(secret: string): TokenAuth {
    const hash = hashToken(secret);
    const row = (this.q ??= byHash(this.db)).get({ hash });
    if (!row || !safeEqual(row.token.tokenHash, hash)) return { ok: false, why: 'unknown' };
    const now = this.deps.clock.now();
    if (row.token.revoked) return { ok: false, why: 'revoked' };
    if (isExpired(row.token.expiresAt, now)) return { ok: false, why: 'expired' };
    if (row.token.lastUsedAt === null || now - row.token.lastUsedAt >= LAST_USED_THROTTLE_MS) {
      this.db.update(personalAccessTokens).set({ lastUsedAt: now }).where(eq(personalAccessTokens.id, row.token.id)).run();
      row.token.lastUsedAt = now;
    }
    return { ok: true, token: row.token, user: row.user };
  }

  find(id: number): PersonalAccessToken | null {
    if (!Number.isSafeInteger(id)) return null;
    return this.db.select().from(personalAccessTokens).where(eq(personalAccessTokens.id, id)).get() ?? null;
  }

  get(id: number): PersonalAccessToken {
    const t = this.find(id);
    if (!t) throw notFound('Personal Access Token');
    return t;
  }

  list(offset: number, limit: number, filter: TokenFilter = {}): { rows: PersonalAccessToken[]; total: number } {
    const t = personalAccessTokens;
    const now = this.deps.clock.now();
    const where: SQL[] = [];
    if (filter.userId !== undefined) where.push(eq(t.userId, filter.userId));
    if (filter.revoked !== undefined) where.push(eq(t.revoked, filter.revoked));
    const live = and(eq(t.revoked, false), or(isNull(t.expiresAt), sql`${t.expiresAt} > ${now}`))!;
    if (filter.state === 'active') where.push(live);
    if (filter.state === 'inactive') where.push(sql`NOT (${live})`);
    if (filter.search) where.push(sql`lower(${t.name}) LIKE ${likePattern(filter.search)} ESCAPE '\\'`);
    const cond = where.length ? and(...where) : undefined;
    return {
      rows: this.db.select().from(t).where(cond).orderBy(desc(t.id)).limit(limit).offset(offset).all(),
      total: this.db.select({ n: sql<number>`count(*)` }).from(t).where(cond).get()!.n,
    };
  }

  /** Revoking is final (GitLab has no un-revoke); revoking twice changes nothing. */
  revoke(id: number) {
    this.get(id);
    this.db.update(personalAccessTokens).set({ revoked: true }).where(eq(personalAccessTokens.id, id)).run();
  }

  isActive(t: PersonalAccessToken): boolean {
    return !t.revoked && !isExpired(t.expiresAt, this.deps.clock.now());
  }

  // ---------------------------------------------------------------- the bootstrap admin token

  /**
   * Makes sure root and its bootstrap token exist. A pinned token (`--admin-token`) becomes
   * (or replaces) it; otherwise one is generated the first time and returned, to be printed once.
   */
  ensureBootstrap(pinned?: string): string | undefined {
    const root = this.users.ensureRoot();
    const current = this.bootstrapToken();
    if (pinned) {
      this.setBootstrap(root.id, hashToken(pinned), current);
      return undefined;
    }
    if (current) return undefined;
    const legacy = readSetting(this.db, LEGACY_ADMIN_HASH);
    if (legacy) {
      this.setBootstrap(root.id, legacy, null);
      writeSetting(this.db, LEGACY_ADMIN_HASH, null);
      return undefined;
    }
    const secret = randomToken(TOKEN_PREFIX.admin);
    this.setBootstrap(root.id, hashToken(secret), null);
    return secret;
  }

  /** A new bootstrap token; the old one stops working at once. */
  rotateBootstrap(): string {
    const root = this.users.ensureRoot();
    const secret = randomToken(TOKEN_PREFIX.admin);
    this.setBootstrap(root.id, hashToken(secret), this.bootstrapToken());
    return secret;
  }

  bootstrapToken(): PersonalAccessToken | null {
    const id = readSetting(this.db, BOOTSTRAP_SETTING);
    return id === undefined ? null : this.find(Number(id));
  }

  private setBootstrap(rootId: number, tokenHash: string, current: PersonalAccessToken | null) {
    const t = personalAccessTokens;
    // atomically: joins the start-up transaction of ensureTokens (instance.ts) when there is one
    atomically(this.db, () => {
      if (current) {
        this.db.update(t).set({ tokenHash, revoked: false, expiresAt: null, userId: rootId }).where(eq(t.id, current.id)).run();
      } else {
        const row = this.db.insert(t).values({
          userId: rootId, name: BOOTSTRAP_TOKEN_NAME, tokenHash, scopes: ['api'], expiresAt: null, createdAt: this.deps.clock.now(),
        }).returning().get();
        writeSetting(this.db, BOOTSTRAP_SETTING, String(row.id));
      }
    });
  }
}
