/**
 * `POST /api/v4/projects/:id/webhook`: a forge's push delivery, answered fast.
 *
 *   1. which forge — by its event header alone (Forgejo also sends Gitea's and GitHub's
 *      headers, Gitea GitHub's, so the most specific wins)
 *   2. verify against the project's webhook_secret, on the bytes as received → 401
 *   3. parse and normalise into one PushEvent (forge module) → 400 naming the field
 *   4. record it, deduplicated by the sender's delivery id, in ONE transaction with the
 *      outbox row that will build it and the Push Hook events for project hooks
 *   5. answer: 202 queued (the pipeline is created in the background: git fetch and the
 *      .gitlab-ci.yml are the outbox worker's), or 200 with the reason nothing starts —
 *      a deletion, a test delivery, `[skip ci]`, a ping or another event, a redelivery.
 *      "No jobs for this ref" needs the file, so it is known only later: the delivery then
 *      ends `skipped` with that reason (deliveries list, log).
 */
import { and, eq } from 'drizzle-orm';
import { projectHooks, type OutboxRow, type Project } from '../../../db/schema';
import type { CoreDeps } from '../../context';
import { DomainError, notFound } from '../../errors';
import type { Outbox } from '../../outbox';
import { pushHook } from '../../outbox/hook-payloads';
import { atomically } from '../../tx';
import { whyNoPipeline, type PushEvent } from '../push-event';
import { forgejo, gitea } from './gitea';
import { github } from './github';
import { git, gitlab } from './gitlab';
import { parsePayload, payloadText, type ForgeModule } from './shared';

/** Most specific first. */
export const FORGES: ForgeModule[] = [forgejo, gitea, gitlab, github, git];

/** GitHub and GitLab refuse bodies over 25 MB too. */
export const MAX_WEBHOOK_BODY = 25 * 1024 * 1024;

export interface WebhookAnswer { status: 200 | 202; body: Record<string, unknown> }

export class WebhookReceiver {
  constructor(private deps: Omit<CoreDeps, 'events'>, private findProject: (rawId: string) => Project | null, private outbox: Outbox) {}

  receive(rawProjectId: string, h: Headers, raw: Uint8Array): WebhookAnswer {
    const project = this.findProject(rawProjectId);
    if (!project) throw notFound('Project');
    const forge = FORGES.find((f) => f.matches(h));
    if (!forge) throw new DomainError('unauthorized', '401 Unauthorized - not a webhook delivery: no X-Gitea-Event, X-Forgejo-Event, X-GitHub-Event, X-Gitlab-Event or X-Baton-Event header');
    const verdict = forge.verify(h, raw, project.webhookSecret);
    if (verdict !== 'ok') {
      throw new DomainError('unauthorized', verdict === 'missing'
        ? `401 Unauthorized - the ${forge.source} delivery carries no ${forge.source === 'gitlab' ? 'X-Gitlab-Token' : forge.source === 'git' ? 'X-Baton-Token' : 'signature'} (set the project's webhook_secret as the hook's secret)`
        : `401 Unauthorized - the ${forge.source} delivery's ${forge.source === 'gitlab' || forge.source === 'git' ? 'token' : 'signature'} does not match the project's webhook_secret`);
    }
    const normalised = forge.normalise(h, parsePayload(payloadText(h, raw)));
    const event = forge.event(h);
    const id = forge.deliveryId(h, normalised);
    const dedupeKey = id === null ? null : `${forge.source}:${id}`.slice(0, 512);
    const push = 'push' in normalised ? normalised.push : null;
    const reason = push ? whyNoPipeline(push) : (normalised as { ignore: string }).ignore;

    const answer = atomically(this.deps.db, (): WebhookAnswer => {
      if (dedupeKey !== null) {
        const earlier = this.outbox.findDelivery(project.id, dedupeKey);
        if (earlier) return { status: 200, body: { message: `already received (delivery ${earlier.id}, ${earlier.state}): nothing new is created`, delivery: deliveryBrief(earlier) } };
      }
      const row = this.outbox.enqueue({
        projectId: project.id, kind: 'webhook', event: `${forge.source} ${event}`.trim(),
        payload: push ?? { forge: forge.source, event }, dedupeKey, ...(reason !== null ? { skipped: reason } : {}),
      });
      if (push) this.forwardPush(project, push);
      return reason !== null
        ? { status: 200, body: { message: reason, delivery: deliveryBrief(row) } }
        : { status: 202, body: { message: `${push!.tag ? 'tag' : 'branch'} ${push!.refName} at ${push!.checkoutSha!.slice(0, 8)} accepted: the pipeline is created in the background`, delivery: deliveryBrief(row) } };
    });
    this.deps.log.info({ projectId: project.id, forge: forge.source, event, delivery: answer.body.delivery, reason: reason ?? undefined }, 'webhook delivery');
    return answer;
  }

  /** Pushes are re-told to the project's hooks that want them (GitLab's Push Hook / Tag Push Hook). */
  private forwardPush(project: Project, push: PushEvent) {
    const hooks = this.deps.db.select().from(projectHooks).where(and(eq(projectHooks.projectId, project.id))).all()
      .filter((hk) => (push.tag ? hk.tagPushEvents : hk.pushEvents));
    if (hooks.length === 0) return;
    const body = pushHook(this.deps.server.url, project, push);
    for (const hk of hooks) {
      this.outbox.enqueue({ projectId: project.id, kind: 'hook', hookId: hk.id, event: push.tag ? 'Tag Push Hook' : 'Push Hook', payload: body });
    }
  }
}

export function deliveryBrief(r: OutboxRow) {
  return { id: r.id, state: r.state, reason: r.reason, pipeline_id: r.pipelineId };
}
