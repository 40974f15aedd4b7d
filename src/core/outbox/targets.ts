/**
 * Where outbound deliveries go, as users set them: the project's forge (kind, API root,
 * repository, write-only token) and its project hooks (GitLab's `/projects/:id/hooks`).
 * Tokens are sealed with the data dir's key (core/secret-box.ts) and never returned.
 */
import { and, asc, eq } from 'drizzle-orm';
import { projectHooks, projects, type Project, type ProjectHook } from '../../db/schema';
import type { CoreDeps } from '../context';
import { badRequest, notFound } from '../errors';
import type { SecretBox } from '../secret-box';
import { FORGE_KINDS, type ForgeKind } from './commit-status';

export interface ForgeInput {
  /** '' or null clears every forge setting */
  kind?: string | null;
  apiUrl?: string;
  repo?: string;
  /** '' clears it */
  token?: string;
}

export interface HookInput {
  url?: string;
  token?: string;
  pushEvents?: boolean;
  tagPushEvents?: boolean;
  pipelineEvents?: boolean;
  jobEvents?: boolean;
}

function httpUrl(raw: string, field: string): string {
  let u: URL;
  try { u = new URL(raw); } catch { throw badRequest(`${field} is invalid: "${raw.slice(0, 100)}" is not a URL`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badRequest(`${field} is invalid: only http and https URLs are allowed`);
  return raw;
}

export class DeliveryTargets {
  constructor(private deps: Omit<CoreDeps, 'events'>, private box: SecretBox) {}

  private get db() { return this.deps.db; }

  /** Checks a forge change against what is stored; returns the columns to write (not written yet). */
  forgeChange(project: Project, input: ForgeInput): Partial<Project> {
    if (input.kind === undefined && input.apiUrl === undefined && input.repo === undefined && input.token === undefined) return {};
    if (input.kind === null || input.kind === '') return { forgeKind: null, forgeApiUrl: null, forgeRepo: null, forgeTokenEnc: null };
    const kind = input.kind ?? project.forgeKind;
    if (kind === null) throw badRequest(`forge_kind is missing: one of ${FORGE_KINDS.join(', ')}`);
    if (!(FORGE_KINDS as readonly string[]).includes(kind)) throw badRequest(`forge_kind does not have a valid value: "${kind}" (one of ${FORGE_KINDS.join(', ')})`);
    const apiUrl = input.apiUrl !== undefined ? httpUrl(input.apiUrl.replace(/\/+$/, ''), 'forge_api_url') : project.forgeApiUrl;
    if (!apiUrl) throw badRequest('forge_api_url is missing: the forge API root, e.g. https://git.example.com/api/v1, https://api.github.com or https://gitlab.example.com/api/v4');
    const repo = input.repo !== undefined ? input.repo.trim() : project.forgeRepo;
    if (!repo) throw badRequest('forge_repo is missing: owner/name (or the GitLab project id or path)');
    if ((kind as ForgeKind) !== 'gitlab' && !/^[^/\s]+\/[^/\s]+$/.test(repo)) throw badRequest(`forge_repo is invalid: expected owner/name, got "${repo.slice(0, 100)}"`);
    const out: Partial<Project> = { forgeKind: kind, forgeApiUrl: apiUrl, forgeRepo: repo };
    if (input.token !== undefined) out.forgeTokenEnc = input.token === '' ? null : this.box.seal(input.token);
    return out;
  }

  setForge(projectId: number, change: Partial<Project>) {
    if (Object.keys(change).length) this.db.update(projects).set(change).where(eq(projects.id, projectId)).run();
  }

  // ---- project hooks

  hooks(projectId: number): ProjectHook[] {
    return this.db.select().from(projectHooks).where(eq(projectHooks.projectId, projectId)).orderBy(asc(projectHooks.id)).all();
  }

  hook(projectId: number, rawId: string): ProjectHook {
    const id = /^\d{1,15}$/.test(rawId) ? Number(rawId) : NaN;
    const h = Number.isNaN(id) ? undefined : this.db.select().from(projectHooks).where(and(eq(projectHooks.id, id), eq(projectHooks.projectId, projectId))).get();
    if (!h) throw notFound('Hook');
    return h;
  }

  createHook(projectId: number, input: HookInput): ProjectHook {
    if (!input.url) throw badRequest('url is missing');
    return this.db.insert(projectHooks).values({
      projectId, url: httpUrl(input.url, 'url'), tokenEnc: input.token ? this.box.seal(input.token) : null,
      pushEvents: input.pushEvents ?? true, tagPushEvents: input.tagPushEvents ?? false,
      pipelineEvents: input.pipelineEvents ?? false, jobEvents: input.jobEvents ?? false, createdAt: this.deps.clock.now(),
    }).returning().get();
  }

  updateHook(projectId: number, rawId: string, input: HookInput): ProjectHook {
    const h = this.hook(projectId, rawId);
    const set: Partial<ProjectHook> = {};
    if (input.url !== undefined) set.url = httpUrl(input.url, 'url');
    if (input.token !== undefined) set.tokenEnc = input.token === '' ? null : this.box.seal(input.token);
    if (input.pushEvents !== undefined) set.pushEvents = input.pushEvents;
    if (input.tagPushEvents !== undefined) set.tagPushEvents = input.tagPushEvents;
    if (input.pipelineEvents !== undefined) set.pipelineEvents = input.pipelineEvents;
    if (input.jobEvents !== undefined) set.jobEvents = input.jobEvents;
    if (Object.keys(set).length) this.db.update(projectHooks).set(set).where(eq(projectHooks.id, h.id)).run();
    return this.hook(projectId, String(h.id));
  }

  deleteHook(projectId: number, rawId: string) {
    const h = this.hook(projectId, rawId);
    this.db.delete(projectHooks).where(eq(projectHooks.id, h.id)).run();
  }
}
