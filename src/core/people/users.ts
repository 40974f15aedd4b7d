/**
 * Users: accounts with GitLab's validation rules, passwords hashed with argon2id
 * (Bun.password, never stored or logged in clear), the blocked state, and the built-in
 * admin `root` whose bootstrap token is the admin token (tokens.ts).
 *
 * A username is also a namespace (`<username>/<project>`), so it follows the path rule, may
 * not be a reserved word of the web paths, and may not take a namespace other people's
 * projects already live in; renaming a user moves the projects of their namespace.
 */
import { and, desc, eq, or, sql, type SQL } from 'drizzle-orm';
import { sessions, settings, users, type User } from '../../db/schema';
import type { CoreDeps } from '../context';
import { conflict, DomainError, forbidden, invalid, notFound } from '../errors';
import { isValidPath, likePattern, PATH_RULE, type ProjectService } from '../projects';
import { randomToken } from '../tokens';

/** Devise's defaults, as GitLab uses them. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/**
 * Names that are web paths of Baton (or GitLab), so no user or namespace may be called so:
 * `/<namespace>/<project>` pages must never shadow them.
 */
export const RESERVED_NAMES = new Set([
  '-', 'admin', 'api', 'assets', 'ci', 'dashboard', 'explore', 'groups', 'health', 'help', 'login', 'logout',
  'oauth', 'profile', 'projects', 'public', 'runners', 'search', 'swagger', 'uploads', 'user', 'users',
]);

export interface UserInput {
  username: string;
  name: string;
  email?: string | null;
  password?: string;
  /** no password known to anyone: the user signs in only after an admin sets one (tokens work) */
  forceRandomPassword?: boolean;
  admin?: boolean;
}

export interface UserFilter {
  username?: string;
  /** username, name (and email, for admins) contain this */
  search?: string;
  searchEmail?: boolean;
  state?: 'active' | 'blocked';
}

const ROOT_SETTING = 'root_user_id';

export function readSetting(db: CoreDeps['db'], key: string): string | undefined {
  return db.select({ value: settings.value }).from(settings).where(eq(settings.key, key)).get()?.value;
}

export function writeSetting(db: CoreDeps['db'], key: string, value: string | null) {
  if (value === null) db.delete(settings).where(eq(settings.key, key)).run();
  else db.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();
}

function checkUsername(username: string) {
  if (!isValidPath(username)) throw invalid('username', PATH_RULE);
  if (RESERVED_NAMES.has(username.toLowerCase())) throw invalid('username', 'is a reserved name');
}

function checkName(name: string) {
  if (name.trim() === '') throw invalid('name', "can't be blank");
  if (name.length > 255) throw invalid('name', 'is too long (maximum is 255 characters)');
}

function checkEmail(email: string) {
  if (email.length > 255 || !/^[^@\s]+@[^@\s]+$/.test(email)) throw invalid('email', 'is invalid');
}

export function checkPassword(password: string) {
  if (password.length < PASSWORD_MIN) throw invalid('password', `is too short (minimum is ${PASSWORD_MIN} characters)`);
  if (password.length > PASSWORD_MAX) throw invalid('password', `is too long (maximum is ${PASSWORD_MAX} characters)`);
}

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: 'argon2id' });
}

const byIdQuery = (db: CoreDeps['db']) => db.select().from(users).where(eq(users.id, sql.placeholder('id'))).prepare();

export class UserService {
  constructor(private deps: CoreDeps, private projects: ProjectService) {}

  private get db() { return this.deps.db; }
  private rootCache?: number;

  /** The built-in admin, created on first use (a fresh or pre-users data dir). Its projects are `root/…`. */
  ensureRoot(): User {
    const id = this.rootId();
    const found = id === undefined ? null : this.find(id);
    if (found) return found;
    const existing = this.findByUsername('root');
    const root = existing ?? this.db.insert(users).values({
      username: 'root', name: 'Administrator', email: null, passwordHash: null, admin: true, createdAt: this.deps.clock.now(),
    }).returning().get();
    writeSetting(this.db, ROOT_SETTING, String(root.id));
    this.rootCache = root.id;
    return root;
  }

  /** The built-in admin's id (it never changes once made). */
  rootId(): number | undefined {
    if (this.rootCache === undefined) {
      const v = readSetting(this.db, ROOT_SETTING);
      if (v !== undefined) this.rootCache = Number(v);
    }
    return this.rootCache;
  }

  /** by id, prepared once (every request and pipeline reads it: bench P3) */
  private byId?: ReturnType<typeof byIdQuery>;
  find(id: number): User | null {
    if (!Number.isSafeInteger(id)) return null;
    return (this.byId ??= byIdQuery(this.db)).get({ id }) ?? null;
  }

  get(id: number): User {
    const u = this.find(id);
    if (!u) throw notFound('User');
    return u;
  }

  findByUsername(username: string): User | null {
    return this.db.select().from(users).where(eq(sql`lower(${users.username})`, username.toLowerCase())).get() ?? null;
  }

  /** Sign-in names a user by username or by email, case-insensitively. */
  findByLogin(login: string): User | null {
    const l = login.toLowerCase();
    return this.db.select().from(users).where(or(eq(sql`lower(${users.username})`, l), eq(sql`lower(${users.email})`, l))).get() ?? null;
  }

  list(offset: number, limit: number, filter: UserFilter = {}): { rows: User[]; total: number } {
    const where: SQL[] = [];
    if (filter.username !== undefined) where.push(eq(sql`lower(${users.username})`, filter.username.toLowerCase()));
    if (filter.state) where.push(eq(users.state, filter.state));
    if (filter.search) {
      const p = likePattern(filter.search);
      const fields = [sql`lower(${users.username}) LIKE ${p} ESCAPE '\\'`, sql`lower(${users.name}) LIKE ${p} ESCAPE '\\'`];
      if (filter.searchEmail) fields.push(sql`lower(${users.email}) LIKE ${p} ESCAPE '\\'`);
      where.push(or(...fields)!);
    }
    const cond = where.length ? and(...where) : undefined;
    return {
      rows: this.db.select().from(users).where(cond).orderBy(desc(users.id)).limit(limit).offset(offset).all(),
      total: this.db.select({ n: sql<number>`count(*)` }).from(users).where(cond).get()!.n,
    };
  }

  async create(input: UserInput): Promise<User> {
    checkUsername(input.username);
    checkName(input.name);
    const email = input.email?.trim() || null;
    if (email !== null) checkEmail(email);
    if (input.password === undefined && !input.forceRandomPassword) {
      throw new DomainError('bad_request', '400 Bad request - password, force_random_password are missing, at least one parameter must be provided');
    }
    if (input.password !== undefined) checkPassword(input.password);
    this.checkFree(input.username, email);
    // Hashing first (it takes tens of milliseconds, off the event loop), writing after.
    const passwordHash = await hashPassword(input.password ?? randomToken('', 32));
    this.checkFree(input.username, email);
    return this.unique(() => this.db.insert(users).values({
      username: input.username, name: input.name, email, passwordHash, admin: input.admin ?? false, createdAt: this.deps.clock.now(),
    }).returning().get());
  }

  /**
   * An admin's edit. Renaming moves the user's namespace; a new password ends the user's
   * sign-in sessions (tokens stay). The built-in root keeps its admin right.
   */
  async update(id: number, input: Partial<UserInput>): Promise<User> {
    const user = this.get(id);
    if (input.username !== undefined && input.username !== user.username) checkUsername(input.username);
    if (input.name !== undefined) checkName(input.name);
    const email = input.email === undefined ? undefined : input.email?.trim() || null;
    if (email) checkEmail(email);
    if (input.password !== undefined) checkPassword(input.password);
    if (input.admin === false && id === this.rootId()) throw forbidden('403 Forbidden - the built-in root user stays an administrator (it owns the bootstrap admin token)');
    const renamed = input.username !== undefined && input.username.toLowerCase() !== user.username.toLowerCase();
    this.checkFree(renamed ? input.username! : undefined, email && email.toLowerCase() !== user.email?.toLowerCase() ? email : null, id);
    const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
    return this.unique(() => this.db.transaction((tx) => {
      const set: Partial<User> = {};
      if (input.username !== undefined) set.username = input.username;
      if (input.name !== undefined) set.name = input.name;
      if (email !== undefined) set.email = email;
      if (input.admin !== undefined) set.admin = input.admin;
      if (passwordHash !== undefined) set.passwordHash = passwordHash;
      if (Object.keys(set).length) tx.update(users).set(set).where(eq(users.id, id)).run();
      if (renamed) this.projects.renameNamespace(user.username, input.username!);
      if (passwordHash !== undefined) tx.delete(sessions).where(eq(sessions.userId, id)).run();
      return tx.select().from(users).where(eq(users.id, id)).get()!;
    }));
  }

  /** Removes the user with their tokens, sessions and memberships; their projects stay (admins see them). */
  delete(id: number, by: { userId: number }) {
    this.get(id);
    if (id === this.rootId()) throw forbidden('403 Forbidden - the built-in root user cannot be deleted (it owns the bootstrap admin token)');
    if (id === by.userId) throw forbidden('403 Forbidden - you cannot delete yourself');
    this.db.delete(users).where(eq(users.id, id)).run();
  }

  /** GitLab answers `true` when the state is now blocked (also when it already was). */
  block(id: number, by: { userId: number }): boolean {
    this.get(id);
    if (id === by.userId) throw forbidden('403 Forbidden - The API initiating user cannot be blocked by the API');
    if (id === this.rootId()) throw forbidden('403 Forbidden - the built-in root user cannot be blocked (it owns the bootstrap admin token)');
    this.db.transaction((tx) => {
      tx.update(users).set({ state: 'blocked' }).where(eq(users.id, id)).run();
      // Its sessions end now; its tokens stay but are refused while it is blocked.
      tx.delete(sessions).where(eq(sessions.userId, id)).run();
    });
    return true;
  }

  /** `true` when the user was blocked and is active again, `false` when it was not blocked. */
  unblock(id: number): boolean {
    const user = this.get(id);
    if (user.state !== 'blocked') return false;
    this.db.update(users).set({ state: 'active' }).where(eq(users.id, id)).run();
    return true;
  }

  /** Devise's trackable rule, as GitLab shows it: last = the previous sign-in (the first time: this one). */
  recordSignIn(user: User) {
    const now = this.deps.clock.now();
    this.db.update(users).set({ lastSignInAt: user.currentSignInAt ?? now, currentSignInAt: now }).where(eq(users.id, user.id)).run();
  }

  /** 409 when the username or email belongs to someone else (or the username is a namespace in use). */
  private checkFree(username: string | undefined, email: string | null, self?: number) {
    if (username !== undefined) {
      const other = this.findByUsername(username);
      if ((other && other.id !== self) || (!other && this.projects.namespaceSpelling(username) !== null)) throw conflict('Username has already been taken');
    }
    if (email) {
      const other = this.db.select({ id: users.id }).from(users).where(eq(sql`lower(${users.email})`, email.toLowerCase())).get();
      if (other && other.id !== self) throw conflict('Email has already been taken');
    }
  }

  /** A race lost to another request between the check and the write is the same 409. */
  private unique<T>(write: () => T): T {
    try {
      return write();
    } catch (e) {
      const msg = (e as Error).message ?? '';
      if (/UNIQUE constraint failed/.test(msg) || (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw conflict(/email/.test(msg) ? 'Email has already been taken' : 'Username has already been taken');
      }
      throw e;
    }
  }
}
