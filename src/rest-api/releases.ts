/**
 * Releases, as GitLab's Releases API (`/api/v4/projects/:id/releases`):
 *   GET  …/releases              Reporter         newest `released_at` first, paginated
 *   POST …/releases              Developer        tag_name, name, description, ref, tag_message, milestones, released_at, assets:links
 *   GET|PUT|DELETE …/releases/:tag_name  Reporter / Developer / Developer
 * Every route also takes a running job's CI_JOB_TOKEN for its own project (`JOB-TOKEN` or
 * `job_token`): that is how a `release:` job's release-cli step creates its release. Baton
 * creates no git tag (src/core/releases.ts); `assets.sources` is empty (Baton serves no
 * source archives) and milestones are titles only.
 */
import { Elysia, t, type Static } from 'elysia';
import type { Core } from '../core';
import { projectWebUrl } from '../core/projects';
import type { Project, Release } from '../db/schema';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { json } from '../http/respond';
import { Errors, ProjectParams } from './common';
import { PageQuery, pageOf, paginated, slice } from './pagination';
import { Message, Presenter, UserBasicModel } from './presenters';

const TagParams = t.Object({ id: t.String({ description: 'project id' }), tag_name: t.String({ description: 'the release\'s tag (URL-encoded)' }) });

const LinkBody = t.Object({
  name: t.Optional(t.String()),
  url: t.Optional(t.String({ description: 'http, https or ftp' })),
  link_type: t.Optional(t.String({ description: 'other (default), runbook, image, package' })),
  filepath: t.Optional(t.String({ description: 'deprecated name of direct_asset_path' })),
  direct_asset_path: t.Optional(t.String({ description: '/path of the permanent asset URL' })),
});
const Milestones = t.Union([t.String(), t.Array(t.String())], { description: 'milestone titles' });
const CreateBody = t.Object({
  tag_name: t.Optional(t.String({ description: 'required' })),
  name: t.Optional(t.String({ description: 'default: the tag name' })),
  description: t.Optional(t.String({ description: 'Markdown' })),
  ref: t.Optional(t.String({ description: 'branch, tag or sha the tag is made from: required when Baton has seen no pipeline of the tag (Baton keeps it; it pushes no tag)' })),
  tag_message: t.Optional(t.String()),
  milestones: t.Optional(Milestones),
  released_at: t.Optional(t.String({ description: 'ISO 8601; default now' })),
  assets: t.Optional(t.Object({ links: t.Optional(t.Array(LinkBody)) })),
});
const UpdateBody = t.Object({
  name: t.Optional(t.String()),
  description: t.Optional(t.String()),
  milestones: t.Optional(Milestones),
  released_at: t.Optional(t.String({ description: 'ISO 8601' })),
});

const CommitModel = t.Object({
  id: t.String(), short_id: t.String(), title: t.String(), message: t.String(), created_at: t.Union([t.String(), t.Null()]),
  parent_ids: t.Array(t.String()), author_name: t.Union([t.String(), t.Null()]), author_email: t.Union([t.String(), t.Null()]),
  authored_date: t.Union([t.String(), t.Null()]), committed_date: t.Union([t.String(), t.Null()]), web_url: t.String(),
});
const LinkModel = t.Object({ id: t.Integer(), name: t.String(), url: t.String(), direct_asset_url: t.String(), link_type: t.String() });
export const ReleaseModel = t.Object({
  tag_name: t.String(),
  name: t.String(),
  description: t.String(),
  created_at: t.String({ format: 'date-time' }),
  released_at: t.String({ format: 'date-time' }),
  upcoming_release: t.Boolean(),
  author: t.Union([UserBasicModel, t.Null()], { description: 'null: made by a job of a pipeline nobody started, or a deleted user' }),
  commit: t.Union([CommitModel, t.Null()], { description: 'null when Baton knows no commit for the tag yet' }),
  milestones: t.Array(t.Object({ title: t.String() })),
  commit_path: t.Union([t.String(), t.Null()]),
  tag_path: t.String(),
  assets: t.Object({ count: t.Integer(), sources: t.Array(t.Object({ format: t.String(), url: t.String() })), links: t.Array(LinkModel) }),
  evidences: t.Array(t.Unknown()),
  _links: t.Object({ self: t.String(), edit_url: t.String() }),
});

const iso = (ms: number) => new Date(ms).toISOString();
const enc = (tag: string) => encodeURIComponent(tag);

export function releaseRoutes(core: Core) {
  const people = new Presenter(core);
  const security: Record<string, string[]>[] = [{ privateToken: [] }, { bearer: [] }, { session: [] }, { jobToken: [] }];
  const doc = (summary: string, description?: string) => ({
    detail: {
      tags: ['releases'], summary, description: [description, 'A running job\'s CI_JOB_TOKEN (`JOB-TOKEN`) is accepted for its own project.'].filter(Boolean).join(' '),
      security,
    },
  });

  const show = (r: Release, project: Project): Static<typeof ReleaseModel> => {
    const web = projectWebUrl(core.deps.server.url, project);
    const author = r.authorId === null ? null : core.users.find(r.authorId);
    const pipeline = r.sha === null ? undefined : core.releases.pipelineOf(project.id, r.sha);
    const title = (pipeline?.commitMessage ?? '').split('\n')[0];
    return {
      tag_name: r.tagName, name: r.name, description: r.description, created_at: iso(r.createdAt), released_at: iso(r.releasedAt),
      upcoming_release: r.releasedAt > core.deps.clock.now(),
      author: author ? people.userBasic(author) : null,
      commit: r.sha === null ? null : {
        id: r.sha, short_id: r.sha.slice(0, 8), title, message: pipeline?.commitMessage ?? '', created_at: pipeline?.commitTimestamp ?? null,
        parent_ids: pipeline && pipeline.beforeSha && !/^0+$/.test(pipeline.beforeSha) ? [pipeline.beforeSha] : [],
        author_name: pipeline?.commitAuthorName ?? null, author_email: pipeline?.commitAuthorEmail ?? null,
        authored_date: pipeline?.commitTimestamp ?? null, committed_date: pipeline?.commitTimestamp ?? null, web_url: `${web}/-/commit/${r.sha}`,
      },
      milestones: r.milestones.map((title) => ({ title })),
      commit_path: r.sha === null ? null : `/${project.namespace}/${project.path}/-/commit/${r.sha}`,
      tag_path: `/${project.namespace}/${project.path}/-/tags/${enc(r.tagName)}`,
      assets: {
        count: r.links.length, sources: [],
        links: r.links.map((l) => ({
          id: l.id, name: l.name, url: l.url, link_type: l.link_type,
          direct_asset_url: l.filepath ? `${web}/-/releases/${enc(r.tagName)}/downloads${l.filepath}` : l.url,
        })),
      },
      evidences: [],
      _links: { self: `${web}/-/releases/${enc(r.tagName)}`, edit_url: `${web}/-/releases/${enc(r.tagName)}/edit` },
    };
  };

  return new Elysia({ name: 'rest-api.releases', prefix: '/api/v4/projects/:id/releases' })
    .use(peopleAuth(core))
    .get('', ({ project, query, request }) => {
      const page = pageOf(query);
      const { rows, total } = slice(core.releases.list(project.id), page);
      return paginated(request, core.deps.server.url, page, total, rows.map((r) => show(r, project)));
    }, { canOrJob: 'read_release', params: ProjectParams, query: t.Object(PageQuery), response: { 200: t.Array(ReleaseModel), ...Errors }, ...doc('List releases (newest released_at first)') })

    .post('', ({ project, body, actor, job }) => {
      const author = actor ? actor.userId : (job ? core.pipelines.get(job.pipelineId).userId : null);
      return json(show(core.releases.create(project, body, { userId: author, ...(job ? { job } : {}) }), project), 201);
    }, {
      canOrJob: 'create_release', params: ProjectParams, ...withModel(CreateBody),
      response: { 201: ReleaseModel, 409: Message, 422: Message, ...Errors },
      ...doc('Create a release', 'Baton creates no git tag: a tag it has seen no pipeline of needs `ref` (422 `Ref is not specified`); a tag with a release already is 409 `Release already exists`.'),
    })

    .get('/:tag_name', ({ project, params }) => json(show(core.releases.get(project.id, params.tag_name), project)),
      { canOrJob: 'read_release', params: TagParams, response: { 200: ReleaseModel, ...Errors }, ...doc('Get a release by its tag') })

    .put('/:tag_name', ({ project, params, body }) => json(show(core.releases.update(project, params.tag_name, body), project)),
      { canOrJob: 'update_release', params: TagParams, ...withModel(UpdateBody), response: { 200: ReleaseModel, ...Errors }, ...doc('Edit a release (name, description, milestones, released_at)') })

    .delete('/:tag_name', ({ project, params }) => json(show(core.releases.delete(project, params.tag_name), project)),
      { canOrJob: 'destroy_release', params: TagParams, response: { 200: ReleaseModel, ...Errors }, ...doc('Delete a release (the tag stays)', 'Answered with the deleted release, as GitLab.') });
}
