/**
 * Core job → the v4 job payload (`JobRequest::Response`, runner-api-v1.md §9.2), in the shape
 * gitlab-runner 11.11.4 accepted and ran (wire-v4.md, jobs 2001/2002).
 *
 * gitlab-runner decodes this with Go's strict JSON decoder: one wrong type fails the whole
 * job request. So entrypoint/command are arrays of strings, ids are integers, and a key
 * without a value is left out rather than sent as null.
 */
import { REPORT_TYPES } from '../../core/reports';
import type { ArtifactsSpec, CacheSpec, ImageSpec, ServiceSpec } from '../../db/job-spec';
import type { Dependency, JobContext } from '../../core/jobs';
import { releaseStep } from './release';

/** Full history of branches and tags: Baton does not know which refs a job needs. */
export const REFSPECS = ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'];

/** Copies only the keys whose value is set (no undefined, no null). */
function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

const strings = (v: string[] | undefined) => (Array.isArray(v) && v.length ? v.map(String) : undefined);

/** `pull_policy` and `docker: {platform, user}` (→ `executor_opts.docker`) of modern runners; older ones ignore them. */
function imageExtras(i: ImageSpec) {
  const docker = i.docker && (i.docker.platform !== undefined || i.docker.user !== undefined) ? defined({ platform: i.docker.platform, user: i.docker.user }) : undefined;
  return { pull_policy: strings(i.pull_policy), executor_opts: docker ? { docker } : undefined };
}

function image(i: ImageSpec) {
  return defined({ name: i.name, entrypoint: strings(i.entrypoint), ...imageExtras(i) });
}

function service(s: ServiceSpec) {
  const variables = s.variables && Object.keys(s.variables).length ? Object.entries(s.variables).map(([key, value]) => ({ key, value: String(value) })) : undefined;
  return defined({ name: s.name, alias: s.alias, entrypoint: strings(s.entrypoint), command: strings(s.command), variables, ...imageExtras(s) });
}

/**
 * GitLab's `artifacts` list (BuildRunnerPresenter): the archive entry when there are paths or
 * untracked files (`exclude` only when set), then one entry per report with its type, format
 * and default file name, uploaded whatever the job's result.
 */
function artifacts(a: ArtifactsSpec) {
  const out: Record<string, unknown>[] = [];
  if (a.paths?.length || a.untracked) {
    out.push(defined({
      name: a.name,
      untracked: a.untracked ?? false,
      paths: a.paths ?? [],
      exclude: strings(a.exclude),
      when: a.when ?? 'on_success',
      expire_in: a.expire_in,
      artifact_type: 'archive',
      artifact_format: 'zip',
    }));
  }
  for (const r of a.reports ?? []) {
    const known = REPORT_TYPES[r.type];
    if (!known) continue;
    out.push(defined({ name: known.name, paths: r.paths, when: 'always', expire_in: a.expire_in, artifact_type: r.type, artifact_format: known.format }));
  }
  return out;
}

function cache(c: CacheSpec) {
  return defined({
    key: c.key, untracked: c.untracked ?? false, paths: c.paths ?? [], policy: c.policy ?? 'pull-push',
    when: c.when ?? 'on_success', fallback_keys: c.fallback_keys ?? [],
  });
}

function dependency(d: Dependency, ctx: JobContext) {
  // The dependency's own token exists only as a hash; the requesting job's token is
  // authorised for its pipeline's earlier-stage artifacts instead (JobService.authenticateArtifactDownload).
  return defined({ id: d.job.id, name: d.job.name, token: ctx.token, artifacts_file: d.artifacts ?? undefined });
}

export function jobPayload(ctx: JobContext) {
  const { job, project, pipeline } = ctx;
  const spec = job.spec;
  const steps: Record<string, unknown>[] = [{
    name: 'script', script: [...spec.beforeScript, ...spec.script], timeout: ctx.timeout, when: 'on_success', allow_failure: false,
  }];
  // GitLab's order: script, release (only runners with multi_build_steps get such a job), after_script.
  if (spec.release) steps.push(releaseStep(spec.release, ctx.timeout));
  if (spec.afterScript.length) {
    steps.push({ name: 'after_script', script: [...spec.afterScript], timeout: ctx.timeout, when: 'always', allow_failure: true });
  }
  const queued = job.queuedAt !== null && job.startedAt !== null ? Math.max(0, Math.round((job.startedAt - job.queuedAt) / 1000)) : undefined;
  return {
    id: job.id,
    token: ctx.token,
    allow_git_fetch: project.allowGitFetch,
    job_info: defined({
      id: job.id, name: job.name, stage: job.stage, project_id: project.id, project_name: project.name,
      pipeline_id: pipeline.id, time_in_queue_seconds: queued,
    }),
    git_info: {
      repo_url: ctx.repoUrl,
      ref: pipeline.ref,
      sha: pipeline.sha,
      before_sha: pipeline.beforeSha,
      ref_type: pipeline.tag ? 'tag' : 'branch',
      refspecs: REFSPECS,
      depth: 0,
    },
    runner_info: { timeout: ctx.timeout },
    // JobVariable is the wire shape (key, value, public, masked, raw only when true): no copy of ~60 objects per claim (bench P2)
    variables: ctx.variables,
    steps,
    ...(spec.image ? { image: image(spec.image) } : {}),
    services: spec.services.map(service),
    artifacts: spec.artifacts ? artifacts(spec.artifacts) : [],
    cache: (spec.cache ?? []).map(cache),
    credentials: [],
    dependencies: ctx.dependencies.map((d) => dependency(d, ctx)),
    ...(spec.hooks?.pre_get_sources_script?.length ? { hooks: [{ name: 'pre_get_sources_script', script: [...spec.hooks.pre_get_sources_script] }] } : {}),
    features: { trace_sections: true },
  };
}

export type JobPayload = ReturnType<typeof jobPayload>;
