/**
 * CI Lint (GitLab `lib/api/ci/lint.rb`): check a `.gitlab-ci.yml` before pushing it. Always
 * 200 `{valid, errors, warnings, merged_yaml, includes, jobs}`; the check is the compiler's
 * (src/core/ci-config/), run the way pipeline creation runs it.
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { json } from '../http/respond';
import { Errors, ProjectParams, restDoc } from './common';

const Include = t.Object({
  type: t.String(), location: t.String(), blob: t.Union([t.String(), t.Null()]), raw: t.Union([t.String(), t.Null()]),
  extra: t.Record(t.String(), t.String()), context_project: t.Union([t.String(), t.Null()]), context_sha: t.Union([t.String(), t.Null()]),
});
const LintModel = t.Object({
  valid: t.Boolean(), errors: t.Array(t.String()), warnings: t.Array(t.String()),
  merged_yaml: t.Union([t.String(), t.Null()]), includes: t.Array(Include), jobs: t.Optional(t.Array(t.Any())),
});

const PostBody = t.Object({
  content: t.String({ description: 'the .gitlab-ci.yml text' }),
  dry_run: t.Optional(t.Boolean({ description: 'simulate the pipeline a push to `ref` would create (default false: static check)' })),
  include_jobs: t.Optional(t.Boolean({ description: 'list the jobs (static: every job; dry run: the jobs that would be created)' })),
  ref: t.Optional(t.String({ description: 'branch or tag for a dry run (default: the default branch)' })),
});
const GetQuery = t.Object({
  sha: t.Optional(t.String({ description: 'commit, branch or tag whose .gitlab-ci.yml is checked (default: the default branch)' })),
  content_ref: t.Optional(t.String({ description: 'same as sha' })),
  dry_run: t.Optional(t.Boolean()),
  dry_run_ref: t.Optional(t.String({ description: 'branch or tag for a dry run' })),
  include_jobs: t.Optional(t.Boolean()),
});

export function lintRoutes(core: Core) {
  const doc = restDoc('lint');
  return new Elysia({ name: 'rest-api.lint', prefix: '/api/v4/projects/:id' })
    .use(peopleAuth(core))
    .post('/ci/lint', async ({ project, actor, body }) =>
      json(await core.creator.lint(project, { content: body.content, ref: body.ref, dryRun: body.dry_run ?? false, includeJobs: body.include_jobs ?? false, actor })),
    {
      can: 'create_pipeline', params: ProjectParams, ...withModel(PostBody), response: { 200: LintModel, ...Errors },
      ...doc('Validate a CI/CD configuration', 'Always 200; `valid: false` with GitLab\'s messages in `errors` when the file is wrong.'),
    })
    .get('/ci/lint', async ({ project, actor, query }) =>
      json(await core.creator.lint(project, {
        sha: query.sha ?? query.content_ref, ref: query.dry_run_ref, dryRun: query.dry_run ?? false, includeJobs: query.include_jobs ?? false, actor,
      })),
    {
      can: 'create_pipeline', params: ProjectParams, query: GetQuery, response: { 200: LintModel, ...Errors },
      ...doc("Validate the project's .gitlab-ci.yml", 'Reads the file from the repository at `sha` (default: the tip of the default branch).'),
    });
}
