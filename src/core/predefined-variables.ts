/**
 * GitLab's predefined pre-pipeline variables (spec ci-yaml.md §5.1): the ones `include`,
 * `workflow:rules`, job `rules` and GitLab-side expansion see, and that runners receive too.
 * Persisted ones (`CI_PIPELINE_ID`, `CI_JOB_ID`, `CI_JOB_TOKEN`, URLs of jobs and pipelines)
 * do not exist yet when a pipeline is being compiled, so they are not here.
 *
 * The project's full path comes from `projectFullPath` — the one place that says how a Baton
 * project is named the GitLab way (`<namespace>/<path>`).
 */
import { createHash } from 'node:crypto';
import type { Project } from '../db/schema';
import type { PipelineSource } from './ci-config/types';
import { projectFullPath, projectWebUrl } from './projects';

export const ZERO_SHA = '0000000000000000000000000000000000000000';

export interface ServerIdentity { url: string; version: string; revision: string }

export interface CommitDetails {
  message: string;
  authorName: string;
  authorEmail: string;
  /** ISO 8601 committer date */
  timestamp: string;
}

export interface PrePipelineInput {
  server: ServerIdentity;
  project: Pick<Project, 'id' | 'name' | 'namespace' | 'path' | 'defaultBranch'>;
  ref: string;
  tag: boolean;
  sha: string;
  beforeSha?: string;
  source: PipelineSource;
  commit?: CommitDetails | null;
  /** `workflow:name`, once known */
  pipelineName?: string;
  /** the schedule that started it (CI_PIPELINE_SCHEDULE_DESCRIPTION) */
  scheduleDescription?: string;
  /** a tag's pipeline: the tag's message (CI_COMMIT_TAG_MESSAGE) */
  tagMessage?: string | null;
}

/**
 * GitLab's user variables: the pipeline's user. Runners get them, and so do `workflow:rules`
 * and job `rules` (YAML cannot override them); includes do not see them.
 */
export function userVariables(user: { id: number; username: string; name: string; email: string | null }): Record<string, string> {
  const v: Record<string, string> = { GITLAB_USER_ID: String(user.id) };
  if (user.email) v.GITLAB_USER_EMAIL = user.email;
  v.GITLAB_USER_LOGIN = user.username;
  v.GITLAB_USER_NAME = user.name;
  return v;
}

/** GitLab's slugify: lower-case, each character not in [a-z0-9] → `-`, first 63, `-` trimmed at both ends. */
export function slugify(text: string): string {
  // per code point (`u`), so what is left is ASCII and slice counts characters (every job's CI_JOB_NAME_SLUG: bench P2)
  return text.toLowerCase().replace(/[^a-z0-9]/gu, '-').slice(0, 63).replace(/^-+|-+$/g, '');
}

/** GitLab's CI_ENVIRONMENT_SLUG (lib/gitlab/slug/environment.rb): at most 24 characters, DNS-safe, unique by a hash suffix. */
export function environmentSlug(name: string): string {
  let s = name.toLowerCase().replace(/[^a-z0-9]/g, '-');
  if (!/^[a-z]/.test(s)) s = `env-${s}`;
  s = s.replace(/-+/g, '-');
  if (s.length > 24 || s !== name) {
    s = s.slice(0, 17);
    if (!s.endsWith('-')) s += '-';
    const digest = BigInt(`0x${createHash('sha256').update(name).digest('hex')}`).toString(36);
    return s + digest.slice(-6);
  }
  return s.replace(/-$/, '');
}

const MAX_MESSAGE_BYTES = 100_000;

function truncateBytes(s: string): { text: string; truncated: boolean } {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= MAX_MESSAGE_BYTES) return { text: s, truncated: false };
  return { text: bytes.subarray(0, MAX_MESSAGE_BYTES).toString('utf8').replace(/\uFFFD$/, ''), truncated: true };
}

/** A stored pipeline's commit title (lists, pages), when its commit message is known. */
export function commitTitleOf(p: { commitMessage: string | null }): string | null {
  return p.commitMessage === null ? null : commitTitleAndDescription(p.commitMessage).title;
}

/** `CI_COMMIT_TITLE` / `CI_COMMIT_DESCRIPTION` as GitLab derives them from the message. */
export function commitTitleAndDescription(message: string): { title: string; description: string } {
  const cut = message.search(/[\r\n]/);
  const first = cut === -1 ? message : message.slice(0, cut);
  const title = first.trim() === '' ? 'No commit message' : first;
  if (title.length >= 100) return { title, description: message };
  const nl = message.indexOf('\n');
  const rest = nl === -1 ? '' : message.slice(nl + 1);
  return { title, description: rest.replace(/\n$/, '') };
}

function hostOf(url: string): { host: string; port: string; protocol: string; fqdn: string } {
  try {
    const u = new URL(url);
    const protocol = u.protocol.replace(':', '');
    const port = u.port || (protocol === 'https' ? '443' : '80');
    return { host: u.hostname, port, protocol, fqdn: u.port ? `${u.hostname}:${u.port}` : u.hostname };
  } catch {
    return { host: 'localhost', port: '80', protocol: 'http', fqdn: 'localhost' };
  }
}

/** The predefined variables known before the pipeline exists, in GitLab's order. */
export function prePipelineVariables(input: PrePipelineInput): Record<string, string> {
  const { server, project, ref, tag, sha, source } = input;
  const v: Record<string, string> = {};
  const set = (k: string, value: string) => { v[k] = value; };
  const [major = '0', minor = '0', patch = '0'] = server.version.split(/[.-]/);
  const h = hostOf(server.url);
  const path = projectFullPath(project);
  const projectUrl = projectWebUrl(server.url, project);
  set('CI', 'true'); set('GITLAB_CI', 'true');
  set('CI_SERVER_URL', server.url); set('CI_SERVER_HOST', h.host); set('CI_SERVER_PORT', h.port);
  set('CI_SERVER_PROTOCOL', h.protocol); set('CI_SERVER_FQDN', h.fqdn); set('CI_SERVER_NAME', 'Baton');
  set('CI_SERVER_VERSION', server.version); set('CI_SERVER_VERSION_MAJOR', major); set('CI_SERVER_VERSION_MINOR', minor);
  set('CI_SERVER_VERSION_PATCH', patch); set('CI_SERVER_REVISION', server.revision);
  set('CI_API_V4_URL', `${server.url}/api/v4`); set('CI_API_GRAPHQL_URL', `${server.url}/api/graphql`);
  set('CI_PROJECT_ID', String(project.id)); set('CI_PROJECT_NAME', project.path); set('CI_PROJECT_TITLE', project.name);
  set('CI_PROJECT_PATH', path); set('CI_PROJECT_PATH_SLUG', slugify(path));
  set('CI_PROJECT_NAMESPACE', project.namespace); set('CI_PROJECT_NAMESPACE_SLUG', slugify(project.namespace));
  set('CI_PROJECT_ROOT_NAMESPACE', project.namespace.split('/')[0]); set('CI_PROJECT_URL', projectUrl);
  set('CI_PROJECT_VISIBILITY', 'private'); set('CI_DEFAULT_BRANCH', project.defaultBranch);
  set('CI_DEFAULT_BRANCH_SLUG', slugify(project.defaultBranch)); set('CI_CONFIG_PATH', '.gitlab-ci.yml');
  set('CI_PIPELINE_SOURCE', source);
  if (input.scheduleDescription !== undefined) set('CI_PIPELINE_SCHEDULE_DESCRIPTION', input.scheduleDescription);
  if (input.pipelineName) set('CI_PIPELINE_NAME', input.pipelineName);
  set('CI_COMMIT_SHA', sha); set('CI_COMMIT_SHORT_SHA', sha.slice(0, 8));
  set('CI_COMMIT_BEFORE_SHA', input.beforeSha ?? ZERO_SHA);
  set('CI_COMMIT_REF_NAME', ref); set('CI_COMMIT_REF_SLUG', slugify(ref));
  if (tag) set('CI_COMMIT_TAG', ref); else set('CI_COMMIT_BRANCH', ref);
  if (tag && typeof input.tagMessage === 'string') set('CI_COMMIT_TAG_MESSAGE', input.tagMessage);
  set('CI_COMMIT_REF_PROTECTED', 'false');
  if (input.commit) {
    const msg = truncateBytes(input.commit.message);
    const { title, description } = commitTitleAndDescription(msg.text);
    set('CI_COMMIT_MESSAGE', msg.text); set('CI_COMMIT_TITLE', title); set('CI_COMMIT_DESCRIPTION', description);
    if (msg.truncated) set('CI_COMMIT_MESSAGE_IS_TRUNCATED', 'true');
    set('CI_COMMIT_AUTHOR', `${input.commit.authorName} <${input.commit.authorEmail}>`);
    set('CI_COMMIT_TIMESTAMP', input.commit.timestamp);
  }
  return v;
}
