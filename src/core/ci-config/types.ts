/**
 * The contract of the `.gitlab-ci.yml` compiler: what it is given (a CompileContext: the
 * pipeline's ref, sha, source and variables, and how to read files) and what it answers
 * (a PipelinePlan, or errors; warnings and lint details either way). The compiler is pure
 * apart from the file access the context hands it; the pipeline service stores the plan.
 */
import type { JobSpec } from '../../db/job-spec';

export type PipelineSource =
  | 'push' | 'web' | 'api' | 'trigger' | 'schedule' | 'pipeline' | 'parent_pipeline'
  | 'merge_request_event' | 'external' | 'chat' | 'webide';

export interface RefInfo { name: string; tag: boolean }

/** A file of a repository at one commit, as includes and `rules:exists` see it. */
export interface RepositoryFiles {
  /** the text of `path` at the commit, or null when there is no such file */
  read(path: string): Promise<string | null>;
  /** every file path of the commit (for `exists` and `include:local` wildcards) */
  list(): Promise<string[]>;
}

/** What the compiler may fetch besides the pipeline's own repository. */
export interface IncludeSources {
  /** `include:project`: the files of another Baton project at `ref` (default its default branch), or why not */
  project(path: string, ref: string | undefined): Promise<{ files: RepositoryFiles; sha: string; ref: string } | { error: string }>;
  /** `include:remote`: the body of an http(s) URL, or why not (the fetcher applies timeouts, size and address rules) */
  remote(url: string): Promise<{ body: string } | { error: string }>;
  /**
   * `include:artifact` (+ `job`): a file in the archive of a job of the parent pipeline —
   * given only to a child pipeline created by a bridge, or why not
   */
  artifact?(job: string, path: string): Promise<{ body: string } | { error: string }>;
}

export interface CompileContext {
  ref: RefInfo;
  sha: string;
  /** 40 zeros when unknown */
  beforeSha: string;
  source: PipelineSource;
  /**
   * Variables visible to `workflow:rules`, job `rules:if`, `include` and `$[[ inputs ]]`
   * expand_vars: predefined pre-pipeline/pipeline variables, project variables, pipeline
   * (trigger/API/schedule) variables — GitLab's lists in spec ci-yaml.md §2.3, §4.3, §5.1.
   */
  variables: Record<string, string>;
  /**
   * names among `variables` that are predefined (CI_*, GITLAB_*): YAML `variables` take
   * precedence over these, while project and pipeline variables take precedence over YAML
   * (GitLab's order, spec ci-yaml.md §5.2). Absent = none are predefined.
   */
  predefinedVariableNames?: string[];
  /**
   * GITLAB_USER_* of the pipeline's user: seen by `workflow:rules` and job `rules` above YAML
   * and below project and pipeline variables, as GitLab's scoped variables order them; not by
   * `include` (GitLab's config variables do not have them)
   */
  userVariables?: Record<string, string>;
  /** names among `variables` whose values are masked (they never appear in messages) */
  maskedVariables?: string[];
  /** the pipeline's repository at `sha` (null: content given inline with no repository to read) */
  files: RepositoryFiles | null;
  /** paths changed by the push (`before_sha..sha`), or null when unknown (new branch, tag, API, schedule …) */
  changedPaths: string[] | null;
  /** `rules:changes:compare_to`: paths changed between `ref` and `sha`, or null if the ref does not exist */
  changedSince?(ref: string): Promise<string[] | null>;
  includes: IncludeSources;
  /** inputs given to this file (child pipelines `trigger:include:inputs`, API `inputs`) */
  inputs?: Record<string, unknown>;
}

export interface WorkflowPlan {
  /** `workflow:name`, variables expanded */
  name?: string;
  autoCancel: {
    onNewCommit: 'conservative' | 'interruptible' | 'none';
    onJobFailure: 'none' | 'all';
  };
}

/** `jobs` are ordered by stageIdx, then file order. */
export interface PipelinePlan {
  stages: string[];
  /** Global YAML variables (with `workflow:rules:variables` over them), in file order. */
  variables: Record<string, string>;
  /** names among `variables` declared with `expand: false` */
  rawVariables?: string[];
  jobs: JobSpec[];
  workflow: WorkflowPlan;
}

/** One included file, as the lint API lists it. */
export interface IncludedFile {
  type: 'local' | 'file' | 'remote' | 'template' | 'component' | 'artifact';
  location: string;
  blob: string | null;
  raw: string | null;
  extra: Record<string, string>;
  context_project: string | null;
  context_sha: string | null;
}

export interface CompileResult {
  /** null when the file could not be turned into a pipeline; `errors` says why */
  plan: PipelinePlan | null;
  /** GitLab's messages, naming job and key */
  errors: string[];
  warnings: string[];
  /** the merged configuration (includes, extends and !reference resolved) as YAML, or null if loading failed */
  mergedYaml: string | null;
  includes: IncludedFile[];
  /**
   * true when the whole pipeline was filtered out by `workflow:rules`
   * (answered `Pipeline filtered out by workflow rules.`)
   */
  filteredOut?: boolean;
}
