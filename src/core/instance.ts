/**
 * Instance-wide secrets and the queue epoch.
 *
 * The registration token is kept as-is (`baton tokens` shows it again); the admin token is
 * the built-in root user's bootstrap personal access token (people/tokens.ts), kept only as
 * a hash and printed once, when generated. The queue epoch is the value
 * runners get as `X-GitLab-Last-Update`: it changes whenever work may have become available
 * to some runner, so a runner echoing the current value can safely be told "nothing" (or
 * held) without a database search. It lives in the database so that two processes on one
 * data dir agree on it.
 */
import { eq, sql } from 'drizzle-orm';
import { settings } from '../db/schema';
import type { Db } from '../db/client';
import { randomToken, safeEqual, TOKEN_PREFIX } from './tokens';
import { atomically } from './tx';

const REGISTRATION = 'registration_token';
const EPOCH = 'queue_epoch';

/** Prepared once per database: every runner poll reads a setting (the epoch). */
const settingQuery = (db: Db) => db.select({ value: settings.value }).from(settings).where(eq(settings.key, sql.placeholder('key'))).prepare();

const EPOCH_CACHE_MS = 500;

/** The admin token's keeper (people/tokens.ts). */
export interface BootstrapToken {
  ensureBootstrap(pinned?: string): string | undefined;
  rotateBootstrap(): string;
}

export class InstanceService {
  constructor(private db: Db, private admin: BootstrapToken) {}

  private setting?: ReturnType<typeof settingQuery>;

  private get(key: string): string | undefined {
    return (this.setting ??= settingQuery(this.db)).get({ key })?.value;
  }

  private set(key: string, value: string) {
    this.db.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();
  }

  /**
   * Makes sure both tokens exist. Pinned values win (and replace stored ones); missing ones
   * are generated. Returns the tokens generated now, so the caller can print them once.
   */
  ensureTokens(pinned: { admin?: string; registration?: string }): { admin?: string; registration?: string } {
    // One write transaction: processes started together on a fresh data dir take turns, and
    // the second finds the root user and the tokens the first made (instead of a UNIQUE error).
    return atomically(this.db, () => this.ensureTokensNow(pinned));
  }

  private ensureTokensNow(pinned: { admin?: string; registration?: string }): { admin?: string; registration?: string } {
    const generated: { admin?: string; registration?: string } = {};
    if (pinned.registration) this.set(REGISTRATION, pinned.registration);
    else if (!this.get(REGISTRATION)) this.set(REGISTRATION, (generated.registration = randomToken(TOKEN_PREFIX.registration)));
    const admin = this.admin.ensureBootstrap(pinned.admin);
    if (admin) generated.admin = admin;
    return generated;
  }

  registrationToken(): string {
    return this.get(REGISTRATION) ?? '';
  }

  isRegistrationToken(token: string): boolean {
    const stored = this.get(REGISTRATION);
    return !!stored && safeEqual(stored, token);
  }

  rotateRegistrationToken(): string {
    const t = randomToken(TOKEN_PREFIX.registration);
    this.set(REGISTRATION, t);
    return t;
  }

  rotateAdminToken(): string {
    return this.admin.rotateBootstrap();
  }

  /**
   * Every poll reads the epoch, so it is remembered for EPOCH_CACHE_MS; a tick by this
   * process forgets it at once, a tick by another process on the same data dir is seen
   * within EPOCH_CACHE_MS (and by the dispatcher's watcher, see dispatch.ts).
   */
  private epoch?: { value: string; at: number };
  /** The highest epoch this process has seen; a higher one read from the database was another process's. */
  private known = -1;
  /** Called when the epoch moved without this process knowing why: another process made work. */
  onForeignTick: () => void = () => {};

  queueEpoch(): string {
    const now = performance.now();
    if (this.epoch && now - this.epoch.at < EPOCH_CACHE_MS) return this.epoch.value;
    return this.readEpoch();
  }

  /** The epoch as stored now, bypassing the cache. */
  readEpoch(): string {
    const value = this.get(EPOCH) ?? '0';
    this.epoch = { value, at: performance.now() };
    this.saw(Number(value), 0);
    return value;
  }

  /** Called whenever work may have become available to a runner. */
  tickQueue() {
    // drizzle's get() of raw SQL gives the row as an array of values
    const row = this.db.get<[string]>(sql`INSERT INTO settings(key, value) VALUES (${EPOCH}, '1')
      ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value`);
    this.epoch = undefined;
    this.saw(Number(row?.[0] ?? 0), 1);
  }

  /** `own` ticks of the epoch were this process's; anything beyond them was another's. */
  private saw(value: number, own: number) {
    if (!Number.isFinite(value) || value <= this.known) return;
    const foreign = this.known >= 0 && value > this.known + own;
    this.known = value;
    if (foreign) this.onForeignTick();
  }
}
