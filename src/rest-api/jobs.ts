/**
 * Jobs of a project: lists, details, the log, cancel/retry/play, artifacts
 * (consumer-api.md §2 "Jobs"). A job id of another project is "404 Job Not Found" here.
 * Nothing under `/api/v4/jobs` lives here: that prefix belongs to the runner API (job token).
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import type { Pipeline } from '../db/schema';
import { peopleAuth } from '../http/auth';
import { empty, json, text } from '../http/respond';
import { artifactDownload } from '../http/download';
import { Errors, JobParams, ProjectParams, restDoc, ScopeQuery, scopeOf } from './common';
import { jobIn } from './lookup';
import { PageQuery, pageOf, paginated } from './pagination';
import { JobModel, Presenter } from './presenters';

export function jobRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = restDoc('jobs');
  const Ok = { params: JobParams, response: { 200: JobModel, ...Errors } };
  const Created = { params: JobParams, response: { 201: JobModel, ...Errors } };
  const Read = { can: 'read_job' as const, ...Ok };
  const Act = { can: 'update_job' as const, ...Created };
  return new Elysia({ name: 'rest-api.jobs', prefix: '/api/v4/projects/:id/jobs' })
    .use(peopleAuth(core))
    .get('', ({ project, query, request }) => {
      const page = pageOf(query);
      const { rows, total } = core.jobs.list(project.id, { scope: scopeOf(query), offset: page.offset, limit: page.limit });
      const cache = new Map<number, Pipeline>();
      return paginated(request, core.deps.server.url, page, total, rows.map((j) => show.job(j, project, cache)));
    }, {
      can: 'read_job', params: ProjectParams, query: t.Object({ ...PageQuery, ...ScopeQuery }),
      response: { 200: t.Array(JobModel), ...Errors }, ...doc('List jobs of a project (newest first, retried attempts included)'),
    })

    .get('/:job_id', ({ project, params }) => json(show.job(jobIn(core, project, params.job_id), project)),
      { ...Read, ...doc('Get a job') })

    .get('/:job_id/trace', ({ project, params }) => text(core.jobs.readTrace(jobIn(core, project, params.job_id).id)),
      { can: 'read_trace', params: JobParams, response: { 200: t.String({ description: 'the log so far (text/plain)' }), ...Errors }, ...doc('Get the log of a job') })

    .post('/:job_id/cancel', ({ project, params }) =>
      json(show.job(core.jobs.cancel(jobIn(core, project, params.job_id).id), project), 201),
    { ...Act, ...doc('Cancel a job', 'A finished job is answered unchanged.') })

    .post('/:job_id/retry', ({ project, params }) =>
      json(show.job(core.jobs.retry(jobIn(core, project, params.job_id).id), project), 201),
    { ...Act, ...doc('Retry a finished job', 'Creates a new job and answers it; 403 when the job is not finished or already retried.') })

    .post('/:job_id/play', ({ project, params }) =>
      json(show.job(core.jobs.play(jobIn(core, project, params.job_id).id), project)),
    { ...Ok, can: 'update_job', ...doc('Start a manual job', '400 "Unplayable Job" unless the job waits in `manual`.') })

    .get('/:job_id/artifacts', ({ project, params }) => artifactDownload(core, jobIn(core, project, params.job_id)),
      { can: 'read_artifacts', params: JobParams, response: { 200: t.Any({ description: 'the archive (application/octet-stream)' }), ...Errors }, ...doc('Download the artifacts archive of a job') })

    .delete('/:job_id/artifacts', ({ project, params }) => {
      core.artifacts.remove(jobIn(core, project, params.job_id));
      return empty(204);
    }, { can: 'admin_project', params: JobParams, response: { 204: t.Void(), ...Errors }, ...doc('Delete the artifacts of a job') })

    .post('/:job_id/artifacts/keep', ({ project, params }) =>
      json(show.job(core.artifacts.keep(jobIn(core, project, params.job_id)), project)),
    { ...Ok, can: 'update_job', ...doc('Keep the artifacts of a job (they never expire)') });
}
