/**
 * Pipeline trigger tokens (GitLab's `/projects/:id/triggers`, `…/trigger/pipeline`):
 * `glptt-` + 40 hex, returned once by create and stored as a sha256 hash. A running job's
 * CI_JOB_TOKEN is accepted too, for its own project (the pipeline's source is then
 * `pipeline`, as GitLab's multi-project trigger). Any other token — unknown, of another
 * project, of a job that is not running — is 404, as GitLab answers.
 */
import { and, asc, eq } from 'drizzle-orm';
import { jobs, pipelineTriggers, type Pipeline, type PipelineTrigger, type Project } from '../../db/schema';
import type { CoreDeps } from '../context';
import { badRequest, DomainError, forbidden, notFound } from '../errors';
import type { PipelineCreator } from '../pipeline-creation';
import { hashToken, randomHex, TOKEN_PREFIX } from '../tokens';

export interface TriggerRun {
  token?: string;
  ref?: string;
  variables?: unknown;
  /** the request's X-Gitlab-Event header (GitLab refuses Pipeline Hooks: a loop) */
  gitlabEvent?: string | null;
}

export class TriggerService {
  constructor(private deps: Omit<CoreDeps, 'events'>, private creator: PipelineCreator) {}

  private get db() { return this.deps.db; }

  list(projectId: number): PipelineTrigger[] {
    return this.db.select().from(pipelineTriggers).where(eq(pipelineTriggers.projectId, projectId)).orderBy(asc(pipelineTriggers.id)).all();
  }

  get(projectId: number, rawId: string): PipelineTrigger {
    const id = /^\d{1,15}$/.test(rawId) ? Number(rawId) : NaN;
    const t = Number.isNaN(id) ? undefined : this.db.select().from(pipelineTriggers).where(and(eq(pipelineTriggers.id, id), eq(pipelineTriggers.projectId, projectId))).get();
    if (!t) throw notFound('Trigger');
    return t;
  }

  /** The new trigger and its token, which is never shown again. */
  create(projectId: number, description = ''): { trigger: PipelineTrigger; token: string } {
    const secret = randomHex();
    const token = TOKEN_PREFIX.trigger + secret;
    const now = this.deps.clock.now();
    const trigger = this.db.insert(pipelineTriggers).values({
      projectId, tokenHash: hashToken(token), tokenStart: secret.slice(0, 4), description, createdAt: now, updatedAt: now,
    }).returning().get();
    return { trigger, token };
  }

  update(projectId: number, rawId: string, description: string | undefined): PipelineTrigger {
    const t = this.get(projectId, rawId);
    if (description !== undefined) this.db.update(pipelineTriggers).set({ description, updatedAt: this.deps.clock.now() }).where(eq(pipelineTriggers.id, t.id)).run();
    return this.get(projectId, rawId);
  }

  delete(projectId: number, rawId: string) {
    const t = this.get(projectId, rawId);
    this.db.delete(pipelineTriggers).where(eq(pipelineTriggers.id, t.id)).run();
  }

  /** `POST /projects/:id/trigger/pipeline`: which credential, then the one creation path. */
  async run(project: Project | null, input: TriggerRun): Promise<Pipeline> {
    if (input.gitlabEvent?.trim().toLowerCase() === 'pipeline hook') throw forbidden('403 Forbidden - Pipeline Hook events cannot trigger pipelines (a loop)');
    if (!project) throw notFound('Project');
    if (!input.token) throw badRequest('token is missing');
    const source = this.authenticate(project, input.token);
    if (!input.ref) throw badRequest('ref is missing');
    const variables = triggerVariables(input.variables);
    return this.creator.create(project, { ref: input.ref, source, variables });
  }

  private authenticate(project: Project, token: string): 'trigger' | 'pipeline' {
    const hash = hashToken(token);
    const trigger = this.db.select().from(pipelineTriggers).where(eq(pipelineTriggers.tokenHash, hash)).get();
    if (trigger && trigger.projectId === project.id) {
      this.db.update(pipelineTriggers).set({ lastUsed: this.deps.clock.now() }).where(eq(pipelineTriggers.id, trigger.id)).run();
      return 'trigger';
    }
    const job = this.db.select({ projectId: jobs.projectId, status: jobs.status }).from(jobs).where(eq(jobs.tokenHash, hash)).get();
    if (job && job.status === 'running' && job.projectId === project.id) return 'pipeline';
    throw new DomainError('not_found', '404 Not Found');
  }
}

/** `variables[KEY]=value` (form, query) or `{"variables": {"KEY": "value"}}` (JSON): strings only. */
export function triggerVariables(raw: unknown): { key: string; value: string }[] {
  if (raw === undefined || raw === null || raw === '') return [];
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('variables needs to be a map of key-valued strings');
  const out: { key: string; value: string }[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value !== 'string') throw badRequest('variables needs to be a map of key-valued strings');
    out.push({ key, value });
  }
  return out;
}
