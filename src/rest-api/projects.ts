/** Projects: `/api/v4/projects` CRUD (consumer-api.md §2 "Projects"). */
import { Elysia, t, type Static } from 'elysia';
import { badRequest } from '../core/errors';
import type { Core } from '../core';
import type { ProjectInput } from '../core/projects';
import { atomically } from '../core/tx';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { json } from '../http/respond';
import { Errors, ProjectParams, restDoc } from './common';
import { PageQuery, pageOf, paginated } from './pagination';
import { Message, Presenter, ProjectModel } from './presenters';

const Optional = {
  path: t.Optional(t.String({ minLength: 1, description: 'URL name; default: derived from name' })),
  default_branch: t.Optional(t.String({ minLength: 1, description: 'default "main"' })),
  build_timeout: t.Optional(t.Integer({ description: 'seconds, 600…2592000 (default 3600)' })),
  shared_runners_enabled: t.Optional(t.Boolean({ description: 'default true' })),
  allow_git_fetch: t.Optional(t.Boolean({ description: 'runners fetch into an existing checkout (true, default) or clone afresh' })),
  build_git_strategy: t.Optional(t.Union([t.Literal('fetch'), t.Literal('clone')], { description: "GitLab's name for allow_git_fetch" })),
  clone_with_job_token: t.Optional(t.Boolean({ description: 'http(s) repo_url: runners clone as gitlab-ci-token:<job token>@ (default false)' })),
  // where pipeline statuses are posted back (core/outbox/targets.ts)
  forge_kind: t.Optional(t.Union([t.String(), t.Null()], { description: 'gitea, forgejo, github or gitlab; "" or null removes the forge settings' })),
  forge_api_url: t.Optional(t.String({ description: 'the API root: https://git.example.com/api/v1 (Gitea/Forgejo), https://api.github.com, https://gitlab.example.com/api/v4' })),
  forge_repo: t.Optional(t.String({ description: 'owner/name, or the GitLab project id or path' })),
  forge_token: t.Optional(t.String({ description: 'write-only: a token that may set commit statuses ("" removes it)' })),
};
const RepoUrl = t.String({ minLength: 1, description: 'what runners clone: any URL or path `git clone` accepts' });
const CreateBody = t.Object({ name: t.String({ minLength: 1 }), repo_url: RepoUrl, ...Optional });
const UpdateBody = t.Object({ name: t.Optional(t.String({ minLength: 1 })), repo_url: t.Optional(RepoUrl), ...Optional });

type Body = Static<typeof UpdateBody>;

/** REST names → core names; `build_git_strategy` is the GitLab spelling of allow_git_fetch. */
function input(b: Body): Partial<ProjectInput> {
  // A leading "-" would reach git (here and on runners) as an option.
  if (b.repo_url?.startsWith('-')) throw badRequest('repo_url is invalid: may not start with "-"');
  return {
    name: b.name, path: b.path, repoUrl: b.repo_url, defaultBranch: b.default_branch, buildTimeout: b.build_timeout,
    sharedRunnersEnabled: b.shared_runners_enabled, cloneWithJobToken: b.clone_with_job_token,
    allowGitFetch: b.allow_git_fetch ?? (b.build_git_strategy === undefined ? undefined : b.build_git_strategy === 'fetch'),
  };
}

/** Project fields and forge settings are checked first, then written together. */
function save(core: Core, id: number | null, b: Body) {
  const forge = { kind: b.forge_kind, apiUrl: b.forge_api_url, repo: b.forge_repo, token: b.forge_token };
  return atomically(core.deps.db, () => {
    const project = id === null ? core.projects.create(input(b) as ProjectInput) : core.projects.get(id);
    const change = core.targets.forgeChange(project, forge);
    const updated = id === null ? project : core.projects.update(id, input(b));
    core.targets.setForge(updated.id, change);
    return core.projects.get(updated.id);
  });
}

export function projectRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = restDoc('projects');
  return new Elysia({ name: 'rest-api.projects', prefix: '/api/v4' })
    .use(peopleAuth(core))
    .post('/projects', ({ body }) => json(show.project(save(core, null, body)), 201),
      { auth: true, ...withModel(CreateBody), response: { 201: ProjectModel, ...Errors }, ...doc('Create a project') })

    .get('/projects', ({ query, request }) => {
      const page = pageOf(query);
      const { rows, total } = core.projects.list(page.offset, page.limit);
      return paginated(request, core.deps.server.url, page, total, rows.map((p) => show.project(p)));
    }, { auth: true, query: t.Object(PageQuery), response: { 200: t.Array(ProjectModel), ...Errors }, ...doc('List projects (newest first)') })

    .get('/projects/:id', ({ project }) => json(show.project(project)),
      { can: 'read_project', params: ProjectParams, response: { 200: ProjectModel, ...Errors }, ...doc('Get a project') })

    .put('/projects/:id', ({ project, body }) => json(show.project(save(core, project.id, body))),
      { can: 'admin_project', params: ProjectParams, ...withModel(UpdateBody), response: { 200: ProjectModel, ...Errors }, ...doc('Edit a project') })

    .delete('/projects/:id', ({ project: { id } }) => {
      core.projects.delete(id);
      core.git.forget(id);
      return json({ message: '202 Accepted' }, 202);
    }, { can: 'remove_project', params: ProjectParams, response: { 202: Message, ...Errors }, ...doc('Delete a project', 'Also removes its pipelines, jobs, traces and artifacts.') });
}
