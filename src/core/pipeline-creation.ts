/**
 * Creating a pipeline — the same code for every source (API, web, push webhook, trigger
 * token, schedule, parent pipeline): decide the commit and the `.gitlab-ci.yml` it runs,
 * build what the compiler may see (CompileContext: the repository at that commit through
 * git, the variables GitLab would show it, other projects the actor may read, remote files
 * through the outbound-request rules), compile, then store the plan (pipelines.ts). A pipeline
 * that cannot be created throws CiSourceError (GitLab's `{"message": {"base": [...]}}`) and
 * leaves nothing.
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { users, type Project, type Pipeline } from '../db/schema';
import { checkConfig, compileCiConfig } from './ci-config';
import { dryRunLint, invalidLint, staticLint, type LintResult } from './ci-config/lint';
import { ConfigError } from './ci-config/errors';
import type { CompileContext, CompileResult, IncludeSources, PipelineSource, RepositoryFiles } from './ci-config/types';
import type { CoreDeps } from './context';
import { badRequest } from './errors';
import { CiSourceError, isValidRefName, type GitReader, type RemoteRule } from './git';
import { fetchOutbound, OutboundError } from './outbound';
import type { Actor, AccessService } from './people/access';
import type { PipelineService } from './pipelines';
import { atomically } from './tx';
import { prePipelineVariables, userVariables, ZERO_SHA, type CommitDetails } from './predefined-variables';
import type { ProjectService } from './projects';

const FULL_SHA = /^[0-9a-f]{40}$/i;
const VARIABLE_KEY = /^[A-Za-z0-9_]{1,255}$/;
const REMOTE_TIMEOUT_MS = 10_000;
const REMOTE_MAX_BYTES = 2 * 1024 * 1024;
const REMOTE_ATTEMPTS = 3;

/** The head commit as a forge reported it (webhooks), so git need not be asked for it. */
export type CommitInfo = CommitDetails;

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
  /** the user who started it (API, dashboard): GitLab's pipeline `user`, the jobs' (and rules') GITLAB_USER_* */
  userId?: number;
  /** a schedule's pipeline: its description (CI_PIPELINE_SCHEDULE_DESCRIPTION) */
  scheduleDescription?: string;
  /**
   * Runs in the transaction that stores the pipeline: a queued webhook delivery or schedule
   * run is marked done with it, so a crash can never create its pipeline twice.
   */
  inTransaction?: (pipeline: Pipeline) => void;
  /** who creates the pipeline: decides which other projects `include:project` may read (none without an actor) */
  actor?: Actor;
  /** inputs for the file's `spec:inputs` (API `inputs`, `trigger:include:inputs`) */
  inputs?: Record<string, unknown>;
  /** `include:artifact` for a child pipeline: files of the parent pipeline's job archives (downstream.ts) */
  artifacts?: IncludeSources['artifact'];
}

export interface CreatorDeps {
  deps: CoreDeps;
  pipelines: PipelineService;
  git: GitReader;
  projects: ProjectService;
  access: AccessService;
}

interface Prepared { content: string; context: CompileContext; sha: string; tag: boolean; commit: CommitDetails | null; tagMessage: string | null }

/** What a compile is given and what it answered (lint shows the same). */
export interface Compiled { result: CompileResult; context: CompileContext; sha: string; tag: boolean; commit: CommitDetails | null; tagMessage: string | null }

/** Variables that only the commit itself can give (a file using them has its repository fetched). */
const COMMIT_VARIABLES = /CI_COMMIT_(MESSAGE|TITLE|DESCRIPTION|AUTHOR|TIMESTAMP|TAG_MESSAGE)/;

export class PipelineCreator {
  constructor(private d: CreatorDeps) {}

  async create(project: Project, input: CreatePipelineInput): Promise<Pipeline> {
    const { result, sha, tag, commit, tagMessage } = await this.compile(project, input);
    if (result.plan === null) throw new CiSourceError(result.errors);
    const plan = result.plan;
    return atomically(this.d.deps.db, () => {
      const pipeline = this.d.pipelines.create(project.id, {
        ref: input.ref, tag, sha: sha.toLowerCase(), beforeSha: input.beforeSha?.toLowerCase(), source: input.source,
        variables: input.variables?.map((v) => ({ key: v.key, value: v.value })), userId: input.userId, commit, tagMessage,
      }, plan);
      input.inTransaction?.(pipeline);
      return pipeline;
    });
  }

  /** Resolves the commit and the file, builds the context and compiles (no pipeline stored). */
  async compile(project: Project, input: CreatePipelineInput): Promise<Compiled> {
    const { content, context, sha, tag, commit, tagMessage } = await this.prepare(project, input);
    const result = await compileCiConfig(content, context);
    return { result, context, sha, tag, commit, tagMessage };
  }

  /**
   * The lint API (spec ci-yaml.md §10): a static check of `content` (or of the project's file
   * at `sha`), or with `dryRun` the pipeline a push to `ref` would create. Always an answer,
   * never an exception for configuration problems.
   */
  async lint(project: Project, opts: { content?: string; sha?: string; ref?: string; dryRun: boolean; includeJobs: boolean; actor?: Actor }): Promise<LintResult> {
    const ref = opts.ref ?? project.defaultBranch;
    const input: CreatePipelineInput = { ref, source: 'push', content: opts.content, actor: opts.actor, ...(opts.actor ? { userId: opts.actor.userId } : {}) };
    if (opts.sha !== undefined) {
      if (FULL_SHA.test(opts.sha)) input.sha = opts.sha;
      else input.ref = opts.sha;
    }
    let prepared: Prepared;
    try {
      prepared = await this.prepare(project, input);
    } catch (e) {
      if (!(e instanceof CiSourceError)) throw e;
      // Inline content can be checked without a reachable repository (local includes then fail).
      if (opts.content === undefined || opts.dryRun) return invalidLint(e.base);
      prepared = await this.prepare(project, { ...input, sha: ZERO_SHA });
    }
    if (opts.dryRun) {
      const result = await compileCiConfig(prepared.content, prepared.context);
      return dryRunLint(result, opts.includeJobs);
    }
    return staticLint(await checkConfig(prepared.content, prepared.context), opts.includeJobs);
  }

  private async prepare(project: Project, input: CreatePipelineInput): Promise<Prepared> {
    if (!isValidRefName(input.ref)) throw badRequest(`ref is invalid: "${input.ref}" is not a valid branch or tag name`);
    if (input.beforeSha !== undefined && !FULL_SHA.test(input.beforeSha)) throw badRequest('before_sha is invalid: must be a full 40-character commit sha');
    const badKey = input.variables?.find((v) => !VARIABLE_KEY.test(v.key));
    if (badKey) throw badRequest(`variables is invalid: key "${badKey.key}" may contain only letters, digits and _`);
    const git = this.d.git;
    let { content, sha, tag = false } = input;
    /** whether the repository was fetched and the sha is in it */
    let readable = false;
    if (content === undefined) {
      ({ content, sha, tag } = await git.ciSource(project.id, project.repoUrl, { ref: input.ref, sha }, this.remote(project)));
      readable = true;
    } else if (sha === undefined || !FULL_SHA.test(sha)) {
      ({ sha, tag } = await git.resolve(project.id, project.repoUrl, { ref: input.ref, sha }, this.remote(project)));
      readable = true;
    }
    const commitSha = sha!.toLowerCase();
    // Content given inline with a full sha: the repository is fetched only if the file asks for it.
    let probe: Promise<boolean> | null = readable ? Promise.resolve(true) : null;
    const repoReadable = () => (probe ??= git.resolve(project.id, project.repoUrl, { ref: input.ref, sha: commitSha }, this.remote(project)).then(() => true, () => false));
    const files: RepositoryFiles = {
      read: async (path) => {
        if (!(await repoReadable())) throw new ConfigError(`Local file \`${path}\` does not have project!`);
        return git.readFile(project.id, commitSha, path);
      },
      list: async () => ((await repoReadable()) ? git.listFiles(project.id, commitSha) : []),
    };
    const beforeSha = input.beforeSha?.toLowerCase() ?? ZERO_SHA;
    // The commit's message and author (CI_COMMIT_MESSAGE, …, the pipeline's title): from the
    // repository when it was fetched for this pipeline, or when the file itself uses them;
    // otherwise from the repository cache if there is one — a pipeline given its file inline
    // does not wait for a network fetch just for its title.
    const wantsCommit = readable || COMMIT_VARIABLES.test(content!);
    const canRead = async () => (wantsCommit ? await repoReadable() : git.hasCache(project.id));
    const commit = input.commit ?? ((await canRead()) ? await git.commit(project.id, commitSha).catch(() => null) : null);
    // a tag's message (CI_COMMIT_TAG_MESSAGE), read as the commit is
    const tagMessage = tag && (await canRead()) ? await git.tagMessage(project.id, input.ref).catch(() => null) : null;
    const predefined = prePipelineVariables({
      server: this.d.deps.server, project, ref: input.ref, tag, sha: commitSha, beforeSha, source: input.source, commit,
      ...(input.scheduleDescription !== undefined ? { scheduleDescription: input.scheduleDescription } : {}),
      tagMessage,
    });
    const user = input.userId === undefined ? undefined
      : this.d.deps.db.select({ id: users.id, username: users.username, name: users.name, email: users.email }).from(users).where(eq(users.id, input.userId)).get();
    const variables: Record<string, string> = { ...predefined };
    const masked: string[] = [];
    const overridden = new Set<string>();
    for (const v of this.d.projects.variables(project.id)) { variables[v.key] = v.value; overridden.add(v.key); if (v.masked) masked.push(v.key); }
    for (const v of input.variables ?? []) { variables[v.key] = v.value; overridden.add(v.key); }
    // GitLab knows the changes only for a branch with a before sha (Ci::Pipeline#branch_updated?):
    // a push to an existing branch, and its child pipelines (they get the parent's before sha)
    const knowsChanges = !tag && beforeSha !== ZERO_SHA;
    const changedPaths = knowsChanges && (await repoReadable()) ? await git.changedPaths(project.id, beforeSha, commitSha) : null;
    const context: CompileContext = {
      ref: { name: input.ref, tag }, sha: commitSha, beforeSha, source: input.source, variables,
      predefinedVariableNames: Object.keys(predefined).filter((k) => !overridden.has(k)),
      ...(user ? { userVariables: userVariables(user) } : {}),
      maskedVariables: masked, files, changedPaths,
      changedSince: async (ref) => ((await repoReadable()) ? git.changedSince(project.id, ref, commitSha) : null),
      includes: { ...this.includeSources(project, input.actor), ...(input.artifacts ? { artifact: input.artifacts } : {}) },
      ...(input.inputs ? { inputs: input.inputs } : {}),
    };
    return { content: content!, context, sha: commitSha, tag, commit, tagMessage };
  }

  /** How git may reach a project's repo_url: the local network only with --allow-local-requests or an administrator's repo_url. */
  private remote(project: Project): RemoteRule {
    return { allowLocal: this.d.deps.outbound.allowLocal || project.repoUrlByAdmin };
  }

  /** `include:project` through another Baton project the actor may read; `include:remote` through outbound.ts. */
  private includeSources(self: Project, actor: Actor | undefined): IncludeSources {
    const { git, projects, access, deps } = this.d;
    return {
      project: async (path, ref) => {
        const denied = { error: `Project \`${path}\` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined.` };
        const other = projects.findByFullPath(path);
        if (!other) return denied;
        const allowed = other.id === self.id || (actor !== undefined && access.can(actor, 'download_code', other));
        if (!allowed) return denied;
        const wanted = ref ?? other.defaultBranch;
        let rev: { sha: string };
        try {
          rev = await git.resolve(other.id, other.repoUrl, FULL_SHA.test(wanted) ? { ref: other.defaultBranch, sha: wanted } : { ref: wanted }, this.remote(other));
        } catch (e) {
          if (e instanceof CiSourceError) return { error: `Project \`${path}\` reference \`${wanted}\` does not exist!` };
          throw e;
        }
        const sha = rev.sha;
        return {
          sha, ref: wanted,
          files: { read: (p) => git.readFile(other.id, sha, p), list: () => git.listFiles(other.id, sha) },
        };
      },
      remote: async (url) => {
        let last = '';
        for (let attempt = 1; attempt <= REMOTE_ATTEMPTS; attempt++) {
          try {
            const res = await fetchOutbound(url, { method: 'GET', headers: { accept: 'application/yaml, text/plain, */*' } },
              { allowLocal: deps.outbound.allowLocal, timeoutMs: REMOTE_TIMEOUT_MS, maxBytes: REMOTE_MAX_BYTES, maxRedirects: 5 });
            if (res.status >= 200 && res.status < 300) return { body: new TextDecoder().decode(res.body) };
            last = `HTTP code \`${res.status}\` error`;
            if (res.status < 500) break;
          } catch (e) {
            if (!(e instanceof OutboundError)) throw e;
            if (/timed out/.test(e.message)) last = 'a timeout error';
            else if (/local network|only http/.test(e.message)) return { error: `Remote file \`${url}\` could not be fetched because of a connection error: ${e.message}` };
            else last = `a connection error: ${e.message}`;
          }
          if (attempt === REMOTE_ATTEMPTS) {
            return { error: `Remote file \`${url}\` could not be fetched after ${REMOTE_ATTEMPTS} attempts because of ${last}!` };
          }
        }
        return { error: `Remote file \`${url}\` could not be fetched because of ${last}!` };
      },
    };
  }
}

