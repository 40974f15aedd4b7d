/**
 * Runner API v4 (`/api/v4/runners`, `/api/v4/jobs`) for gitlab-runner 9.0 and later —
 * runner-api-v1.md §9, runner-api-v4.md (Baton's decisions), as gitlab-runner 11.11.4
 * speaks it (wire-v4.md). A thin adapter over the same core as v1: parameters in, core
 * call, GitLab's v4 statuses and headers out (`Job-Status`, `Range`, 204 for "no job").
 */
import type { HotRoute } from '../../http/hot-routes';
import { Elysia, t } from 'elysia';
import type { Core } from '../../core';
import type { Next } from '../../core/dispatch';
import { badRequest, DomainError, forbidden } from '../../core/errors';
import type { Job } from '../../db/schema';
import type { RegisterInput } from '../../core/runners';
import { normalizeTags } from '../../core/tag-list';
import { peopleAuth } from '../../http/auth';
import { withModel } from '../../http/params';
import { empty, json } from '../../http/respond';
import { noJobAt } from '../answers';
import { artifactDownload, receiveArtifacts } from '../artifacts';
import { idParam, jobToken } from '../credentials';
import type { RunnerApiOptions } from '../v1/routes';
import { jobPayload } from './payload';
import { patchTrace, type TraceDialect } from '../trace';

// ---------------------------------------------------------------- models

const Info = t.Object({
  name: t.Optional(t.String()), version: t.Optional(t.String()), revision: t.Optional(t.String()),
  platform: t.Optional(t.String()), architecture: t.Optional(t.String()), executor: t.Optional(t.String()),
  shell: t.Optional(t.String()),
  // an object of anything (t.Record would test every key against a pattern on every poll)
  features: t.Optional(t.Object({}, { additionalProperties: true, description: 'what the runner supports, e.g. multi_build_steps' })),
}, { additionalProperties: true, description: 'what the runner says it is' });

const TagList = t.Union([t.String(), t.Array(t.String())], { description: 'comma-separated string or array of tags' });

/** Settings shared by token registration and the admin's runner creation. */
const RunnerSettings = {
  description: t.Optional(t.String()),
  tag_list: t.Optional(TagList),
  run_untagged: t.Optional(t.Boolean({ description: 'default true' })),
  locked: t.Optional(t.Boolean({ description: 'project runners only: may not be enabled for other projects; never stops an instance runner' })),
  paused: t.Optional(t.Boolean({ description: 'wins over `active`' })),
  maximum_timeout: t.Optional(t.Integer({ description: 'seconds; caps the job timeout (0 = none)' })),
  access_level: t.Optional(t.String({ description: 'accepted and ignored (Baton has no protected refs)' })),
  maintenance_note: t.Optional(t.String({ description: 'accepted and ignored' })),
};

const RegisterBody = t.Object({
  token: t.Optional(t.String({ description: 'instance registration token or a project runners_token' })),
  active: t.Optional(t.Boolean({ description: 'false = paused (gitlab-runner register --paused)' })),
  info: t.Optional(Info),
  ...RunnerSettings,
});
const CreateBody = t.Object({
  runner_type: t.Union([t.Literal('instance_type'), t.Literal('group_type'), t.Literal('project_type')]),
  project_id: t.Optional(t.Integer({ description: 'required for project_type' })),
  ...RunnerSettings,
});
const TokenBody = t.Object({ token: t.Optional(t.String({ description: 'runner token' })), system_id: t.Optional(t.String()) });
const RequestBody = t.Object({
  token: t.Optional(t.String({ description: 'runner token' })),
  info: t.Optional(Info),
  last_update: t.Optional(t.String({ description: 'the X-GitLab-Last-Update value of the previous answer (long polling)' })),
  session: t.Optional(t.Any({ description: 'interactive web terminal session; accepted and ignored' })),
  system_id: t.Optional(t.String()),
});
const UpdateBody = t.Object({
  token: t.Optional(t.String({ description: 'job token (or the JOB-TOKEN header)' })),
  state: t.Optional(t.String({ description: 'running (keep-alive) | success | failed' })),
  failure_reason: t.Optional(t.String()),
  exit_code: t.Optional(t.Integer()),
  trace: t.Optional(t.String({ description: 'the whole log (runners before 11.x); replaces the stored one' })),
  info: t.Optional(Info),
  output: t.Optional(t.Any({ description: '{checksum, bytesize} of modern runners; accepted and ignored' })),
  checksum: t.Optional(t.String()),
});

const Registration = t.Object({ id: t.Integer(), token: t.String(), token_expires_at: t.Null() });
const Message = t.Object({ message: t.Any() });
const Id = { params: t.Object({ id: t.String({ description: 'job id' }) }) };
const JobTokenHeader = t.Object({ 'job-token': t.Optional(t.String({ description: 'job token' })) }, { additionalProperties: true });
const doc = (summary: string) => ({ detail: { tags: ['runner-v4'], summary } });

const STATES = ['running', 'success', 'failed'];
/** GitLab asks runners to PATCH every 3 s while someone may be watching. */
const TRACE_UPDATE_INTERVAL = '3';

// ---------------------------------------------------------------- translations

const missingToken = () => json({ error: 'token is missing' }, 400);
const registration = (id: number, token: string) => json({ id, token, token_expires_at: null }, 201);

interface SettingsParams {
  description?: string; tag_list?: string | string[]; run_untagged?: boolean; locked?: boolean;
  paused?: boolean; active?: boolean; maximum_timeout?: number; info?: RegisterInput['info'];
}

const UNTAGGED_RULE = 'can not be empty when runner is not allowed to pick untagged jobs';
/** Today's GitLab answers a runner that could take no job with 400 naming the field (9.x: 404). */
const untaggedRuleBroken = () => json({ message: { tags_list: [UNTAGGED_RULE] } }, 400);

/** v4 parameters → core runner settings. */
function settingsOf(body: SettingsParams): Omit<RegisterInput, 'token'> {
  return {
    description: body.description, tagList: normalizeTags(body.tag_list), runUntagged: body.run_untagged, locked: body.locked,
    active: body.paused !== undefined ? !body.paused : body.active, maximumTimeout: body.maximum_timeout,
    info: body.info, protocol: 'v4',
  };
}

function register(core: Core, body: typeof RegisterBody.static) {
  if (!body.token) return missingToken();
  try {
    const { runner, token } = core.runners.register({ token: body.token, ...settingsOf(body) });
    return registration(runner.id, token);
  } catch (e) {
    // The core refuses such a runner as "not found" (v1's answer), after checking the token.
    if (e instanceof DomainError && e.code === 'not_found') return untaggedRuleBroken();
    throw e;
  }
}

function runnerOf(core: Core, token: string | undefined) {
  const runner = core.runners.authenticate(token);
  if (!runner) throw forbidden();
  return runner;
}

function createRunner(core: Core, body: typeof CreateBody.static) {
  if (body.runner_type === 'group_type') throw badRequest('runner_type: group_type is not supported (Baton has no groups)');
  if (body.runner_type === 'project_type' && body.project_id === undefined) throw badRequest('project_id is missing');
  if (body.runner_type === 'instance_type' && body.project_id !== undefined) throw badRequest('project_id: only for runner_type project_type');
  const settings = settingsOf(body);
  if (settings.tagList!.length === 0 && settings.runUntagged === false) return untaggedRuleBroken();
  const { runner, token } = core.runners.create({ ...settings, projectId: body.project_id });
  return registration(runner.id, token);
}

function requestJob(core: Core, opts: RunnerApiOptions, body: typeof RequestBody.static, request: Request): Response | Promise<Response> {
  const runner = runnerOf(core, body.token);
  core.runners.touch(runner, body.info, 'v4');
  // 11.x counts 404 as a failure and backs off: "nothing for you" is always 204, paused included.
  if (!runner.active) return noJobAt(core.instance.queueEpoch());
  const next = core.dispatch.nextJob(runner, body.last_update, { timeoutMs: opts.pollTimeoutMs, signal: request.signal, features: body.info?.features });
  return next instanceof Promise ? next.then(jobAnswer) : jobAnswer(next);
}

function jobAnswer({ result, epoch }: Next): Response {
  if (result.outcome === 'job') return json(jobPayload(result.context), 201);
  if (result.outcome === 'conflict') return json({ message: '409 Conflict' }, 409);
  return noJobAt(epoch);
}

/** Job calls are signs of life of the runner that holds the job. */
function heartbeat(core: Core, job: Pick<Job, 'runnerId'>, info?: RegisterInput['info']) {
  const runner = core.runners.forHeartbeat(job.runnerId);
  if (runner) core.runners.touch(runner, info, 'v4');
}

function updateJob(core: Core, id: string, body: typeof UpdateBody.static, request: Request) {
  const token = jobToken(request, 'job-token', body);
  const { job } = core.jobs.authenticate(idParam(id), token, { allowProjectToken: false });
  // The runner aborts on 403 and on Job-Status canceled/failed.
  if (job.status !== 'running') return json({ message: '403 Forbidden  - Job is not running' }, 403, { 'Job-Status': job.status });
  if (body.state !== undefined && !STATES.includes(body.state)) throw badRequest(`state: unknown job state "${body.state}" (running, success or failed)`);
  heartbeat(core, job, body.info);
  core.jobs.update(job, {
    state: body.state, trace: body.trace === undefined ? undefined : Buffer.from(body.trace),
    failureReason: body.failure_reason, exitCode: body.exit_code, presentedToken: token,
  });
  return json({ id: job.id }, 200);
}

/** v4 answers with Job-Status (how 11.x learns a cancel), the length and the update interval. */
const traceDialect = (core: Core): TraceDialect => ({
  tokenHeader: 'job-token',
  allowProjectToken: false,
  statusHeader: 'Job-Status',
  accepted(status, length, job) {
    if (status === 'running') heartbeat(core, job);
    // A job that ended still answers 202: its Job-Status is how 11.x learns it was canceled.
    return empty(202, { 'Job-Status': status, Range: `0-${length}`, 'X-GitLab-Trace-Update-Interval': TRACE_UPDATE_INTERVAL });
  },
  rangeHeaders: (job) => ({ 'Job-Status': job.status }),
});

async function uploadArtifacts(core: Core, id: string, request: Request) {
  const { job } = core.jobs.authenticate(idParam(id), jobToken(request, 'job-token'), { allowProjectToken: false });
  const q = new URL(request.url).searchParams;
  const type = q.get('artifact_type');
  const format = q.get('artifact_format');
  if (type !== null && type !== 'archive') {
    // A report (`artifacts:reports`): stored beside the archive.
    await receiveArtifacts(core, job, request, q.get('expire_in') ?? undefined, { type, format });
    // Today's GitLab answers every upload with the body "201".
    return json(201, 201);
  }
  if (format !== null && format !== 'zip') throw badRequest(`artifact_format: "${format}" is not valid for an archive (zip)`);
  const stored = await receiveArtifacts(core, job, request, q.get('expire_in') ?? undefined);
  return json({
    id: stored.id,
    artifacts_file: { filename: stored.artifactsFile, size: stored.artifactsSize },
    artifacts_expire_at: stored.artifactsExpireAt === null ? null : new Date(stored.artifactsExpireAt).toISOString(),
  }, 201);
}

// ---------------------------------------------------------------- routes

/** The job request and the trace PATCH, also served ahead of Elysia (src/http/hot-routes.ts). */
export function runnerApiV4HotRoutes(core: Core, opts: RunnerApiOptions): HotRoute[] {
  const trace = traceDialect(core);
  return [
    { method: 'POST', path: '/api/v4/jobs/request', model: RequestBody, handle: (body: typeof RequestBody.static, request: Request) => requestJob(core, opts, body, request) },
    { method: 'PATCH', path: '/api/v4/jobs/:id/trace', raw: (request, params) => patchTrace(core, params.id, request, trace) },
  ];
}

export function runnerApiV4(core: Core, opts: RunnerApiOptions) {
  const trace = traceDialect(core);
  return new Elysia({ name: 'runner-api.v4', prefix: '/api/v4' })
    .use(peopleAuth(core))
    .post('/runners', ({ body }) => register(core, body), { ...withModel(RegisterBody), response: { 201: Registration, 400: t.Any(), 403: Message }, ...doc('Register a runner with a registration token (gitlab-runner register)') })

    .post('/runners/verify', ({ body }) => {
      if (!body.token) return missingToken();
      return json({ id: runnerOf(core, body.token).id, token: body.token, token_expires_at: null }, 200);
    }, { ...withModel(TokenBody), response: { 200: Registration, 400: t.Any(), 403: Message }, ...doc('Check that a runner token is still valid (gitlab-runner verify)') })

    .delete('/runners', ({ body }) => {
      if (!body.token) return missingToken();
      core.runners.remove(runnerOf(core, body.token).id);
      return empty(204);
    }, { ...withModel(TokenBody), ...doc('Remove the runner owning this token (gitlab-runner unregister)') })

    .post('/user/runners', ({ body }) => createRunner(core, body),
      { admin: true, ...withModel(CreateBody), response: { 201: Registration, 400: t.Any(), 401: Message, 404: Message }, ...doc('Create a runner (admin token); gitlab-runner register --token glrt-… then only verifies it') })

    .post('/jobs/request', ({ body, request }) => requestJob(core, opts, body, request),
      { ...withModel(RequestBody), ...doc('Ask for a job (201 + job payload, 204 = nothing; long polling with last_update)') })

    .put('/jobs/:id', ({ body, params, request }) => updateJob(core, params.id, body, request),
      { ...withModel(UpdateBody), ...Id, ...doc('Report the job state (running = keep-alive, success, failed); job token') })

    .patch('/jobs/:id/trace', ({ params, request }) => patchTrace(core, params.id, request, trace),
      { parse: 'none', ...Id, headers: t.Object({ 'content-range': t.Optional(t.String({ description: '<start>-<end>, end inclusive' })), 'job-token': t.Optional(t.String()) }, { additionalProperties: true }), ...doc('Append to the job log at a byte offset (Content-Range, JOB-TOKEN)') })

    .post('/jobs/:id/artifacts', ({ params, request }) => uploadArtifacts(core, params.id, request), {
      parse: 'none', ...Id, headers: JobTokenHeader,
      query: t.Object({
        artifact_format: t.Optional(t.String({ description: 'zip for the archive; gzip or raw for reports, as the type requires' })),
        artifact_type: t.Optional(t.String({ description: 'archive (default), or a report type: junit, dotenv, …' })),
        expire_in: t.Optional(t.String({ description: 'e.g. "1 week"; default: the instance setting' })), token: t.Optional(t.String()),
      }, { additionalProperties: true }),
      ...doc('Upload the job artifacts or one report (multipart field "file", streamed, JOB-TOKEN; a bad dotenv report answers 400 with GitLab\'s message)'),
    })

    .get('/jobs/:id/artifacts', ({ params, request }) => {
      const { job } = core.jobs.authenticateArtifactDownload(idParam(params.id), jobToken(request, 'job-token'), { allowProjectToken: false });
      return artifactDownload(core, job);
    }, { ...Id, headers: JobTokenHeader, ...doc("Download a job's artifacts (its own token, or a later-stage job's token from dependencies[])") });
}
