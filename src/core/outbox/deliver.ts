/**
 * The outbox handlers that post: a commit status to the project's forge, a hook body to a
 * project hook. Every request goes through core/outbound.ts (address rules, timeout, size
 * limit). The answer decides: 2xx done; 408, 409, 425, 429, 5xx, a timeout or no
 * connection → retry (Retry-After honoured); any other 4xx, or an address the outbound
 * rules refuse → failed at once (retrying would not change it), with the reason recorded.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { projectHooks, type OutboxRow } from '../../db/schema';
import type { CoreDeps } from '../context';
import { fetchOutbound, OutboundError } from '../outbound';
import type { ProjectService } from '../projects';
import type { SecretBox } from '../secret-box';
import { statusRequest, type StatusPayload } from './commit-status';
import { projectUrl } from './hook-payloads';
import type { Outbox, Outcome } from './index';

/** Answers are read only to report them; a few KiB say enough. */
const MAX_ANSWER = 64 * 1024;
const RETRYABLE = new Set([408, 409, 425, 429]);

export class Deliverers {
  constructor(private deps: Omit<CoreDeps, 'events'>, private projects: ProjectService, private outbox: Outbox, private box: SecretBox, private userAgent: string) {}

  register() {
    this.outbox.on('commit_status', (row) => this.commitStatus(row));
    this.outbox.on('hook', (row) => this.hook(row));
  }

  private async commitStatus(row: OutboxRow): Promise<Outcome> {
    const project = this.projects.find(row.projectId);
    if (!project?.forgeKind || !project.forgeApiUrl || !project.forgeRepo) return { state: 'skipped', reason: 'the project has no forge settings any more' };
    const p = row.payload as StatusPayload;
    const target = `${projectUrl(this.deps.server.url, project)}/-/pipelines/${p.pipelineId}`;
    const req = statusRequest(project, this.box.open(project.forgeTokenEnc), p, target);
    (req.init.headers as Record<string, string>)['user-agent'] = this.userAgent;
    return this.send(req.url, req.init);
  }

  private async hook(row: OutboxRow): Promise<Outcome> {
    const hook = row.hookId === null ? undefined : this.deps.db.select().from(projectHooks).where(eq(projectHooks.id, row.hookId)).get();
    if (!hook) return { state: 'skipped', reason: 'the hook was deleted' };
    const headers: Record<string, string> = {
      'content-type': 'application/json', 'user-agent': this.userAgent,
      'X-Gitlab-Event': row.event, 'X-Gitlab-Webhook-UUID': randomUUID(), 'X-Gitlab-Event-UUID': row.dedupeKey ?? randomUUID(),
      'X-Gitlab-Instance': this.deps.server.url, ...(row.dedupeKey ? { 'Idempotency-Key': row.dedupeKey } : {}),
    };
    const token = this.box.open(hook.tokenEnc);
    if (token) headers['X-Gitlab-Token'] = token;
    return this.send(hook.url, { method: 'POST', headers, body: JSON.stringify(row.payload) });
  }

  private async send(url: string, init: RequestInit): Promise<Outcome> {
    let res;
    try {
      res = await fetchOutbound(url, init, { allowLocal: this.deps.outbound.allowLocal, timeoutMs: this.outbox.options.requestTimeoutMs, maxBytes: MAX_ANSWER });
    } catch (e) {
      const why = (e as Error).message;
      if (e instanceof OutboundError && /not allowed|not a valid URL|redirect/.test(why)) return { state: 'failed', reason: `${safeUrl(url)}: ${why}` };
      return { state: 'retry', reason: `${safeUrl(url)}: ${why}` };
    }
    const answer = new TextDecoder().decode(res.body.subarray(0, 300)).replace(/\s+/g, ' ').trim();
    const reason = `${safeUrl(url)} answered HTTP ${res.status}${answer ? `: ${answer}` : ''}`;
    if (res.status >= 200 && res.status < 300) return { state: 'done', responseStatus: res.status, reason };
    if (res.status >= 500 || RETRYABLE.has(res.status)) {
      const after = Number(res.headers.get('retry-after'));
      return { state: 'retry', responseStatus: res.status, reason, ...(Number.isFinite(after) && after > 0 ? { retryAfterMs: after * 1000 } : {}) };
    }
    return { state: 'failed', responseStatus: res.status, reason };
  }
}

/** A URL without credentials or query string, for reasons and logs. */
export function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
