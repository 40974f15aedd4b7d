/**
 * Project members with GitLab's access levels. Who may change members at all is the
 * route's permission (`admin_project`, Maintainer); the two finer rules GitLab has live
 * here: only an Owner (or an admin) may add, change or remove an Owner, and a project
 * always keeps one Owner once it has one. A membership may end at a date (`expires_at`).
 */
import { and, asc, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import { members, users, type Member, type Project, type User } from '../../db/schema';
import type { CoreDeps } from '../context';
import { badRequest, conflict, forbidden, notFound } from '../errors';
import { likePattern } from '../projects';
import { ACCESS_LEVEL, type AccessService, type Actor } from './access';
import { futureDate } from './tokens';
import type { UserService } from './users';

const LEVELS: readonly number[] = [ACCESS_LEVEL.guest, ACCESS_LEVEL.reporter, ACCESS_LEVEL.developer, ACCESS_LEVEL.maintainer, ACCESS_LEVEL.owner];

export interface MemberRow { member: Member; user: User }

export interface MemberInput {
  userId?: number;
  username?: string;
  accessLevel: number;
  /** `YYYY-MM-DD`; null = never */
  expiresAt?: string | null;
}

export interface MemberFilter {
  /** username or name contains */
  query?: string;
  userIds?: number[];
}

function checkLevel(level: number) {
  if (!LEVELS.includes(level)) {
    throw badRequest('400 Bad request - access_level does not have a valid value (10 Guest, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner)');
  }
}

export class MemberService {
  constructor(private deps: CoreDeps, private users: UserService, private access: AccessService) {}

  private get db() { return this.deps.db; }

  /** Direct members, by access level (highest first) then username. */
  list(project: Project, offset: number, limit: number, filter: MemberFilter = {}): { rows: MemberRow[]; total: number } {
    const where: SQL[] = [eq(members.projectId, project.id), this.live()];
    if (filter.query) {
      const p = likePattern(filter.query);
      where.push(or(sql`lower(${users.username}) LIKE ${p} ESCAPE '\\'`, sql`lower(${users.name}) LIKE ${p} ESCAPE '\\'`)!);
    }
    if (filter.userIds?.length) where.push(inArray(members.userId, filter.userIds));
    const cond = and(...where);
    const rows = this.db.select({ member: members, user: users }).from(members).innerJoin(users, eq(users.id, members.userId))
      .where(cond).orderBy(sql`${members.accessLevel} DESC`, asc(users.username)).limit(limit).offset(offset).all();
    const total = this.db.select({ n: sql<number>`count(*)` }).from(members).innerJoin(users, eq(users.id, members.userId)).where(cond).get()!.n;
    return { rows, total };
  }

  get(project: Project, userId: number): MemberRow {
    const row = Number.isSafeInteger(userId)
      ? this.db.select({ member: members, user: users }).from(members).innerJoin(users, eq(users.id, members.userId))
        .where(and(eq(members.projectId, project.id), eq(members.userId, userId), this.live())).get()
      : undefined;
    if (!row) throw notFound('Member');
    return row;
  }

  add(actor: Actor, project: Project, input: MemberInput): MemberRow {
    checkLevel(input.accessLevel);
    const user = input.userId !== undefined ? this.users.find(input.userId)
      : input.username !== undefined ? this.users.findByUsername(input.username) : null;
    if (input.userId === undefined && input.username === undefined) throw badRequest('400 Bad request - user_id is missing');
    if (!user) throw notFound('User');
    const now = this.deps.clock.now();
    const expiresAt = futureDate('expires_at', input.expiresAt, now);
    this.checkOwnerRule(actor, project, input.accessLevel);
    const existing = this.db.select().from(members).where(and(eq(members.projectId, project.id), eq(members.userId, user.id))).get();
    if (existing && (existing.expiresAt === null || existing.expiresAt > now)) throw conflict('Member already exists');
    // An expired membership is replaced, as if it had been removed.
    this.db.insert(members).values({ projectId: project.id, userId: user.id, accessLevel: input.accessLevel, createdAt: now, createdBy: actor.userId, expiresAt })
      .onConflictDoUpdate({ target: [members.projectId, members.userId], set: { accessLevel: input.accessLevel, createdAt: now, createdBy: actor.userId, expiresAt } }).run();
    return this.get(project, user.id);
  }

  update(actor: Actor, project: Project, userId: number, input: { accessLevel?: number; expiresAt?: string | null }): MemberRow {
    const current = this.get(project, userId);
    if (input.accessLevel !== undefined) checkLevel(input.accessLevel);
    const expiresAt = input.expiresAt === undefined ? undefined : futureDate('expires_at', input.expiresAt, this.deps.clock.now());
    const level = input.accessLevel ?? current.member.accessLevel;
    if (current.member.accessLevel === ACCESS_LEVEL.owner || level === ACCESS_LEVEL.owner) this.checkOwnerRule(actor, project, ACCESS_LEVEL.owner);
    if (current.member.accessLevel === ACCESS_LEVEL.owner && level !== ACCESS_LEVEL.owner) this.checkNotLastOwner(project, userId);
    this.db.update(members).set({ accessLevel: level, ...(expiresAt !== undefined ? { expiresAt } : {}) })
      .where(and(eq(members.projectId, project.id), eq(members.userId, userId))).run();
    return this.get(project, userId);
  }

  remove(actor: Actor, project: Project, userId: number) {
    const current = this.get(project, userId);
    if (current.member.accessLevel === ACCESS_LEVEL.owner) {
      this.checkOwnerRule(actor, project, ACCESS_LEVEL.owner);
      this.checkNotLastOwner(project, userId);
    }
    this.db.delete(members).where(and(eq(members.projectId, project.id), eq(members.userId, userId))).run();
  }

  private checkOwnerRule(actor: Actor, project: Project, level: number) {
    if (level === ACCESS_LEVEL.owner && this.access.accessLevel(actor, project) < ACCESS_LEVEL.owner) {
      throw forbidden('403 Forbidden - only an Owner may add, change or remove an Owner');
    }
  }

  private checkNotLastOwner(project: Project, leaving: number) {
    const others = this.db.select({ n: sql<number>`count(*)` }).from(members)
      .where(and(eq(members.projectId, project.id), eq(members.accessLevel, ACCESS_LEVEL.owner), sql`${members.userId} <> ${leaving}`, this.live())).get()!.n;
    if (others === 0) throw forbidden('403 Forbidden - a project keeps at least one Owner: make another member Owner first');
  }

  private live(): SQL {
    return or(isNull(members.expiresAt), sql`${members.expiresAt} > ${this.deps.clock.now()}`)!;
  }
}
