/**
 * GitLab CI API v1 (`/ci/api/v1`) for gitlab-ci-multi-runner 1.x — runner-api-v1.md §3–§5.
 * Handlers only translate: parameters in, core call, GitLab's exact statuses and headers out.
 * Every path also answers with a `.json` suffix, as GitLab's router does.
 */
import type { HotRoute } from '../../http/hot-routes';
import { Elysia, t } from 'elysia';
import type { Core } from '../../core';
import type { Next } from '../../core/dispatch';
import { forbidden } from '../../core/errors';
import { normalizeTags } from '../../core/tag-list';
import { withModel } from '../../http/params';
import { json } from '../../http/respond';
import { noJobAt } from '../answers';
import { artifactDownload, receiveArtifacts } from '../artifacts';
import { idParam, jobToken } from '../credentials';
import { buildDetails } from './payload';
import { patchTrace, type TraceDialect } from '../trace';

export interface RunnerApiOptions {
  pollTimeoutMs: number;
}

const Info = t.Object({
  name: t.Optional(t.String()), version: t.Optional(t.String()), revision: t.Optional(t.String()),
  platform: t.Optional(t.String()), architecture: t.Optional(t.String()), executor: t.Optional(t.String()),
}, { additionalProperties: true });

const RegisterBody = t.Object({
  token: t.Optional(t.String({ description: 'instance registration token or a project runners_token' })),
  description: t.Optional(t.String()),
  tag_list: t.Optional(t.Union([t.String(), t.Array(t.String())], { description: 'comma-separated string or array' })),
  run_untagged: t.Optional(t.Boolean()),
  locked: t.Optional(t.Boolean()),
  info: t.Optional(Info),
});
const TokenBody = t.Object({ token: t.Optional(t.String()) });
const RequestBody = t.Object({ token: t.Optional(t.String()), info: t.Optional(Info), last_update: t.Optional(t.String()) });
const UpdateBody = t.Object({
  token: t.Optional(t.String()),
  state: t.Optional(t.String()),
  trace: t.Optional(t.String({ description: 'the whole log; replaces the stored one' })),
  info: t.Optional(Info),
});

const tag = { detail: { tags: ['runner-v1'] } };
const Id = { params: t.Object({ id: t.String() }) };
/** Runners ≥ 1.3.0 identify themselves; GitLab 8.12+ answers them 204 instead of 404. */
const RUNNER_UA = /gitlab-ci-multi-runner \d+\.\d+\.\d+(~beta\.\d+\.g[0-9a-f]+)? /;
/** v1 answers an accepted slice with the build status and the new length (and a JSON body). */
const V1_TRACE: TraceDialect = {
  tokenHeader: 'build-token',
  allowProjectToken: true,
  statusHeader: 'Build-Status',
  accepted: (status, length) => json(status, 202, { 'Build-Status': status, Range: `0-${length}` }),
};
const missingToken = () => json({ error: 'token is missing' }, 400);

function requestBuild(core: Core, opts: RunnerApiOptions, body: typeof RequestBody.static, request: Request): Response | Promise<Response> {
  const runner = core.runners.authenticate(body.token);
  if (!runner) throw forbidden();
  const noBuild = (epoch: string) =>
    RUNNER_UA.test(request.headers.get('user-agent') ?? '') ? noJobAt(epoch) : json({ message: '404 Not Found' }, 404, { 'X-GitLab-Last-Update': epoch });
  if (!runner.active) return json({ message: '404 Not Found' }, 404);
  core.runners.touch(runner, body.info, 'v1');
  // No features: a 1.x runner runs one script, so a `release:` job it would get fails (runner_unsupported).
  const answer = ({ result, epoch }: Next) => {
    if (result.outcome === 'job') return json(buildDetails(result.context), 201);
    if (result.outcome === 'conflict') return json({ message: '409 Conflict' }, 409);
    return noBuild(epoch);
  };
  const next = core.dispatch.nextJob(runner, body.last_update, { timeoutMs: opts.pollTimeoutMs, signal: request.signal });
  return next instanceof Promise ? next.then(answer) : answer(next);
}

/** The build request and the trace PATCH, also served ahead of Elysia (src/http/hot-routes.ts). */
export function runnerApiV1HotRoutes(core: Core, opts: RunnerApiOptions): HotRoute[] {
  const handle = (body: typeof RequestBody.static, request: Request) => requestBuild(core, opts, body, request);
  return [
    ...['/ci/api/v1/builds/register', '/ci/api/v1/builds/register.json'].map((path): HotRoute => ({ method: 'POST', path, model: RequestBody, handle })),
    { method: 'PATCH', path: '/ci/api/v1/builds/:id/trace.txt', raw: (request, params) => patchTrace(core, params.id, request, V1_TRACE) },
  ];
}

export function runnerApiV1(core: Core, opts: RunnerApiOptions) {
  const app = new Elysia({ name: 'runner-api.v1', prefix: '/ci/api/v1' });
  const both = (path: string) => [path, `${path}.json`];

  for (const path of both('/runners/register')) {
    app.post(path, ({ body }) => {
      if (!body.token) return missingToken();
      const { runner, token } = core.runners.register({
        token: body.token, description: body.description, tagList: normalizeTags(body.tag_list),
        runUntagged: body.run_untagged, locked: body.locked, info: body.info, protocol: 'v1',
      });
      return json({ id: runner.id, token }, 201);
    }, { ...withModel(RegisterBody), ...tag });
  }

  for (const path of both('/runners/delete')) {
    app.delete(path, ({ body }) => {
      if (!body.token) return missingToken();
      const runner = core.runners.authenticate(body.token);
      if (!runner) throw forbidden();
      core.runners.remove(runner.id);
      return json({ id: runner.id }, 200);
    }, { ...withModel(TokenBody), ...tag });
  }

  for (const path of both('/builds/register')) {
    app.post(path, ({ body, request }) => requestBuild(core, opts, body, request), { ...withModel(RequestBody), ...tag });
  }

  // Also how a 1.x runner verifies itself: PUT builds/-1 → 404 alive, 403 removed.
  app.put('/builds/:id', ({ body, params }) => {
    const runner = core.runners.authenticate(body.token);
    if (!runner) throw forbidden();
    const job = core.jobs.runningFor(runner, idParam(params.id));
    if (!job) return json({ message: '404 Not found' }, 404);
    core.runners.touch(runner, body.info, 'v1');
    core.jobs.update(job, { state: body.state, trace: body.trace === undefined ? undefined : Buffer.from(body.trace) });
    return json(body.state === 'success' || body.state === 'failed', 200);
  }, { ...withModel(UpdateBody), ...Id, ...tag });

  app.patch('/builds/:id/trace.txt', ({ params, request }) => patchTrace(core, params.id, request, V1_TRACE), { parse: 'none', ...Id, detail: { tags: ['runner-v1'], summary: 'Append to the build log at a byte offset (Content-Range, BUILD-TOKEN)' } });

  for (const path of both('/builds/:id/artifacts')) {
    app.post(path, async ({ params, request }) => {
      const token = jobToken(request, 'build-token');
      const { job } = core.jobs.authenticate(idParam(params.id), token, { allowProjectToken: true });
      const expireIn = new URL(request.url).searchParams.get('expire_in') ?? undefined;
      const stored = await receiveArtifacts(core, job, request, expireIn);
      return json(buildDetails(core.jobs.context(stored, token!)), 201);
    }, { parse: 'none', ...Id, detail: { tags: ['runner-v1'], summary: 'Upload the build artifacts (multipart field "file", streamed)' } });

    app.get(path, ({ params, request }) => {
      const { job } = core.jobs.authenticateArtifactDownload(idParam(params.id), jobToken(request, 'build-token'), { allowProjectToken: true });
      return artifactDownload(core, job);
    }, { ...Id, ...tag });

    app.delete(path, ({ params, request }) => {
      const { job } = core.jobs.authenticate(idParam(params.id), jobToken(request, 'build-token'), { allowProjectToken: true });
      core.artifacts.remove(job);
      return json({ id: job.id }, 200);
    }, { ...Id, ...tag });
  }

  return app;
}
