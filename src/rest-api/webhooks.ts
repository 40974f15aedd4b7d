/**
 * The project's push webhook and what it and the outbox did:
 *   POST /projects/:id/webhook                   a forge's delivery (the signature is the credential)
 *   GET  /projects/:id/webhook_secret            its URL and secret (Maintainer)
 *   POST /projects/:id/webhook_secret/rotate     a new secret (the old one stops working at once)
 *   GET  /projects/:id/forge/deliveries          the last deliveries, in and out, with their outcome
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { badRequest } from '../core/errors';
import type { OutboxKind } from '../core/outbox';
import { MAX_WEBHOOK_BODY } from '../core/triggers';
import { peopleAuth } from '../http/auth';
import { readBody } from '../http/body';
import { json } from '../http/respond';
import { AutomationPresenter, DeliveryModel, WebhookSecretModel } from './automation-presenters';
import { Errors, ProjectParams, restDoc } from './common';
import { PageQuery, pageOf, paginated } from './pagination';
import { Message } from './presenters';

const KINDS = ['webhook', 'schedule', 'commit_status', 'hook'] as const;

export function webhookRoutes(core: Core) {
  const show = new AutomationPresenter(core);
  const doc = restDoc('webhooks');
  return new Elysia({ name: 'rest-api.webhooks', prefix: '/api/v4/projects/:id' })
    .use(peopleAuth(core))
    .post('/webhook', async ({ params, request }) => {
      const answer = core.webhooks.receive(params.id, request.headers, await readBody(request, MAX_WEBHOOK_BODY));
      return json(answer.body, answer.status);
    }, {
      parse: 'none', params: ProjectParams, response: { 200: Message, 202: Message, 400: Message, 401: Message, 404: Message, 413: Message },
      detail: {
        tags: ['webhooks'], summary: 'Receive a push webhook from Gitea, Forgejo, GitHub or GitLab',
        description: 'No user token: the delivery is verified against the project\'s webhook_secret (HMAC-SHA256 signature, or X-Gitlab-Token). 202 when a pipeline will be created in the background; 200 with the reason when nothing starts (deletion, [skip ci], ping, other events, a redelivery); 401 without a valid signature.',
      },
    })

    .get('/webhook_secret', ({ project }) => json({ webhook_url: show.webhookUrl(project), webhook_secret: project.webhookSecret }),
      { can: 'admin_project', params: ProjectParams, response: { 200: WebhookSecretModel, ...Errors }, ...doc('The webhook URL and secret to enter at the forge') })

    .post('/webhook_secret/rotate', ({ project }) => {
      const rotated = core.projects.rotateWebhookSecret(project.id);
      return json({ webhook_url: show.webhookUrl(rotated), webhook_secret: rotated.webhookSecret });
    }, { can: 'admin_project', params: ProjectParams, response: { 200: WebhookSecretModel, ...Errors }, ...doc('Make a new webhook secret', 'Deliveries signed with the old secret are refused from now on.') })

    .get('/forge/deliveries', ({ project, query, request }) => {
      const kinds = query.kind === undefined ? undefined : query.kind.split(',').map((k) => k.trim());
      const bad = kinds?.find((k) => !(KINDS as readonly string[]).includes(k));
      if (bad !== undefined) throw badRequest(`kind does not have a valid value: "${bad}" (one of ${KINDS.join(', ')})`);
      const page = pageOf(query);
      const { rows, total } = core.outbox.list(project.id, { kinds: kinds as OutboxKind[] | undefined, offset: page.offset, limit: page.limit });
      return paginated(request, core.deps.server.url, page, total, rows.map((r) => show.delivery(r)));
    }, {
      can: 'admin_project', params: ProjectParams,
      query: t.Object({ ...PageQuery, kind: t.Optional(t.String({ description: `${KINDS.join(', ')} (comma-separated)` })) }),
      response: { 200: t.Array(DeliveryModel), ...Errors },
      ...doc('The last deliveries (newest first)', 'Webhook deliveries received (and why one built nothing), schedule runs, commit statuses sent to the forge and project-hook events, with attempts and outcome.'),
    });
}
