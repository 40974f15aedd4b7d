/**
 * Pipelines: creation from `content` or from the project's repository (src/core/git.ts),
 * lists, cancel, retry and delete (consumer-api.md §2 "Pipelines"). A pipeline that cannot
 * be created answers GitLab's `400 {"message": {"base": [...]}}` and leaves nothing behind.
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { badRequest } from '../core/errors';
import { CiSourceError } from '../core/git';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { Errors, PipelineParams, ProjectParams, restDoc, ScopeQuery, scopeOf } from './common';
import { pipelineIn } from './lookup';
import { PageQuery, pageOf, paginated, slice } from './pagination';
import { JobModel, PipelineModel, Presenter, STATUSES } from './presenters';

const CreateBody = t.Object({
  ref: t.String({ minLength: 1, description: 'branch or tag name' }),
  sha: t.Optional(t.String({ description: 'commit to build (default: the tip of ref)' })),
  before_sha: t.Optional(t.String({ description: 'previous commit (CI_COMMIT_BEFORE_SHA); default 40 zeros' })),
  variables: t.Optional(t.Array(t.Object({ key: t.String(), value: t.String(), variable_type: t.Optional(t.String()) }), {
    description: 'pipeline variables; also accepted as variables[0][key]=… or variables[KEY]=value',
  })),
  content: t.Optional(t.String({ description: 'the .gitlab-ci.yml text; without it Baton reads .gitlab-ci.yml from repo_url with git' })),
  tag: t.Optional(t.Boolean({ description: 'with content and a full sha (git not asked): ref is a tag (default false)' })),
  inputs: t.Optional(t.Record(t.String(), t.Any(), { description: 'values for the spec:inputs of the configuration file' })),
});

/** Forms send `variables[0][key]=…` (an object keyed by index) or a `variables[KEY]=value` hash. */
function normalizeVariables(bag: Record<string, unknown>): Record<string, unknown> {
  const v = bag.variables;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return bag;
  const values = Object.values(v);
  const list = values.every((x) => x !== null && typeof x === 'object')
    ? values : Object.entries(v).map(([key, value]) => ({ key, value }));
  return { ...bag, variables: list };
}

const PipelineVariableModel = t.Object({ variable_type: t.String({ description: 'env_var' }), key: t.String(), value: t.String(), raw: t.Boolean() });

const model = withModel(CreateBody);
const createOptions = { ...model, parse: async (ctx: Parameters<typeof model.parse>[0]) => normalizeVariables(await model.parse(ctx)) };

export function pipelineRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = restDoc('pipelines');
  return new Elysia({ name: 'rest-api.pipelines', prefix: '/api/v4/projects/:id' })
    .use(peopleAuth(core))
    .post('/pipeline', async ({ project, body, actor }) => {
      try {
        const pipeline = await core.creator.create(project, {
          ref: body.ref, sha: body.sha, beforeSha: body.before_sha, tag: body.tag, content: body.content, variables: body.variables,
          // GitLab: a pipeline started from the dashboard has source `web`
          source: actor.via === 'session' ? 'web' : 'api', userId: actor.userId, actor,
          ...(body.inputs ? { inputs: body.inputs } : {}),
        });
        return json(show.pipeline(pipeline, project, { withName: false }), 201);
      } catch (e) {
        if (e instanceof CiSourceError) return json({ message: { base: e.base } }, 400);
        throw e;
      }
    }, {
      can: 'create_pipeline', params: ProjectParams, ...createOptions, response: { 201: PipelineModel, ...Errors },
      ...doc('Create a pipeline', 'Parameters in the body (JSON or form) or the query. A configuration, ref or repository problem answers 400 {"message": {"base": ["…"]}} and creates nothing.'),
    })

    .get('/pipelines', ({ project, query, request }) => {
      if (query.status !== undefined && !(STATUSES as readonly string[]).includes(query.status)) {
        throw badRequest(`status does not have a valid value: "${query.status}" (one of ${STATUSES.join(', ')})`);
      }
      const page = pageOf(query);
      const { rows, total } = core.pipelines.list(project.id, { status: query.status, ref: query.ref, offset: page.offset, limit: page.limit });
      return paginated(request, core.deps.server.url, page, total, rows.map((p) => show.pipeline(p, project)));
    }, {
      can: 'read_pipeline', params: ProjectParams,
      query: t.Object({ ...PageQuery, status: t.Optional(t.String({ description: STATUSES.join(', ') })), ref: t.Optional(t.String()) }),
      response: { 200: t.Array(PipelineModel), ...Errors }, ...doc('List pipelines (newest first)'),
    })

    .get('/pipelines/:pipeline_id', ({ project, params }) =>
      json(show.pipeline(pipelineIn(core, project, params.pipeline_id), project)),
    { can: 'read_pipeline', params: PipelineParams, response: { 200: PipelineModel, ...Errors }, ...doc('Get a pipeline') })

    .get('/pipelines/:pipeline_id/jobs', ({ project, params, query, request }) => {
      const pipeline = pipelineIn(core, project, params.pipeline_id);
      const scope = scopeOf(query);
      const page = pageOf(query);
      const { rows, total } = query.include_retried
        ? core.jobs.list(project.id, { pipelineId: pipeline.id, scope, offset: page.offset, limit: page.limit })
        : slice(core.pipelines.latestJobs(pipeline.id, 'build').filter((j) => !scope || scope.includes(j.status)).sort((a, b) => b.id - a.id), page);
      const cache = new Map([[pipeline.id, pipeline]]);
      return paginated(request, core.deps.server.url, page, total, rows.map((j) => show.job(j, project, cache)));
    }, {
      can: 'read_job', params: PipelineParams,
      query: t.Object({ ...PageQuery, ...ScopeQuery, include_retried: t.Optional(t.Boolean({ description: 'also the older attempts of retried jobs (default false)' })) }),
      response: { 200: t.Array(JobModel), ...Errors }, ...doc("List a pipeline's jobs (newest first)"),
    })

    .get('/pipelines/:pipeline_id/variables', ({ project, params }) =>
      json(pipelineIn(core, project, params.pipeline_id).triggerVariables.map((v) => ({ variable_type: 'env_var', key: v.key, value: v.value, raw: false }))),
    {
      can: 'update_pipeline', params: PipelineParams, response: { 200: t.Array(PipelineVariableModel), ...Errors },
      ...doc("A pipeline's variables", 'The variables it was created with (API, trigger, schedule, parent pipeline), as GitLab shows them to those who may run pipelines.'),
    })

    .post('/pipelines/:pipeline_id/cancel', ({ project, params }) =>
      json(show.pipeline(core.pipelines.cancel(pipelineIn(core, project, params.pipeline_id).id), project)),
    { can: 'update_pipeline', params: PipelineParams, response: { 200: PipelineModel, ...Errors }, ...doc("Cancel a pipeline's unfinished jobs") })

    .post('/pipelines/:pipeline_id/retry', ({ project, params }) =>
      json(show.pipeline(core.pipelines.retry(pipelineIn(core, project, params.pipeline_id).id), project), 201),
    { can: 'update_pipeline', params: PipelineParams, response: { 201: PipelineModel, ...Errors }, ...doc('Retry the failed and canceled jobs of a pipeline') })

    .delete('/pipelines/:pipeline_id', ({ project, params }) => {
      core.pipelines.delete(pipelineIn(core, project, params.pipeline_id).id);
      return empty(204);
    }, { can: 'destroy_pipeline', params: PipelineParams, response: { 204: t.Void(), ...Errors }, ...doc('Delete a pipeline with its jobs, traces and artifacts') });
}
