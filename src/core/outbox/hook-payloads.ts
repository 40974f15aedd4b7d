/**
 * GitLab's project-hook bodies (forges-and-rest.md §B.6, webhook_events.md): "Pipeline
 * Hook" (`object_kind: pipeline`), "Job Hook" (`object_kind: build`) and "Push Hook" /
 * "Tag Push Hook" (`object_kind: push | tag_push`). Built when the event happens (a
 * snapshot: a hook delivered late still tells the state it was sent for). Timestamps in
 * pipeline and job hooks are GitLab's `2016-08-12 15:23:28 UTC`, not ISO 8601.
 */
import type { Job, Pipeline, Project, Runner } from '../../db/schema';
import { projectFullPath, projectWebUrl } from '../projects';
import type { PushEvent } from '../triggers/push-event';

export function hookTime(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

const seconds = (from: number | null, to: number | null) => (from !== null && to !== null ? Math.max(0, to - from) / 1000 : null);

export function projectUrl(serverUrl: string, p: Project) {
  return projectWebUrl(serverUrl, p);
}

/** The project block every hook carries. */
export function projectBlock(serverUrl: string, p: Project) {
  const web = projectUrl(serverUrl, p);
  return {
    id: p.id, name: p.name, description: null, web_url: web, avatar_url: null,
    git_ssh_url: p.repoUrl, git_http_url: p.repoUrl, namespace: p.namespace, visibility_level: 0,
    path_with_namespace: projectFullPath(p), default_branch: p.defaultBranch, ci_config_path: '',
    homepage: web, url: p.repoUrl, ssh_url: p.repoUrl, http_url: p.repoUrl,
  };
}

function runnerBlock(r: Runner | null) {
  return r ? { id: r.id, description: r.description, runner_type: r.isShared ? 'instance_type' : 'project_type', active: r.active, is_shared: r.isShared, tags: r.tagList } : null;
}

function environmentBlock(j: Job) {
  const env = j.spec.environment;
  return env ? { name: env.name, action: env.action, deployment_tier: env.deployment_tier ?? null } : null;
}

export function pipelineHook(serverUrl: string, project: Project, p: Pipeline, jobs: Job[], runnerOf: (j: Job) => Runner | null) {
  const web = projectUrl(serverUrl, project);
  const stages = [...new Map(jobs.map((j) => [j.stageIdx, j.stage])).entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
  return {
    object_kind: 'pipeline',
    object_attributes: {
      id: p.id, iid: p.id, name: null, ref: p.ref, tag: p.tag, sha: p.sha, before_sha: p.beforeSha, source: p.source,
      status: p.status, detailed_status: p.status === 'success' ? 'passed' : p.status, stages,
      created_at: hookTime(p.createdAt), finished_at: hookTime(p.finishedAt),
      duration: p.startedAt !== null && p.finishedAt !== null ? Math.round((p.finishedAt - p.startedAt) / 1000) : null,
      queued_duration: p.startedAt !== null ? Math.round((p.startedAt - p.createdAt) / 1000) : null,
      variables: p.triggerVariables.map((v) => ({ key: v.key, value: v.value })),
      url: `${web}/-/pipelines/${p.id}`,
    },
    merge_request: null,
    user: null,
    project: projectBlock(serverUrl, project),
    commit: { id: p.sha, message: null, title: null, timestamp: null, url: null, author: null },
    builds: jobs.map((j) => ({
      id: j.id, stage: j.stage, name: j.name, status: j.status,
      created_at: hookTime(j.createdAt), started_at: hookTime(j.startedAt), finished_at: hookTime(j.finishedAt),
      duration: seconds(j.startedAt, j.finishedAt), queued_duration: seconds(j.queuedAt, j.startedAt),
      ...(j.status === 'failed' ? { failure_reason: j.failureReason ?? 'unknown_failure' } : {}),
      when: j.when, manual: j.when === 'manual', allow_failure: j.allowFailure, user: null,
      runner: runnerBlock(runnerOf(j)),
      artifacts_file: { filename: j.artifactsFile, size: j.artifactsSize },
      environment: environmentBlock(j),
    })),
  };
}

export function jobHook(serverUrl: string, project: Project, p: Pipeline, j: Job, runner: Runner | null, retries: number) {
  return {
    object_kind: 'build',
    ref: p.ref, tag: p.tag, before_sha: p.beforeSha, sha: p.sha, retries_count: retries,
    build_id: j.id, build_name: j.name, build_stage: j.stage, build_status: j.status,
    build_created_at: hookTime(j.createdAt), build_started_at: hookTime(j.startedAt), build_finished_at: hookTime(j.finishedAt),
    build_duration: seconds(j.startedAt, j.finishedAt), build_queued_duration: seconds(j.queuedAt, j.startedAt),
    build_allow_failure: j.allowFailure, build_failure_reason: j.status === 'failed' ? (j.failureReason ?? 'unknown_failure') : 'unknown_failure',
    pipeline_id: p.id,
    runner: runnerBlock(runner),
    project_id: project.id, project_name: `${project.namespace} / ${project.name}`,
    user: null,
    // GitLab's quirk, kept: commit.id is the PIPELINE id; the sha is commit.sha
    commit: {
      id: p.id, name: null, sha: p.sha, message: null, author_name: null, author_email: null, author_url: null,
      status: p.status, duration: p.startedAt !== null && p.finishedAt !== null ? Math.round((p.finishedAt - p.startedAt) / 1000) : null,
      started_at: hookTime(p.startedAt), finished_at: hookTime(p.finishedAt),
    },
    repository: { name: project.name, url: project.repoUrl, description: null, homepage: projectUrl(serverUrl, project), git_http_url: project.repoUrl, git_ssh_url: project.repoUrl, visibility_level: 0 },
    project: projectBlock(serverUrl, project),
    environment: environmentBlock(j),
  };
}

/** A received push, re-told as GitLab's Push Hook / Tag Push Hook body. */
export function pushHook(serverUrl: string, project: Project, e: PushEvent) {
  return {
    object_kind: e.tag ? 'tag_push' : 'push', event_name: e.tag ? 'tag_push' : 'push',
    before: e.before, after: e.after, ref: e.ref, ref_protected: false, checkout_sha: e.checkoutSha,
    message: null, user_id: null, user_name: e.pusher, user_username: e.pusher, user_email: '', user_avatar: null,
    project_id: project.id, project: projectBlock(serverUrl, project),
    commits: e.commit && e.checkoutSha ? [{
      id: e.checkoutSha, message: e.commit.message, title: e.commit.message.split('\n')[0], timestamp: e.commit.timestamp,
      url: null, author: { name: e.commit.authorName, email: e.commit.authorEmail }, added: [], modified: [], removed: [],
    }] : [],
    total_commits_count: e.totalCommits ?? (e.commit ? 1 : 0),
    repository: { name: project.name, url: project.repoUrl, description: null, homepage: projectUrl(serverUrl, project), git_http_url: project.repoUrl, git_ssh_url: project.repoUrl, visibility_level: 0 },
  };
}
