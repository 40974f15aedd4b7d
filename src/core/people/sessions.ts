/**
 * Dashboard sign-in sessions. Signing in with a username (or email) and password gives a
 * random session token (the `baton_session` cookie, see src/rest-api/sessions.ts), kept as
 * sha256 only, that expires after SESSION_IDLE_MS without use, and can be listed and revoked
 * per user. A blocked user's sessions end at once (users.ts) and are refused anyway.
 *
 * Each session carries a CSRF token, derived from its secret (HMAC-SHA256 of a constant,
 * keyed by the session token): nothing more to store, it dies with the session, and it is
 * useless without the cookie. Pages send it back in `X-CSRF-Token` on every state-changing
 * request (src/http/auth.ts checks it).
 *
 * Failed sign-ins are bounded per account and per client address: SIGN_IN_ATTEMPTS within
 * SIGN_IN_WINDOW_MS, then 429 with Retry-After until the oldest failure leaves the window.
 * The check comes before the password is hashed (no argon2 work for a limited caller); a
 * successful sign-in clears the account's count, not the address's (else one's own account
 * would reset a guessing run against others). The counters live in memory (bounded), per process.
 */
import { createHmac } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import { sessions, users, type Session, type User } from '../../db/schema';
import type { CoreDeps } from '../context';
import { DomainError, forbidden } from '../errors';
import { hashToken, randomToken, safeEqual } from '../tokens';
import { hashPassword, PASSWORD_MAX, type UserService } from './users';

export const SESSION_COOKIE = 'baton_session';
/** GitLab's default session_expire_delay: a week without use. */
export const SESSION_IDLE_MS = 7 * 86_400_000;
export const SIGN_IN_ATTEMPTS = 5;
export const SIGN_IN_WINDOW_MS = 15 * 60_000;
const TOUCH_THROTTLE_MS = 60_000;
/** Failure windows remembered at most (per kind); the oldest are forgotten beyond. */
const LIMITER_CAP = 50_000;

export interface SignInInput {
  /** username or email */
  login: string;
  password: string;
  /** the client's address, for the per-address limit and the session list */
  address?: string;
  userAgent?: string;
}

export interface SignedIn {
  user: User;
  session: Session;
  /** the cookie's value: shown to the browser once, stored as a hash */
  token: string;
  csrfToken: string;
}

/** Recent failure times per key, at most `max` of them, forgetting the oldest keys beyond `cap`. */
export class FailureWindow {
  private failures = new Map<string, number[]>();
  constructor(private max: number, private windowMs: number, private cap = LIMITER_CAP) {}

  /** Milliseconds until `key` may try again; 0 = now. */
  wait(key: string, now: number): number {
    const recent = this.recent(key, now);
    return recent.length < this.max ? 0 : recent[0] + this.windowMs - now;
  }

  fail(key: string, now: number) {
    const recent = [...this.recent(key, now), now].slice(-this.max);
    this.failures.delete(key);
    this.failures.set(key, recent);
    if (this.failures.size > this.cap) this.failures.delete(this.failures.keys().next().value!);
  }

  reset(key: string) {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }
}

/** Prepared once: every cookie-authenticated request runs it. */
const byHash = (db: CoreDeps['db']) => db.select({ session: sessions, user: users }).from(sessions)
  .innerJoin(users, eq(users.id, sessions.userId))
  .where(eq(sessions.tokenHash, sql.placeholder('hash'))).prepare();

export class SessionService {
  private byAccount = new FailureWindow(SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW_MS);
  private byAddress = new FailureWindow(SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW_MS);
  private dummyHash?: Promise<string>;
  private q?: ReturnType<typeof byHash>;

  constructor(private deps: CoreDeps, private users: UserService) {}

  private get db() { return this.deps.db; }

  /**
   * A new session for the right login and password. 401 for a wrong one (the same answer,
   * after the same work, whether or not the account exists), 403 for a blocked account,
   * 429 with `retryAfter` (seconds) while the account or the address is over the limit.
   */
  async signIn(input: SignInInput): Promise<SignedIn> {
    const now = this.deps.clock.now();
    const found = input.login.length <= 255 ? this.users.findByLogin(input.login) : null;
    const account = found ? `user:${found.id}` : `login:${input.login.toLowerCase().slice(0, 255)}`;
    const address = input.address ?? 'unknown';
    const wait = Math.max(this.byAccount.wait(account, now), this.byAddress.wait(address, now));
    if (wait > 0) {
      const retryAfter = Math.ceil(wait / 1000);
      throw new DomainError('rate_limited', `429 Too Many Requests - too many failed sign-ins for this account or from this address; try again in ${retryAfter} s`, {
        retryAfter, headers: { 'Retry-After': String(retryAfter) },
      });
    }
    // An over-long password is wrong without hashing it; a user without a password verifies against the dummy.
    const verified = input.password.length <= PASSWORD_MAX
      && await Bun.password.verify(input.password, found?.passwordHash ?? await this.dummy());
    if (!verified || !found || found.passwordHash === null) {
      const at = this.deps.clock.now();
      this.byAccount.fail(account, at);
      this.byAddress.fail(address, at);
      throw new DomainError('unauthorized', '401 Unauthorized - Invalid login or password.');
    }
    if (found.state === 'blocked') throw forbidden('403 Forbidden - Your account has been blocked.');
    this.byAccount.reset(account);
    const token = randomToken('', 32);
    const at = this.deps.clock.now();
    const session = this.db.insert(sessions).values({
      userId: found.id, tokenHash: hashToken(token), createdAt: at, lastUsedAt: at, expiresAt: at + SESSION_IDLE_MS,
      ipAddress: input.address ?? null, userAgent: input.userAgent?.slice(0, 255) ?? null,
    }).returning().get();
    this.users.recordSignIn(found);
    return { user: this.users.get(found.id), session, token, csrfToken: this.csrfToken(token) };
  }

  /** The live session behind a cookie, with its user; null when unknown or expired. Use moves the expiry on. */
  authenticate(token: string): { session: Session; user: User } | null {
    const hash = hashToken(token);
    const row = (this.q ??= byHash(this.db)).get({ hash });
    if (!row || !safeEqual(row.session.tokenHash, hash)) return null;
    const now = this.deps.clock.now();
    if (row.session.expiresAt <= now) {
      this.db.delete(sessions).where(eq(sessions.id, row.session.id)).run();
      return null;
    }
    if (now - row.session.lastUsedAt >= TOUCH_THROTTLE_MS) {
      const expiresAt = now + SESSION_IDLE_MS;
      this.db.update(sessions).set({ lastUsedAt: now, expiresAt }).where(eq(sessions.id, row.session.id)).run();
      Object.assign(row.session, { lastUsedAt: now, expiresAt });
    }
    return row;
  }

  /** The session's CSRF token (what pages send back in X-CSRF-Token). */
  csrfToken(token: string): string {
    return createHmac('sha256', token).update('baton-csrf-v1').digest('base64url');
  }

  checkCsrf(token: string, presented: string | null | undefined): boolean {
    return !!presented && safeEqual(this.csrfToken(token), presented);
  }

  /** Ends the session of this cookie (nothing happens for an unknown one). */
  signOut(token: string) {
    this.db.delete(sessions).where(eq(sessions.tokenHash, hashToken(token))).run();
  }

  /** A user's live sessions, newest first. */
  list(userId: number): Session[] {
    const now = this.deps.clock.now();
    return this.db.select().from(sessions).where(and(eq(sessions.userId, userId), sql`${sessions.expiresAt} > ${now}`)).orderBy(desc(sessions.id)).all();
  }

  /** Ends one of a user's sessions; false when the user has no such session. */
  revoke(userId: number, sessionId: number): boolean {
    return this.db.delete(sessions).where(and(eq(sessions.userId, userId), eq(sessions.id, sessionId))).returning({ id: sessions.id }).all().length > 0;
  }

  revokeAll(userId: number) {
    this.db.delete(sessions).where(eq(sessions.userId, userId)).run();
  }

  /** Sessions past their expiry (the reaper may call this; lookups refuse them anyway). */
  sweep(): number {
    return this.db.delete(sessions).where(sql`${sessions.expiresAt} <= ${this.deps.clock.now()}`).returning({ id: sessions.id }).all().length;
  }

  /** A hash to verify against when the login names nobody, so both cases take the same time. */
  private dummy(): Promise<string> {
    return (this.dummyHash ??= hashPassword(randomToken('', 16)));
  }
}
