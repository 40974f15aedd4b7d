/**
 * REST shapes of what starts pipelines and where their outcome goes (GitLab's Trigger,
 * PipelineSchedule(Details), Variable and ProjectHook entities; Baton's delivery list).
 * Secrets that are only ever sent on (trigger tokens after creation, hook and forge
 * tokens) are never rendered.
 */
import { t, type Static } from 'elysia';
import type { Core } from '../core';
import { INBOUND } from '../core/outbox';
import { projectWebUrl } from '../core/projects';
import type { OutboxRow, Pipeline, PipelineSchedule, PipelineTrigger, Project, ProjectHook, ScheduleVariable } from '../db/schema';
import { TOKEN_PREFIX } from '../core/tokens';

const Time = t.Union([t.String({ format: 'date-time' }), t.Null()]);
const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export const TriggerModel = t.Object({
  id: t.Integer(),
  token: t.String({ description: 'the whole token only in the answer to create; afterwards its prefix and first 4 characters' }),
  description: t.String(),
  created_at: t.String({ format: 'date-time' }),
  updated_at: t.String({ format: 'date-time' }),
  last_used: Time,
  expires_at: t.Null(),
  owner: t.Null(),
});

export const ScheduleVariableModel = t.Object({ variable_type: t.String(), key: t.String(), value: t.String(), raw: t.Boolean(), masked: t.Boolean(), protected: t.Boolean() });

export const PipelineBasic = t.Object({
  id: t.Integer(), iid: t.Integer(), project_id: t.Integer(), sha: t.String(), ref: t.String(), status: t.String(), source: t.String(),
  created_at: t.String({ format: 'date-time' }), updated_at: t.String({ format: 'date-time' }), web_url: t.String(),
});

const scheduleFields = {
  id: t.Integer(),
  description: t.String(),
  ref: t.String(),
  cron: t.String(),
  cron_timezone: t.String({ description: 'IANA time zone' }),
  next_run_at: t.String({ format: 'date-time' }),
  active: t.Boolean(),
  created_at: t.String({ format: 'date-time' }),
  updated_at: t.String({ format: 'date-time' }),
  owner: t.Null(),
};
export const ScheduleModel = t.Object(scheduleFields);
export const ScheduleDetailsModel = t.Object({ ...scheduleFields, last_pipeline: t.Union([PipelineBasic, t.Null()]), variables: t.Array(ScheduleVariableModel) });

export const HookModel = t.Object({
  id: t.Integer(), url: t.String(), project_id: t.Integer(), created_at: t.String({ format: 'date-time' }),
  push_events: t.Boolean(), tag_push_events: t.Boolean(), pipeline_events: t.Boolean(), job_events: t.Boolean(),
  merge_requests_events: t.Boolean(), issues_events: t.Boolean(), note_events: t.Boolean(), wiki_page_events: t.Boolean(),
  deployment_events: t.Boolean(), releases_events: t.Boolean(), enable_ssl_verification: t.Boolean(),
  token_set: t.Boolean({ description: 'a token is stored (it is never returned)' }),
});

export const DeliveryModel = t.Object({
  id: t.Integer(),
  direction: t.Union([t.Literal('inbound'), t.Literal('outbound')]),
  kind: t.String({ description: 'webhook (a push received), schedule (a run), commit_status (to the forge), hook (to a project hook)' }),
  event: t.String(),
  state: t.String({ description: 'pending, done, skipped, failed' }),
  reason: t.Union([t.String(), t.Null()], { description: 'why nothing was built, or what the last attempt got' }),
  attempts: t.Integer(),
  response_status: t.Union([t.Integer(), t.Null()]),
  pipeline_id: t.Union([t.Integer(), t.Null()]),
  hook_id: t.Union([t.Integer(), t.Null()]),
  delivery_id: t.Union([t.String(), t.Null()], { description: "the sender's delivery id (inbound), ours (outbound Idempotency-Key)" }),
  ref: t.Union([t.String(), t.Null()]),
  sha: t.Union([t.String(), t.Null()]),
  created_at: t.String({ format: 'date-time' }),
  finished_at: Time,
  next_attempt_at: Time,
});

export const WebhookSecretModel = t.Object({ webhook_url: t.String(), webhook_secret: t.String() });

export type DeliveryJson = Static<typeof DeliveryModel>;

export class AutomationPresenter {
  constructor(private core: Core) {}

  private get url() { return this.core.deps.server.url.replace(/\/+$/, ''); }

  webhookUrl(p: Project) { return `${this.url}/api/v4/projects/${p.id}/webhook`; }

  trigger(tr: PipelineTrigger, token?: string): Static<typeof TriggerModel> {
    return {
      id: tr.id, token: token ?? `${TOKEN_PREFIX.trigger}${tr.tokenStart}`, description: tr.description,
      created_at: iso(tr.createdAt)!, updated_at: iso(tr.updatedAt)!, last_used: iso(tr.lastUsed), expires_at: null, owner: null,
    };
  }

  variable(v: ScheduleVariable): Static<typeof ScheduleVariableModel> {
    return { variable_type: v.variableType, key: v.key, value: v.value, raw: false, masked: false, protected: false };
  }

  schedule(s: PipelineSchedule): Static<typeof ScheduleModel> {
    return {
      id: s.id, description: s.description, ref: s.ref, cron: s.cron, cron_timezone: s.cronTimezone, next_run_at: iso(s.nextRunAt)!,
      active: s.active, created_at: iso(s.createdAt)!, updated_at: iso(s.updatedAt)!, owner: null,
    };
  }

  scheduleDetails(s: PipelineSchedule, project: Project): Static<typeof ScheduleDetailsModel> {
    const last = this.core.schedules.lastPipeline(s);
    return { ...this.schedule(s), last_pipeline: last ? this.pipelineBasic(last, project) : null, variables: this.core.schedules.variables(s.id).map((v) => this.variable(v)) };
  }

  pipelineBasic(p: Pipeline, project: Project): Static<typeof PipelineBasic> {
    return {
      id: p.id, iid: p.id, project_id: p.projectId, sha: p.sha, ref: p.ref, status: p.status, source: p.source,
      created_at: iso(p.createdAt)!, updated_at: iso(p.updatedAt)!, web_url: `${projectWebUrl(this.url, project)}/-/pipelines/${p.id}`,
    };
  }

  hook(h: ProjectHook): Static<typeof HookModel> {
    return {
      id: h.id, url: h.url, project_id: h.projectId, created_at: iso(h.createdAt)!,
      push_events: h.pushEvents, tag_push_events: h.tagPushEvents, pipeline_events: h.pipelineEvents, job_events: h.jobEvents,
      merge_requests_events: false, issues_events: false, note_events: false, wiki_page_events: false, deployment_events: false, releases_events: false,
      enable_ssl_verification: true, token_set: h.tokenEnc !== null,
    };
  }

  delivery(r: OutboxRow): DeliveryJson {
    const inbound = (INBOUND as readonly string[]).includes(r.kind);
    const p = (r.payload ?? {}) as { refName?: string; ref?: string; checkoutSha?: string | null; sha?: string };
    return {
      id: r.id, direction: inbound ? 'inbound' : 'outbound', kind: r.kind, event: r.event, state: r.state, reason: r.reason,
      attempts: r.attempts, response_status: r.responseStatus, pipeline_id: r.pipelineId, hook_id: r.hookId,
      delivery_id: r.dedupeKey === null ? null : inbound ? r.dedupeKey.replace(/^[a-z]+:/, '') : r.dedupeKey,
      ref: r.kind === 'webhook' ? p.refName ?? null : r.kind === 'commit_status' ? p.ref ?? null : null,
      sha: r.kind === 'webhook' ? p.checkoutSha ?? null : r.kind === 'commit_status' ? p.sha ?? null : null,
      created_at: iso(r.createdAt)!, finished_at: iso(r.finishedAt), next_attempt_at: r.state === 'pending' ? iso(r.nextAttemptAt) : null,
    };
  }
}
