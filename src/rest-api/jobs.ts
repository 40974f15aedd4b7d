/**
 * Jobs of a project: lists, details, the log, cancel/retry/play, artifacts
 * (consumer-api.md §2 "Jobs"). A job id of another project is "404 Job Not Found" here.
 * Nothing under `/api/v4/jobs` lives here: that prefix belongs to the runner API (job token).
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import type { Pipeline } from '../db/schema';
import { adminAuth } from '../http/auth';
import { empty, json, text } from '../http/respond';
import { artifactDownload } from '../runner-api/artifacts';
import { Errors, JobParams, ProjectParams, restDoc, ScopeQuery, scopeOf } from './common';
import { jobOf, projectOf } from './lookup';
import { PageQuery, pageOf, paginated } from './pagination';
import { JobModel, Presenter } from './presenters';

export function jobRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = restDoc('jobs');
  const Ok = { params: JobParams, response: { 200: JobModel, ...Errors } };
  const Created = { params: JobParams, response: { 201: JobModel, ...Errors } };
  return new Elysia({ name: 'rest-api.jobs', prefix: '/api/v4/projects/:id/jobs' })
    .use(adminAuth(core))
    .get('', ({ params, query, request }) => {
      const project = projectOf(core, params.id);
      const page = pageOf(query);
      const { rows, total } = core.jobs.list(project.id, { scope: scopeOf(query), offset: page.offset, limit: page.limit });
      const cache = new Map<number, Pipeline>();
      return paginated(request, core.deps.server.url, page, total, rows.map((j) => show.job(j, project, cache)));
    }, {
      params: ProjectParams, query: t.Object({ ...PageQuery, ...ScopeQuery }),
      response: { 200: t.Array(JobModel), ...Errors }, ...doc('List jobs of a project (newest first, retried attempts included)'),
    })

    .get('/:job_id', ({ params }) => {
      const { project, job } = jobOf(core, params.id, params.job_id);
      return json(show.job(job, project));
    }, { ...Ok, ...doc('Get a job') })

    .get('/:job_id/trace', ({ params }) => text(core.jobs.readTrace(jobOf(core, params.id, params.job_id).job.id)),
      { params: JobParams, response: { 200: t.String({ description: 'the log so far (text/plain)' }), ...Errors }, ...doc('Get the log of a job') })

    .post('/:job_id/cancel', ({ params }) => {
      const { project, job } = jobOf(core, params.id, params.job_id);
      return json(show.job(core.jobs.cancel(job.id), project), 201);
    }, { ...Created, ...doc('Cancel a job', 'A finished job is answered unchanged.') })

    .post('/:job_id/retry', ({ params }) => {
      const { project, job } = jobOf(core, params.id, params.job_id);
      return json(show.job(core.jobs.retry(job.id), project), 201);
    }, { ...Created, ...doc('Retry a finished job', 'Creates a new job and answers it; 403 when the job is not finished or already retried.') })

    .post('/:job_id/play', ({ params }) => {
      const { project, job } = jobOf(core, params.id, params.job_id);
      return json(show.job(core.jobs.play(job.id), project));
    }, { ...Ok, ...doc('Start a manual job', '400 "Unplayable Job" unless the job waits in `manual`.') })

    .get('/:job_id/artifacts', ({ params }) => artifactDownload(core, jobOf(core, params.id, params.job_id).job),
      { params: JobParams, response: { 200: t.Any({ description: 'the archive (application/octet-stream)' }), ...Errors }, ...doc('Download the artifacts archive of a job') })

    .delete('/:job_id/artifacts', ({ params }) => {
      core.artifacts.remove(jobOf(core, params.id, params.job_id).job);
      return empty(204);
    }, { params: JobParams, response: { 204: t.Void(), ...Errors }, ...doc('Delete the artifacts of a job') })

    .post('/:job_id/artifacts/keep', ({ params }) => {
      const { project, job } = jobOf(core, params.id, params.job_id);
      return json(show.job(core.artifacts.keep(job), project));
    }, { ...Ok, ...doc('Keep the artifacts of a job (they never expire)') });
}
