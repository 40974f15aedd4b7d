/**
 * Pipelines: creation from `content` or from the project's repository (src/core/git.ts),
 * lists, cancel, retry and delete (consumer-api.md §2 "Pipelines"). A pipeline that cannot
 * be created answers GitLab's `400 {"message": {"base": [...]}}` and leaves nothing behind.
 */
import { Elysia, t, type Static } from 'elysia';
import type { Core } from '../core';
import { parseCiConfig } from '../core/ci-config';
import { badRequest } from '../core/errors';
import { CiSourceError, isValidRefName, type GitReader } from '../core/git';
import type { Pipeline, Project } from '../db/schema';
import { adminAuth } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { Errors, PipelineParams, ProjectParams, restDoc, ScopeQuery, scopeOf } from './common';
import { pipelineOf, projectOf } from './lookup';
import { PageQuery, pageOf, paginated, slice } from './pagination';
import { JobModel, Message, PipelineModel, Presenter, STATUSES } from './presenters';

const FULL_SHA = /^[0-9a-f]{40}$/i;
const VARIABLE_KEY = /^[A-Za-z0-9_]{1,255}$/;

const CreateBody = t.Object({
  ref: t.String({ minLength: 1, description: 'branch or tag name' }),
  sha: t.Optional(t.String({ description: 'commit to build (default: the tip of ref)' })),
  before_sha: t.Optional(t.String({ description: 'previous commit (CI_COMMIT_BEFORE_SHA); default 40 zeros' })),
  variables: t.Optional(t.Array(t.Object({ key: t.String(), value: t.String(), variable_type: t.Optional(t.String()) }), {
    description: 'pipeline variables; also accepted as variables[0][key]=… or variables[KEY]=value',
  })),
  content: t.Optional(t.String({ description: 'the .gitlab-ci.yml text; without it Baton reads .gitlab-ci.yml from repo_url with git' })),
  tag: t.Optional(t.Boolean({ description: 'with content and a full sha (git not asked): ref is a tag (default false)' })),
});
type CreateInput = Static<typeof CreateBody>;

/** Forms send `variables[0][key]=…` (an object keyed by index) or a `variables[KEY]=value` hash. */
function normalizeVariables(bag: Record<string, unknown>): Record<string, unknown> {
  const v = bag.variables;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return bag;
  const values = Object.values(v);
  const list = values.every((x) => x !== null && typeof x === 'object')
    ? values : Object.entries(v).map(([key, value]) => ({ key, value }));
  return { ...bag, variables: list };
}

const model = withModel(CreateBody);
const createOptions = { ...model, parse: async (ctx: Parameters<typeof model.parse>[0]) => normalizeVariables(await model.parse(ctx)) };

/**
 * Decides what the pipeline runs, then creates it. git is asked unless both `content` and a
 * full sha are given: it knows the sha of the ref's tip and whether the ref is a tag.
 */
async function createPipeline(core: Core, git: GitReader, project: Project, b: CreateInput): Promise<Pipeline> {
  if (!isValidRefName(b.ref)) throw badRequest(`ref is invalid: "${b.ref}" is not a valid branch or tag name`);
  if (b.before_sha !== undefined && !FULL_SHA.test(b.before_sha)) throw badRequest('before_sha is invalid: must be a full 40-character commit sha');
  const badKey = b.variables?.find((v) => !VARIABLE_KEY.test(v.key));
  if (badKey) throw badRequest(`variables is invalid: key "${badKey.key}" may contain only letters, digits and _`);
  let { content, sha, tag = false } = b;
  if (content === undefined) {
    ({ content, sha, tag } = await git.ciSource(project.id, project.repoUrl, { ref: b.ref, sha }));
  } else if (sha === undefined || !FULL_SHA.test(sha)) {
    ({ sha, tag } = await git.resolve(project.id, project.repoUrl, { ref: b.ref, sha }));
  }
  const parsed = parseCiConfig(content, { name: b.ref, tag });
  if (!parsed.ok) throw new CiSourceError(parsed.errors);
  return core.pipelines.create(project.id, {
    ref: b.ref, tag, sha: sha!.toLowerCase(), beforeSha: b.before_sha?.toLowerCase(), source: 'api',
    variables: b.variables?.map((v) => ({ key: v.key, value: v.value })),
  }, parsed.plan);
}

export function pipelineRoutes(core: Core, git: GitReader) {
  const show = new Presenter(core);
  const doc = restDoc('pipelines');
  return new Elysia({ name: 'rest-api.pipelines', prefix: '/api/v4/projects/:id' })
    .use(adminAuth(core))
    .post('/pipeline', async ({ params, body }) => {
      const project = projectOf(core, params.id);
      try {
        return json(show.pipeline(await createPipeline(core, git, project, body), project), 201);
      } catch (e) {
        if (e instanceof CiSourceError) return json({ message: { base: e.base } }, 400);
        throw e;
      }
    }, {
      params: ProjectParams, ...createOptions, response: { 201: PipelineModel, ...Errors },
      ...doc('Create a pipeline', 'Parameters in the body (JSON or form) or the query. A configuration, ref or repository problem answers 400 {"message": {"base": ["…"]}} and creates nothing.'),
    })

    .get('/pipelines', ({ params, query, request }) => {
      const project = projectOf(core, params.id);
      if (query.status !== undefined && !(STATUSES as readonly string[]).includes(query.status)) {
        throw badRequest(`status does not have a valid value: "${query.status}" (one of ${STATUSES.join(', ')})`);
      }
      const page = pageOf(query);
      const { rows, total } = core.pipelines.list(project.id, { status: query.status, ref: query.ref, offset: page.offset, limit: page.limit });
      return paginated(request, core.deps.server.url, page, total, rows.map((p) => show.pipeline(p, project)));
    }, {
      params: ProjectParams,
      query: t.Object({ ...PageQuery, status: t.Optional(t.String({ description: STATUSES.join(', ') })), ref: t.Optional(t.String()) }),
      response: { 200: t.Array(PipelineModel), ...Errors }, ...doc('List pipelines (newest first)'),
    })

    .get('/pipelines/:pipeline_id', ({ params }) => {
      const { project, pipeline } = pipelineOf(core, params.id, params.pipeline_id);
      return json(show.pipeline(pipeline, project));
    }, { params: PipelineParams, response: { 200: PipelineModel, ...Errors }, ...doc('Get a pipeline') })

    .get('/pipelines/:pipeline_id/jobs', ({ params, query, request }) => {
      const { project, pipeline } = pipelineOf(core, params.id, params.pipeline_id);
      const scope = scopeOf(query);
      const page = pageOf(query);
      const { rows, total } = query.include_retried
        ? core.jobs.list(project.id, { pipelineId: pipeline.id, scope, offset: page.offset, limit: page.limit })
        : slice(core.pipelines.latestJobs(pipeline.id).filter((j) => !scope || scope.includes(j.status)).sort((a, b) => b.id - a.id), page);
      const cache = new Map([[pipeline.id, pipeline]]);
      return paginated(request, core.deps.server.url, page, total, rows.map((j) => show.job(j, project, cache)));
    }, {
      params: PipelineParams,
      query: t.Object({ ...PageQuery, ...ScopeQuery, include_retried: t.Optional(t.Boolean({ description: 'also the older attempts of retried jobs (default false)' })) }),
      response: { 200: t.Array(JobModel), ...Errors }, ...doc("List a pipeline's jobs (newest first)"),
    })

    .post('/pipelines/:pipeline_id/cancel', ({ params }) => {
      const { project, pipeline } = pipelineOf(core, params.id, params.pipeline_id);
      return json(show.pipeline(core.pipelines.cancel(pipeline.id), project));
    }, { params: PipelineParams, response: { 200: PipelineModel, ...Errors }, ...doc("Cancel a pipeline's unfinished jobs") })

    .post('/pipelines/:pipeline_id/retry', ({ params }) => {
      const { project, pipeline } = pipelineOf(core, params.id, params.pipeline_id);
      return json(show.pipeline(core.pipelines.retry(pipeline.id), project), 201);
    }, { params: PipelineParams, response: { 201: PipelineModel, ...Errors }, ...doc('Retry the failed and canceled jobs of a pipeline') })

    .delete('/pipelines/:pipeline_id', ({ params }) => {
      core.pipelines.delete(pipelineOf(core, params.id, params.pipeline_id).pipeline.id);
      return empty(204);
    }, { params: PipelineParams, response: { 204: t.Void(), 400: Message, 401: Message, 404: Message }, ...doc('Delete a pipeline with its jobs, traces and artifacts') });
}
