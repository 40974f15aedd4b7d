/**
 * Releases (GitLab's `/projects/:id/releases`): what a `release:` job's release-cli step
 * creates with its CI_JOB_TOKEN, or a person with a token. One release per tag and project.
 *
 * Baton creates no git tags and pushes nothing. GitLab makes a missing tag from `ref`; Baton
 * keeps `ref` as that point instead. A tag counts as existing when Baton has seen a pipeline
 * for it in the project; otherwise `ref` is required (422 `Ref is not specified`, as GitLab).
 * The release's commit is the one Baton knows for it: the releasing job's pipeline commit, a
 * sha given as `ref`, or the latest pipeline's commit of the tag (or of `ref`); else none.
 * Milestones are kept by title (Baton has no milestones to look up).
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import { pipelines, releases, type Job, type Pipeline, type Project, type Release, type ReleaseLink } from '../db/schema';
import type { CoreDeps } from './context';
import { badRequest, DomainError, notFound } from './errors';
import { atomically } from './tx';

export const LINK_TYPES = ['other', 'runbook', 'image', 'package'] as const;

export interface ReleaseLinkInput { name?: unknown; url?: unknown; link_type?: unknown; filepath?: unknown; direct_asset_path?: unknown }

export interface ReleaseInput {
  tag_name?: unknown;
  name?: unknown;
  description?: unknown;
  ref?: unknown;
  tag_message?: unknown;
  milestones?: unknown;
  released_at?: unknown;
  assets?: unknown;
}

/** Who creates a release: a person (their user id), or a running job (its pipeline's user, if any). */
export interface ReleaseAuthor { userId: number | null; job?: Job }

const MAX_TEXT = 1_000_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

const unprocessable = (message: string) => new DomainError('unprocessable', message);
const optionalString = (field: string, v: unknown, max = MAX_TEXT): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`${field} is invalid: should be a string`);
  if (v.length > max) throw badRequest(`${field} is too long (maximum is ${max} characters)`);
  return v;
};

/** An ISO 8601 time → unix ms; 400 naming the field otherwise. */
export function parseReleasedAt(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !ISO_DATE.test(v)) throw badRequest('released_at is invalid: should be an ISO 8601 date and time');
  const ms = Date.parse(/[T ]\d{2}:\d{2}/.test(v) ? v.replace(' ', 'T') : `${v}T00:00:00Z`);
  if (Number.isNaN(ms)) throw badRequest('released_at is invalid: should be an ISO 8601 date and time');
  return ms;
}

function milestonesOf(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((m) => typeof m === 'string' && m !== '')) throw badRequest('milestones is invalid: should be an array of milestone titles');
  return [...new Set(list as string[])];
}

function validUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'ftp:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** `assets: {links: [...]}` → stored links (ids from 1), checked as GitLab's Releases::Link model. */
export function linksOf(assets: unknown): ReleaseLink[] {
  if (assets === undefined || assets === null) return [];
  if (typeof assets !== 'object' || Array.isArray(assets)) throw badRequest('assets is invalid: should be an object with links');
  const raw = (assets as { links?: unknown }).links;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw badRequest('assets[links] is invalid: should be an array');
  const out: ReleaseLink[] = [];
  raw.forEach((l: ReleaseLinkInput, i) => {
    const at = `assets[links][${i}]`;
    if (typeof l !== 'object' || l === null || Array.isArray(l)) throw badRequest(`${at} is invalid: should be an object`);
    if (typeof l.name !== 'string' || l.name.trim() === '') throw badRequest(`${at}[name] is missing`);
    if (typeof l.url !== 'string' || l.url === '') throw badRequest(`${at}[url] is missing`);
    if (!validUrl(l.url)) throw badRequest(`${at}[url] is invalid: should be an http, https or ftp URL`);
    const type = l.link_type === undefined || l.link_type === null ? 'other' : l.link_type;
    if (!LINK_TYPES.includes(type as (typeof LINK_TYPES)[number])) throw badRequest(`${at}[link_type] does not have a valid value (${LINK_TYPES.join(', ')})`);
    if (l.filepath !== undefined && l.filepath !== null && l.direct_asset_path !== undefined && l.direct_asset_path !== null) {
      throw badRequest(`${at}[filepath], ${at}[direct_asset_path] are mutually exclusive`);
    }
    const path = l.direct_asset_path ?? l.filepath;
    if (path !== undefined && path !== null && (typeof path !== 'string' || !/^\/[^\s]*$/.test(path))) {
      throw badRequest(`${at}[direct_asset_path] is invalid: should start with / and contain no spaces`);
    }
    if (out.some((o) => o.name === l.name)) throw badRequest(`${at}[name] has already been taken`);
    if (out.some((o) => o.url === l.url)) throw badRequest(`${at}[url] has already been taken`);
    out.push({ id: i + 1, name: l.name, url: l.url, link_type: type as string, filepath: (path as string | undefined) ?? null });
  });
  return out;
}

export class ReleaseService {
  constructor(private deps: Pick<CoreDeps, 'db' | 'clock'>) {}

  private get db() { return this.deps.db; }

  list(projectId: number): Release[] {
    return this.db.select().from(releases).where(eq(releases.projectId, projectId)).orderBy(desc(releases.releasedAt), desc(releases.id)).all();
  }

  find(projectId: number, tagName: string): Release | null {
    return this.db.select().from(releases).where(and(eq(releases.projectId, projectId), eq(releases.tagName, tagName))).get() ?? null;
  }

  get(projectId: number, tagName: string): Release {
    const r = this.find(projectId, tagName);
    if (!r) throw notFound('Release');
    return r;
  }

  /** The latest pipeline of a commit (its message, author and date describe the release's commit). */
  pipelineOf(projectId: number, sha: string): Pipeline | undefined {
    return this.db.select().from(pipelines).where(and(eq(pipelines.projectId, projectId), eq(pipelines.sha, sha))).orderBy(desc(pipelines.id)).limit(1).get();
  }

  /** Has Baton seen this tag (a pipeline for it)? */
  private tagSha(projectId: number, tagName: string): string | null {
    return this.db.select({ sha: pipelines.sha }).from(pipelines)
      .where(and(eq(pipelines.projectId, projectId), eq(pipelines.tag, true), eq(pipelines.ref, tagName)))
      .orderBy(desc(pipelines.id)).limit(1).get()?.sha ?? null;
  }

  private refSha(projectId: number, ref: string): string | null {
    if (/^[0-9a-f]{40}$/i.test(ref)) return ref.toLowerCase();
    return this.db.select({ sha: pipelines.sha }).from(pipelines)
      .where(and(eq(pipelines.projectId, projectId), sql`(${pipelines.ref} = ${ref} OR ${pipelines.sha} = ${ref})`))
      .orderBy(desc(pipelines.id)).limit(1).get()?.sha ?? null;
  }

  create(project: Project, input: ReleaseInput, by: ReleaseAuthor): Release {
    const tagName = optionalString('tag_name', input.tag_name, 255);
    if (tagName === undefined || tagName.trim() === '') throw badRequest('tag_name is missing');
    const name = optionalString('name', input.name, 255);
    const description = optionalString('description', input.description) ?? '';
    const ref = optionalString('ref', input.ref, 255) || undefined;
    const tagMessage = optionalString('tag_message', input.tag_message) || undefined;
    const milestones = milestonesOf(input.milestones) ?? [];
    const releasedAt = parseReleasedAt(input.released_at);
    const links = linksOf(input.assets);
    return atomically(this.db, () => {
      if (this.find(project.id, tagName)) throw new DomainError('conflict', 'Release already exists');
      const pipeline = by.job ? this.db.select().from(pipelines).where(eq(pipelines.id, by.job.pipelineId)).get() : undefined;
      const tagged = (pipeline?.tag && pipeline.ref === tagName ? pipeline.sha : null) ?? this.tagSha(project.id, tagName);
      if (tagged === null && ref === undefined) throw unprocessable('Ref is not specified');
      let sha = tagged;
      if (sha === null && pipeline && (ref === pipeline.ref || ref === pipeline.sha)) sha = pipeline.sha;
      if (sha === null && ref !== undefined) sha = this.refSha(project.id, ref);
      const now = this.deps.clock.now();
      return this.db.insert(releases).values({
        projectId: project.id, tagName, name: name || tagName, description, tagMessage: tagMessage ?? null, ref: ref ?? null, sha,
        milestones, links, authorId: by.userId, jobId: by.job?.id ?? null, releasedAt: releasedAt ?? now, createdAt: now, updatedAt: now,
      }).returning().get();
    });
  }

  /** `PUT`: name, description, milestones, released_at; anything else is left as it is. */
  update(project: Project, tagName: string, input: ReleaseInput): Release {
    const name = optionalString('name', input.name, 255);
    const description = optionalString('description', input.description);
    const milestones = milestonesOf(input.milestones);
    const releasedAt = parseReleasedAt(input.released_at);
    return atomically(this.db, () => {
      const r = this.get(project.id, tagName);
      const set: Partial<Release> = { updatedAt: this.deps.clock.now() };
      if (name !== undefined) set.name = name || r.tagName;
      if (description !== undefined) set.description = description;
      if (milestones !== undefined) set.milestones = milestones;
      if (releasedAt !== undefined) set.releasedAt = releasedAt;
      return this.db.update(releases).set(set).where(eq(releases.id, r.id)).returning().get();
    });
  }

  delete(project: Project, tagName: string): Release {
    return atomically(this.db, () => {
      const r = this.get(project.id, tagName);
      this.db.delete(releases).where(eq(releases.id, r.id)).run();
      return r;
    });
  }
}
