/** Core job → the v1 `BuildDetails` entity (runner-api-v1.md §4.3), field order as GitLab emits it. */
import type { Dependency, JobContext } from '../../core/jobs';
import type { Job } from '../../db/schema';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function base(job: Job, ctx: Pick<JobContext, 'pipeline' | 'project'>, token: string) {
  return {
    id: job.id,
    ref: ctx.pipeline.ref,
    tag: ctx.pipeline.tag,
    sha: ctx.pipeline.sha,
    status: job.status,
    name: job.name,
    token,
    stage: job.stage,
    project_id: ctx.project.id,
    project_name: ctx.project.name,
  };
}

/** `options`: the YAML parts a 1.x runner reads; keys that are not set are left out. */
export function v1Options(spec: Job['spec']): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (spec.image) o.image = spec.image.name;
  if (spec.services.length) o.services = spec.services.map((s) => s.name);
  if (spec.artifacts) o.artifacts = spec.artifacts;
  // 1.x runners know one cache
  if (spec.cache?.length) o.cache = spec.cache[0];
  if (spec.dependencies) o.dependencies = spec.dependencies;
  if (spec.afterScript.length) o.after_script = spec.afterScript;
  if (spec.environment) o.environment = spec.environment.name;
  return o;
}

function dependency(d: Dependency, ctx: JobContext) {
  // The dependency's own token is stored only as a hash; the downloading job's token is
  // authorised for the artifacts of its pipeline's earlier stages instead (core/jobs.ts).
  return { ...base(d.job, ctx, ctx.token), ...(d.artifacts ? { artifacts_file: d.artifacts } : {}) };
}

export function buildDetails(ctx: JobContext) {
  const { job } = ctx;
  const hasArtifacts = job.artifactsFile !== null && job.artifactsSize !== null;
  return {
    ...base(job, ctx, ctx.token),
    ...(hasArtifacts ? { artifacts_file: { filename: job.artifactsFile, size: job.artifactsSize } } : {}),
    commands: [...job.spec.beforeScript, ...job.spec.script].join('\n'),
    repo_url: ctx.repoUrl,
    before_sha: ctx.pipeline.beforeSha,
    allow_git_fetch: ctx.project.allowGitFetch,
    ...(hasArtifacts ? { artifacts_expire_at: iso(job.artifactsExpireAt) } : {}),
    options: v1Options(job.spec),
    timeout: ctx.timeout,
    variables: ctx.variables.map((v) => ({ key: v.key, value: v.value, public: v.public })),
    depends_on_builds: ctx.dependencies.map((d) => dependency(d, ctx)),
    credentials: [],
  };
}
