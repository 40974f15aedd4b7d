/**
 * Creating a pipeline — the same code for every source (API, web, push webhook, trigger
 * token, schedule, parent pipeline): decide the commit and the `.gitlab-ci.yml` it runs,
 * compile it for that ref, then store the plan (pipelines.ts). A pipeline that cannot be
 * created throws CiSourceError (GitLab's `{"message": {"base": [...]}}`) and leaves nothing.
 */
import type { Project, Pipeline } from '../db/schema';
import { parseCiConfig } from './ci-config';
import type { PipelineSource } from './ci-config/types';
import { badRequest } from './errors';
import { CiSourceError, isValidRefName, type GitReader } from './git';
import type { PipelineService } from './pipelines';

const FULL_SHA = /^[0-9a-f]{40}$/i;
const VARIABLE_KEY = /^[A-Za-z0-9_]{1,255}$/;

/** The head commit as a forge reported it (webhooks), so git need not be asked for it. */
export interface CommitInfo {
  message: string;
  authorName: string;
  authorEmail: string;
  /** ISO 8601 */
  timestamp: string;
}

export interface CreatePipelineInput {
  ref: string;
  /** default: the tip of ref */
  sha?: string;
  /** default 40 zeros */
  beforeSha?: string;
  /** with `content` and a full sha, git is not asked and this says whether ref is a tag */
  tag?: boolean;
  source: PipelineSource;
  /** pipeline variables (trigger, API, schedule) */
  variables?: { key: string; value: string }[];
  /** the `.gitlab-ci.yml` text; without it the file is read from the project's repository */
  content?: string;
  commit?: CommitInfo;
  /** the user who started it (API, dashboard): GitLab's pipeline `user`, the jobs' GITLAB_USER_* */
  userId?: number;
}

export class PipelineCreator {
  constructor(private pipelines: PipelineService, private git: GitReader) {}

  async create(project: Project, input: CreatePipelineInput): Promise<Pipeline> {
    if (!isValidRefName(input.ref)) throw badRequest(`ref is invalid: "${input.ref}" is not a valid branch or tag name`);
    if (input.beforeSha !== undefined && !FULL_SHA.test(input.beforeSha)) throw badRequest('before_sha is invalid: must be a full 40-character commit sha');
    const badKey = input.variables?.find((v) => !VARIABLE_KEY.test(v.key));
    if (badKey) throw badRequest(`variables is invalid: key "${badKey.key}" may contain only letters, digits and _`);
    let { content, sha, tag = false } = input;
    let title = input.commit?.message.split('\n')[0].trim().slice(0, 255) || undefined;
    if (content === undefined) {
      let gitTitle: string | undefined;
      ({ content, sha, tag, title: gitTitle } = await this.git.ciSource(project.id, project.repoUrl, { ref: input.ref, sha }));
      title ??= gitTitle;
    } else if (sha === undefined || !FULL_SHA.test(sha)) {
      let gitTitle: string | undefined;
      ({ sha, tag, title: gitTitle } = await this.git.resolve(project.id, project.repoUrl, { ref: input.ref, sha }));
      title ??= gitTitle;
    }
    const parsed = parseCiConfig(content, { name: input.ref, tag });
    if (!parsed.ok) throw new CiSourceError(parsed.errors);
    return this.pipelines.create(project.id, {
      ref: input.ref, tag, sha: sha!.toLowerCase(), beforeSha: input.beforeSha?.toLowerCase(), source: input.source,
      variables: input.variables?.map((v) => ({ key: v.key, value: v.value })), userId: input.userId, commitTitle: title,
    }, parsed.plan);
  }
}
