/**
 * Pipeline triggers, as GitLab (forges-and-rest.md §C.6):
 *   GET|POST /projects/:id/triggers, GET|PUT|DELETE …/triggers/:trigger_id   (Maintainer)
 *   POST /projects/:id/trigger/pipeline                 token, ref, variables[KEY]=value
 *   POST /projects/:id/ref/:ref/trigger/pipeline?token=  the same, ref from the path
 * The trigger calls carry no user token: the trigger token (or a running job's
 * CI_JOB_TOKEN) is the credential; a wrong one is 404, as GitLab answers.
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { CiSourceError } from '../core/git';
import type { Pipeline, Project } from '../db/schema';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { AutomationPresenter, TriggerModel } from './automation-presenters';
import { Errors, ProjectParams, restDoc } from './common';
import { PageQuery, pageOf, paginated, slice } from './pagination';
import { Message, PipelineModel, Presenter } from './presenters';

const TriggerParams = t.Object({ id: t.String({ description: 'project id' }), trigger_id: t.String() });
const RefParams = t.Object({ id: t.String({ description: 'project id' }), ref: t.String({ description: 'branch or tag (URL-encoded)' }) });
const Describe = t.Object({ description: t.Optional(t.String({ description: 'what the token is for' })) });
const RunBody = t.Object({
  token: t.Optional(t.String({ description: 'a trigger token (glptt-…) or a running job\'s CI_JOB_TOKEN' })),
  ref: t.Optional(t.String({ description: 'branch or tag' })),
  variables: t.Optional(t.Any({ description: 'pipeline variables: {"KEY": "value"} in JSON, variables[KEY]=value in forms and queries' })),
});

export function triggerRoutes(core: Core) {
  const show = new AutomationPresenter(core);
  const pipelines = new Presenter(core);
  const doc = restDoc('triggers');
  const run = async (project: Project | null, input: { token?: string; ref?: string; variables?: unknown }, request: Request) => {
    let pipeline: Pipeline;
    try {
      pipeline = await core.triggers.run(project, { ...input, gitlabEvent: request.headers.get('x-gitlab-event') });
    } catch (e) {
      if (e instanceof CiSourceError) return json({ message: { base: e.base } }, 400);
      throw e;
    }
    return json(pipelines.pipeline(pipeline, project!), 201);
  };
  const runDoc = (summary: string) => ({
    detail: { tags: ['triggers'], summary, description: 'No user token: `token` (a trigger token or a running job\'s CI_JOB_TOKEN) is the credential; a wrong one is 404. A trigger token makes `source: trigger`, a job token `source: pipeline`.' },
  });
  return new Elysia({ name: 'rest-api.triggers', prefix: '/api/v4/projects/:id' })
    .use(peopleAuth(core))
    .get('/triggers', ({ project, query, request }) => {
      const page = pageOf(query);
      const { rows, total } = slice(core.triggers.list(project.id), page);
      return paginated(request, core.deps.server.url, page, total, rows.map((tr) => show.trigger(tr)));
    }, { can: 'admin_project', params: ProjectParams, query: t.Object(PageQuery), response: { 200: t.Array(TriggerModel), ...Errors }, ...doc('List trigger tokens') })

    .get('/triggers/:trigger_id', ({ project, params }) => json(show.trigger(core.triggers.get(project.id, params.trigger_id))),
      { can: 'admin_project', params: TriggerParams, response: { 200: TriggerModel, ...Errors }, ...doc('Get a trigger token') })

    .post('/triggers', ({ project, body }) => {
      const { trigger, token } = core.triggers.create(project.id, body.description ?? '');
      return json(show.trigger(trigger, token), 201);
    }, { can: 'admin_project', params: ProjectParams, ...withModel(Describe), response: { 201: TriggerModel, ...Errors }, ...doc('Create a trigger token', 'The token is in this answer only; Baton keeps its hash.') })

    .put('/triggers/:trigger_id', ({ project, params, body }) => json(show.trigger(core.triggers.update(project.id, params.trigger_id, body.description))),
      { can: 'admin_project', params: TriggerParams, ...withModel(Describe), response: { 200: TriggerModel, ...Errors }, ...doc('Edit a trigger token\'s description') })

    .delete('/triggers/:trigger_id', ({ project, params }) => {
      core.triggers.delete(project.id, params.trigger_id);
      return empty(204);
    }, { can: 'admin_project', params: TriggerParams, response: { 204: t.Void(), ...Errors }, ...doc('Delete a trigger token') })

    .post('/trigger/pipeline', ({ params, body, request }) => run(core.access.findProject(params.id), body, request),
      { params: ProjectParams, ...withModel(RunBody), response: { 201: PipelineModel, 400: Message, 403: Message, 404: Message }, ...runDoc('Start a pipeline with a trigger token') })

    .post('/ref/:ref/trigger/pipeline', ({ params, body, request }) => run(core.access.findProject(params.id), { ...body, ref: params.ref }, request),
      { params: RefParams, ...withModel(RunBody), response: { 201: PipelineModel, 400: Message, 403: Message, 404: Message }, ...runDoc('Start a pipeline with a trigger token, the ref in the path (a plain webhook URL)') });
}
