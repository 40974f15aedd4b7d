/** Project hooks, as GitLab's `/projects/:id/hooks` (forges-and-rest.md §C.8): Maintainer; the token is write-only. */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { badRequest } from '../core/errors';
import type { HookInput } from '../core/outbox/targets';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { AutomationPresenter, HookModel } from './automation-presenters';
import { Errors, ProjectParams, restDoc } from './common';
import { PageQuery, pageOf, paginated, slice } from './pagination';

const HookParams = t.Object({ id: t.String({ description: 'project id' }), hook_id: t.String() });
const HookBody = t.Object({
  url: t.Optional(t.String({ description: 'where events are POSTed (http or https)' })),
  token: t.Optional(t.String({ description: 'sent as X-Gitlab-Token; write-only' })),
  push_events: t.Optional(t.Boolean({ description: 'default true' })),
  tag_push_events: t.Optional(t.Boolean()),
  pipeline_events: t.Optional(t.Boolean()),
  job_events: t.Optional(t.Boolean()),
  enable_ssl_verification: t.Optional(t.Boolean({ description: 'only true: certificates are always verified' })),
});

function input(b: typeof HookBody.static): HookInput {
  if (b.enable_ssl_verification === false) throw badRequest('enable_ssl_verification is invalid: Baton always verifies certificates');
  return { url: b.url, token: b.token, pushEvents: b.push_events, tagPushEvents: b.tag_push_events, pipelineEvents: b.pipeline_events, jobEvents: b.job_events };
}

export function hookRoutes(core: Core) {
  const show = new AutomationPresenter(core);
  const doc = restDoc('hooks');
  return new Elysia({ name: 'rest-api.hooks', prefix: '/api/v4/projects/:id/hooks' })
    .use(peopleAuth(core))
    .get('', ({ project, query, request }) => {
      const page = pageOf(query);
      const { rows, total } = slice(core.targets.hooks(project.id), page);
      return paginated(request, core.deps.server.url, page, total, rows.map((h) => show.hook(h)));
    }, { can: 'admin_project', params: ProjectParams, query: t.Object(PageQuery), response: { 200: t.Array(HookModel), ...Errors }, ...doc('List project hooks') })

    .get('/:hook_id', ({ project, params }) => json(show.hook(core.targets.hook(project.id, params.hook_id))),
      { can: 'admin_project', params: HookParams, response: { 200: HookModel, ...Errors }, ...doc('Get a project hook') })

    .post('', ({ project, body }) => json(show.hook(core.targets.createHook(project.id, input(body))), 201),
      { can: 'admin_project', params: ProjectParams, ...withModel(HookBody), response: { 201: HookModel, ...Errors }, ...doc('Add a project hook', 'Pipeline Hook, Job Hook, Push Hook and Tag Push Hook events, in GitLab\'s shapes, with X-Gitlab-Event and X-Gitlab-Token.') })

    .put('/:hook_id', ({ project, params, body }) => json(show.hook(core.targets.updateHook(project.id, params.hook_id, input(body)))),
      { can: 'admin_project', params: HookParams, ...withModel(HookBody), response: { 200: HookModel, ...Errors }, ...doc('Edit a project hook') })

    .delete('/:hook_id', ({ project, params }) => {
      core.targets.deleteHook(project.id, params.hook_id);
      return empty(204);
    }, { can: 'admin_project', params: HookParams, response: { 204: t.Void(), ...Errors }, ...doc('Delete a project hook') });
}
