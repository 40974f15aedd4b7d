/**
 * The dashboard (at `/`, inside the binary): server-rendered pages at GitLab's web paths,
 * each enhanced by the one embedded script (client/main.ts) for what must happen in the
 * browser — the live log and pipeline graph (Server-Sent Events), the buttons and forms
 * (REST API calls carrying the session's CSRF token). Pages read through the same core
 * services and presenters as the REST API; access is the one authorization function's.
 *
 *   /users/sign_in                                   sign-in form (POST: rest-api/sessions.ts)
 *   /                                                projects
 *   /<namespace>/<project>                           overview: default branch, recent pipelines
 *   /<namespace>/<project>/-/pipelines               pipelines (?status, ?ref, ?page)
 *   /<namespace>/<project>/-/pipelines/new           run a pipeline
 *   /<namespace>/<project>/-/pipelines/<id>          jobs by stage, live
 *   /<namespace>/<project>/-/jobs/<id>               log (live), details, artifacts
 *   /<namespace>/<project>/-/jobs/<id>/raw           the log as text (Range)
 *   /<namespace>/<project>/-/jobs/<id>/artifacts/download | browse
 *   /<namespace>/<project>/-/runners                 its runners: pause/resume (Maintainers)
 *   /admin/runners  /admin/users                     instance administration
 *   /assets/<file>                                   the embedded script, stylesheet, icon
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { jobIn, pipelineIn } from '../rest-api/lookup';
import { artifactDownload } from '../http/download';
import { assetResponse } from './assets';
import { page, projectAt, seen, webContext } from './context';
import { projectRunnersPage, runnersPage, usersPage } from './pages/admin';
import { artifactsPage, jobPage } from './pages/job';
import { pipelinePage } from './pages/pipeline';
import { newPipelinePage, pipelinesPage, projectPage } from './pages/pipelines';
import { projectsPage } from './pages/projects';
import { localPath, signInPage } from './pages/sign-in';
import { rawLog } from './raw-log';
import { htmlResponse, redirect } from './security';

const hide = { detail: { hide: true } };
const Project = t.Object({ namespace: t.String(), project: t.String() });
const PipelinePath = t.Object({ namespace: t.String(), project: t.String(), pipeline_id: t.String() });
const JobPath = t.Object({ namespace: t.String(), project: t.String(), job_id: t.String() });
const Page = t.Object({ page: t.Optional(t.String()) });

export function dashboard(core: Core) {
  const web = webContext(core);
  return new Elysia({ name: 'web' })
    .get('/assets/:file', ({ params, request }) => assetResponse(params.file, request)
      ?? new Response(JSON.stringify({ message: '404 Not Found' }), { status: 404, headers: { 'content-type': 'application/json' } }), hide)

    .get('/users/sign_in', ({ request, query }) => (seen(web, request)
      ? redirect(localPath(query.redirect_to))
      : htmlResponse(signInPage(localPath(query.redirect_to)))), { ...hide, query: t.Object({ redirect_to: t.Optional(t.String()) }) })

    .get('/', ({ request, query }) => page(web, request, (s) => projectsPage(web, s, query)), { ...hide, query: Page })
    .get('/admin/runners', ({ request, query }) => page(web, request, (s) => runnersPage(web, s, query)), { ...hide, query: Page })
    .get('/admin/users', ({ request, query }) => page(web, request, (s) => usersPage(web, s, query)), { ...hide, query: Page })

    .get('/:namespace/:project', ({ request, params: p }) => page(web, request, (s) => projectPage(web, s, projectAt(web, s, p.namespace, p.project, 'read_project'))),
      { ...hide, params: Project })
    .get('/:namespace/:project/-/pipelines', ({ request, params: p, query }) =>
      page(web, request, (s) => pipelinesPage(web, s, projectAt(web, s, p.namespace, p.project, 'read_pipeline'), query)),
    { ...hide, params: Project, query: t.Object({ status: t.Optional(t.String()), ref: t.Optional(t.String()), page: t.Optional(t.String()) }) })
    .get('/:namespace/:project/-/runners', ({ request, params: p }) =>
      page(web, request, (s) => projectRunnersPage(web, s, projectAt(web, s, p.namespace, p.project, 'admin_project'))), { ...hide, params: Project })
    .get('/:namespace/:project/-/pipelines/new', ({ request, params: p }) =>
      page(web, request, (s) => newPipelinePage(web, s, projectAt(web, s, p.namespace, p.project, 'create_pipeline'))), { ...hide, params: Project })
    .get('/:namespace/:project/-/pipelines/:pipeline_id', ({ request, params: p }) => page(web, request, (s) => {
      const project = projectAt(web, s, p.namespace, p.project, 'read_pipeline');
      return pipelinePage(web, s, project, pipelineIn(core, project, p.pipeline_id));
    }), { ...hide, params: PipelinePath })

    .get('/:namespace/:project/-/jobs/:job_id', ({ request, params: p }) => page(web, request, (s) => {
      const project = projectAt(web, s, p.namespace, p.project, 'read_job');
      return jobPage(web, s, project, jobIn(core, project, p.job_id));
    }), { ...hide, params: JobPath })
    .get('/:namespace/:project/-/jobs/:job_id/raw', ({ request, params: p }) => page(web, request, (s) => {
      const project = projectAt(web, s, p.namespace, p.project, 'read_trace');
      return rawLog(core, jobIn(core, project, p.job_id), request);
    }), { ...hide, params: JobPath })
    .get('/:namespace/:project/-/jobs/:job_id/artifacts/download', ({ request, params: p }) => page(web, request, (s) => {
      const project = projectAt(web, s, p.namespace, p.project, 'read_artifacts');
      return artifactDownload(core, jobIn(core, project, p.job_id));
    }), { ...hide, params: JobPath })
    .get('/:namespace/:project/-/jobs/:job_id/artifacts/browse', ({ request, params: p }) => page(web, request, (s) => {
      const project = projectAt(web, s, p.namespace, p.project, 'read_artifacts');
      return artifactsPage(web, s, project, jobIn(core, project, p.job_id));
    }), { ...hide, params: JobPath });
}
