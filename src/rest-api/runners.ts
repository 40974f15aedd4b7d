/**
 * Runners: list, show, edit, delete, and which projects a project runner serves
 * (consumer-api.md §2 "Runners"). Admins see and change every runner; a project's
 * Maintainers its project runners (core/people/access.ts `runner`, GitLab's rules). The runner-facing `POST /api/v4/runners`,
 * `POST /api/v4/runners/verify` and `DELETE /api/v4/runners` (runner token) belong to the v4
 * runner API: only paths with a runner id or `/all` are declared here.
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { badRequest, notFound } from '../core/errors';
import type { RunnerEdit } from '../core/runners';
import { normalizeTags } from '../core/tag-list';
import type { Actor } from '../core/people/access';
import type { Runner } from '../db/schema';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { Errors, ProjectParams, restDoc } from './common';
import { numericId } from './lookup';
import { PageQuery, pageOf, paginated } from './pagination';
import { Presenter, RunnerModel } from './presenters';

/** GitLab's floor for a runner's maximum timeout. */
const MIN_MAXIMUM_TIMEOUT = 600;

const RunnerParams = t.Object({ id: t.String({ description: 'runner id' }) });
const ProjectRunnerParams = t.Object({ id: t.String({ description: 'project id' }), runner_id: t.String() });
const EditBody = t.Object({
  description: t.Optional(t.String()),
  paused: t.Optional(t.Boolean({ description: 'a paused runner takes no jobs; wins over active' })),
  active: t.Optional(t.Boolean({ description: 'the older name: active = !paused' })),
  tag_list: t.Optional(t.Union([t.String(), t.Array(t.String())], { description: 'comma-separated string or array' })),
  run_untagged: t.Optional(t.Boolean()),
  locked: t.Optional(t.Boolean({ description: 'a locked project runner cannot be enabled for other projects' })),
  maximum_timeout: t.Optional(t.Integer({ description: `seconds, at least ${MIN_MAXIMUM_TIMEOUT}; 0 removes the limit` })),
});
const EnableBody = t.Object({ runner_id: t.Integer({ description: 'a project runner' }) });

function runnerOf(core: Core, raw: string): Runner {
  const id = numericId(raw);
  if (Number.isNaN(id)) throw notFound('Runner');
  return core.runners.get(id);
}

function edit(b: typeof EditBody.static): RunnerEdit {
  const max = b.maximum_timeout;
  if (max !== undefined && max !== 0 && (max < MIN_MAXIMUM_TIMEOUT)) {
    throw badRequest(`maximum_timeout is invalid: needs to be at least ${MIN_MAXIMUM_TIMEOUT} seconds (10 minutes), or 0 for none`);
  }
  return {
    description: b.description,
    active: b.paused !== undefined ? !b.paused : b.active,
    tagList: b.tag_list === undefined ? undefined : normalizeTags(b.tag_list),
    runUntagged: b.run_untagged,
    locked: b.locked,
    maximumTimeout: max === undefined ? undefined : max === 0 ? null : max,
  };
}

export function runnerRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = restDoc('runners');
  const list = (request: Request, query: { page?: number; per_page?: number }, actor: Actor, filter: { projectId?: number; maintainerId?: number }) => {
    const page = pageOf(query);
    const { rows, total } = core.runners.list({ ...filter, offset: page.offset, limit: page.limit });
    return paginated(request, core.deps.server.url, page, total, rows.map((r) => show.runner(r, actor)));
  };
  const List = { query: t.Object(PageQuery), response: { 200: t.Array(RunnerModel), ...Errors } };
  return new Elysia({ name: 'rest-api.runners', prefix: '/api/v4' })
    .use(peopleAuth(core))
    .get('/runners/all', ({ actor, query, request }) => list(request, query, actor, {}), { admin: true, ...List, ...doc('List every runner (newest first)') })
    .get('/runners', ({ actor, query, request }) => list(request, query, actor, { maintainerId: core.access.runnerOwner(actor) }),
      { auth: true, ...List, ...doc('List runners', "An admin's list has every runner (as /runners/all); others see the project runners of the projects they maintain.") })

    .post('/runners/reset_registration_token', () => json({ token: core.instance.rotateRegistrationToken(), token_expires_at: null }, 201), {
      admin: true, response: { 201: t.Object({ token: t.String(), token_expires_at: t.Null() }), ...Errors },
      ...doc("Reset the instance's runner registration token", 'Runners registered already keep working; new registrations need the new token.'),
    })

    .get('/runners/:id', ({ actor, runner }) => json(show.runner(runner, actor)),
      { runner: 'read_runner', params: RunnerParams, response: { 200: RunnerModel, ...Errors }, ...doc('Get a runner', 'Instance runners: anyone signed in; project runners: Maintainers of one of its projects, admins.') })

    .put('/runners/:id', ({ actor, runner, body }) => json(show.runner(core.runners.edit(runner.id, edit(body)), actor)),
      { runner: 'update_runner', params: RunnerParams, ...withModel(EditBody), response: { 200: RunnerModel, ...Errors }, ...doc('Edit a runner (pause, resume, tags, …)', 'Instance runners: admins; project runners: also Maintainers of one of its projects.') })

    .delete('/runners/:id', ({ runner }) => {
      core.runners.remove(runner.id);
      return empty(204);
    }, {
      runner: 'delete_runner', params: RunnerParams, response: { 204: t.Void(), ...Errors },
      ...doc('Delete a runner', 'Its token stops working at once. Non-admins: a project runner of one project they maintain.'),
    })

    .get('/projects/:id/runners', ({ actor, project, query, request }) => list(request, query, actor, { projectId: project.id }),
      { can: 'admin_project', params: ProjectParams, ...List, ...doc('List the project runners of a project') })

    .post('/projects/:id/runners', ({ actor, project, body }) => {
      const runner = core.access.runner(actor, String(body.runner_id), 'assign_runner');
      core.runners.enableForProject(runner.id, project.id);
      return json(show.runner(core.runners.get(runner.id), actor), 201);
    }, {
      can: 'admin_project', params: ProjectParams, ...withModel(EnableBody), response: { 201: RunnerModel, ...Errors },
      ...doc('Enable a project runner for this project', 'Non-admins: a runner of another project they maintain. 400 for an instance runner, 403 for a locked one, 409 when already enabled.'),
    })

    .delete('/projects/:id/runners/:runner_id', ({ project, params }) => {
      core.runners.disableForProject(runnerOf(core, params.runner_id).id, project.id);
      return empty(204);
    }, {
      can: 'admin_project', params: ProjectRunnerParams, response: { 204: t.Void(), ...Errors },
      ...doc('Disable a project runner for this project', '403 when it is the only project of that runner (delete the runner instead).'),
    });
}
