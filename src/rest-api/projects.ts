/**
 * Projects: `/api/v4/projects` CRUD (consumer-api.md §2 "Projects", forges-and-rest.md §C.5).
 * Anyone signed in may create one (in their namespace, as its Owner); the list shows what
 * the caller may see; `:id` is a number or the URL-encoded `namespace/path`.
 */
import { Elysia, t, type Static } from 'elysia';
import { badRequest, notFound } from '../core/errors';
import type { Core } from '../core';
import type { ProjectInput } from '../core/projects';
import { atomically } from '../core/tx';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { json } from '../http/respond';
import { Errors, ProjectParams, restDoc } from './common';
import { PageQuery, pageOf, paginated } from './pagination';
import { Message, Presenter, ProjectModel, SimpleProjectModel } from './presenters';

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
const CreateBody = t.Object({
  name: t.String({ minLength: 1 }), repo_url: RepoUrl, ...Optional,
  namespace: t.Optional(t.String({ minLength: 1, description: "namespace path such as `team` (default: the caller's username)" })),
  namespace_id: t.Optional(t.Union([t.Integer(), t.String({ minLength: 1 })], { description: "GitLab's spelling: a user namespace's id (the user's id) or, here, a namespace path" })),
});
const ListQuery = t.Object({
  ...PageQuery,
  membership: t.Optional(t.Boolean({ description: 'only projects the caller is a member of (admins otherwise see all)' })),
  owned: t.Optional(t.Boolean({ description: 'only projects the caller is an Owner of' })),
  min_access_level: t.Optional(t.Integer({ description: 'only projects where the caller has at least this access level' })),
  search: t.Optional(t.String({ description: 'name or path contains (case-insensitive)' })),
  simple: t.Optional(t.Boolean({ description: 'only the identity fields of each project' })),
});
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

/** `namespace` (a path) or `namespace_id` (a user's id, or a path) → the namespace path. */
function namespaceOf(core: Core, b: Static<typeof CreateBody>): string | undefined {
  const raw = b.namespace ?? b.namespace_id;
  if (raw === undefined) return undefined;
  if (typeof raw === 'number' || /^\d+$/.test(raw)) {
    const owner = core.users.find(Number(raw));
    if (!owner) throw notFound('Namespace');
    return owner.username;
  }
  return raw;
}

/**
 * Project fields and forge settings are checked first, then written together. `prepare` turns
 * the body into what the caller may write (AccessService.newProject / projectEdit).
 */
function save(core: Core, id: number | null, b: Body, prepare: (fields: ProjectInput) => ProjectInput) {
  const forge = { kind: b.forge_kind, apiUrl: b.forge_api_url, repo: b.forge_repo, token: b.forge_token };
  return atomically(core.deps.db, () => {
    const project = id === null ? core.projects.create(prepare(input(b) as ProjectInput)) : core.projects.get(id);
    const change = core.targets.forgeChange(project, forge);
    const updated = id === null ? project : core.projects.update(id, prepare(input(b) as ProjectInput));
    core.targets.setForge(updated.id, change);
    return core.projects.get(updated.id);
  });
}

export function projectRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = restDoc('projects');
  return new Elysia({ name: 'rest-api.projects', prefix: '/api/v4' })
    .use(peopleAuth(core))
    .post('/projects', async ({ actor, body }) => {
      await core.access.checkRepoUrlNetwork(actor, body.repo_url);
      const created = save(core, null, body, (fields) => core.access.newProject(actor, { ...fields, namespace: namespaceOf(core, body as Static<typeof CreateBody>) }));
      return json(show.project(created, actor), 201);
    }, {
      auth: true, ...withModel(CreateBody), response: { 201: ProjectModel, ...Errors },
      ...doc('Create a project', "In the caller's namespace unless `namespace` names another (another user's: admins only; one other people's projects use: its Maintainers and admins). The caller becomes its Owner. A local path or file:// repo_url: admins only; one on loopback, link-local or private addresses: admins only, unless --allow-local-requests (403)."),
    })

    .get('/projects', ({ actor, query, request }) => {
      const page = pageOf(query);
      const filter = core.access.projectFilter(actor, { membership: query.membership, owned: query.owned, minAccessLevel: query.min_access_level, search: query.search });
      const { rows, total } = core.projects.list(page.offset, page.limit, filter);
      return paginated(request, core.deps.server.url, page, total, rows.map((p) => (query.simple ? show.simpleProject(p) : show.project(p, actor))));
    }, { auth: true, query: ListQuery, response: { 200: t.Array(t.Union([ProjectModel, SimpleProjectModel])), ...Errors }, ...doc('List the projects the caller may see (newest first)') })

    .get('/projects/:id', ({ actor, project }) => json(show.project(project, actor, true)),
      { can: 'read_project', params: ProjectParams, response: { 200: ProjectModel, ...Errors }, ...doc('Get a project', 'With `permissions.project_access`: the caller\'s membership.') })

    .put('/projects/:id', async ({ actor, project, body }) => {
      await core.access.checkRepoUrlNetwork(actor, body.repo_url, project);
      return json(show.project(save(core, project.id, body, (fields) => core.access.projectEdit(actor, project, fields) as ProjectInput), actor));
    },
      { can: 'admin_project', params: ProjectParams, ...withModel(UpdateBody), response: { 200: ProjectModel, ...Errors }, ...doc('Edit a project') })

    .delete('/projects/:id', ({ project: { id } }) => {
      core.projects.delete(id);
      core.git.forget(id);
      return json({ message: '202 Accepted' }, 202);
    }, { can: 'remove_project', params: ProjectParams, response: { 202: Message, ...Errors }, ...doc('Delete a project', 'Also removes its pipelines, jobs, traces and artifacts.') });
}
