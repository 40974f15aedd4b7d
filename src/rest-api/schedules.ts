/**
 * Pipeline schedules, as GitLab (forges-and-rest.md §C.7): `/projects/:id/pipeline_schedules`
 * (list, show, create, edit, delete: Maintainer), `…/play` (Developer: it only starts a
 * pipeline, as `POST /pipeline` does), `…/variables` and `…/pipelines` (what it started).
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { badRequest } from '../core/errors';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { AutomationPresenter, PipelineBasic, ScheduleDetailsModel, ScheduleModel, ScheduleVariableModel } from './automation-presenters';
import { Errors, ProjectParams, restDoc } from './common';
import { PageQuery, pageOf, paginated, slice } from './pagination';
import { Message, STATUSES } from './presenters';

const ScheduleParams = t.Object({ id: t.String({ description: 'project id' }), schedule_id: t.String() });
const VariableParams = t.Object({ id: t.String({ description: 'project id' }), schedule_id: t.String(), key: t.String() });
const fields = {
  description: t.Optional(t.String()),
  ref: t.Optional(t.String({ description: 'branch or tag' })),
  cron: t.Optional(t.String({ description: 'five fields (minute hour day month weekday) with ranges, steps, lists, names; or @hourly, @daily, @weekly, @monthly, @yearly' })),
  cron_timezone: t.Optional(t.String({ description: 'an IANA time zone (default UTC)' })),
  active: t.Optional(t.Boolean({ description: 'default true' })),
};
const ScheduleBody = t.Object(fields);
const VariableBody = t.Object({ key: t.Optional(t.String()), value: t.Optional(t.String()), variable_type: t.Optional(t.String({ description: 'env_var (file is not supported)' })) });

const input = (b: { description?: string; ref?: string; cron?: string; cron_timezone?: string; active?: boolean }) =>
  ({ description: b.description, ref: b.ref, cron: b.cron, cronTimezone: b.cron_timezone, active: b.active });

export function scheduleRoutes(core: Core) {
  const show = new AutomationPresenter(core);
  const doc = restDoc('pipeline_schedules');
  return new Elysia({ name: 'rest-api.schedules', prefix: '/api/v4/projects/:id/pipeline_schedules' })
    .use(peopleAuth(core))
    .get('', ({ project, query, request }) => {
      if (query.scope !== undefined && query.scope !== 'active' && query.scope !== 'inactive') throw badRequest('scope does not have a valid value: active or inactive');
      const page = pageOf(query);
      const { rows, total } = slice(core.schedules.list(project.id, query.scope as 'active' | 'inactive' | undefined), page);
      return paginated(request, core.deps.server.url, page, total, rows.map((s) => show.schedule(s)));
    }, { can: 'admin_project', params: ProjectParams, query: t.Object({ ...PageQuery, scope: t.Optional(t.String({ description: 'active or inactive' })) }), response: { 200: t.Array(ScheduleModel), ...Errors }, ...doc('List pipeline schedules') })

    .get('/:schedule_id', ({ project, params }) => json(show.scheduleDetails(core.schedules.get(project.id, params.schedule_id), project)),
      { can: 'admin_project', params: ScheduleParams, response: { 200: ScheduleDetailsModel, ...Errors }, ...doc('Get a pipeline schedule, with its last pipeline and variables') })

    .get('/:schedule_id/pipelines', ({ project, params, query, request }) => {
      if (query.sort !== undefined && query.sort !== 'asc' && query.sort !== 'desc') throw badRequest('sort does not have a valid value: asc or desc');
      if (query.status !== undefined && !(STATUSES as readonly string[]).includes(query.status)) throw badRequest(`status does not have a valid value: "${query.status}" (one of ${STATUSES.join(', ')})`);
      const page = pageOf(query);
      const { rows, total } = core.schedules.pipelines(core.schedules.get(project.id, params.schedule_id), { status: query.status, desc: query.sort === 'desc', offset: page.offset, limit: page.limit });
      return paginated(request, core.deps.server.url, page, total, rows.map((p) => show.pipelineBasic(p, project)));
    }, {
      can: 'admin_project', params: ScheduleParams,
      query: t.Object({ ...PageQuery, status: t.Optional(t.String({ description: STATUSES.join(', ') })), sort: t.Optional(t.String({ description: 'asc (default) or desc, by id' })) }),
      response: { 200: t.Array(PipelineBasic), ...Errors }, ...doc('List the pipelines a schedule started'),
    })

    .post('', ({ project, body }) => json(show.scheduleDetails(core.schedules.create(project.id, input(body)), project), 201),
      { can: 'admin_project', params: ProjectParams, ...withModel(ScheduleBody), response: { 201: ScheduleDetailsModel, ...Errors }, ...doc('Create a pipeline schedule', 'description, ref and cron are required.') })

    .put('/:schedule_id', ({ project, params, body }) => json(show.scheduleDetails(core.schedules.update(project.id, params.schedule_id, input(body)), project)),
      { can: 'admin_project', params: ScheduleParams, ...withModel(ScheduleBody), response: { 200: ScheduleDetailsModel, ...Errors }, ...doc('Edit a pipeline schedule') })

    .delete('/:schedule_id', ({ project, params }) => {
      core.schedules.delete(project.id, params.schedule_id);
      return empty(204);
    }, { can: 'admin_project', params: ScheduleParams, response: { 204: t.Void(), ...Errors }, ...doc('Delete a pipeline schedule') })

    .post('/:schedule_id/play', ({ project, params }) => {
      core.schedules.play(project.id, params.schedule_id);
      return json({ message: '201 Created' }, 201);
    }, { can: 'create_pipeline', params: ScheduleParams, response: { 201: Message, ...Errors }, ...doc('Run a schedule now', 'Queued: the answer carries no pipeline; see last_pipeline.') })

    .post('/:schedule_id/variables', ({ project, params, body }) =>
      json(show.variable(core.schedules.createVariable(project.id, params.schedule_id, { key: body.key, value: body.value, variableType: body.variable_type })), 201),
    { can: 'admin_project', params: ScheduleParams, ...withModel(VariableBody), response: { 201: ScheduleVariableModel, ...Errors }, ...doc('Add a schedule variable') })

    .put('/:schedule_id/variables/:key', ({ project, params, body }) =>
      json(show.variable(core.schedules.updateVariable(project.id, params.schedule_id, params.key, { value: body.value, variableType: body.variable_type }))),
    { can: 'admin_project', params: VariableParams, ...withModel(VariableBody), response: { 200: ScheduleVariableModel, ...Errors }, ...doc('Edit a schedule variable') })

    .delete('/:schedule_id/variables/:key', ({ project, params }) =>
      json(show.variable(core.schedules.deleteVariable(project.id, params.schedule_id, params.key)), 202),
    { can: 'admin_project', params: VariableParams, response: { 202: ScheduleVariableModel, ...Errors }, ...doc('Delete a schedule variable (202 with the deleted variable, as GitLab)') });
}
