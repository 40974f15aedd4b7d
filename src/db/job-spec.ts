/**
 * The shape of `jobs.spec`: a job as its `.gitlab-ci.yml` planned it, stored as JSON with
 * the job. The schema owns this shape; the compiler (core/ci-config) produces it and the
 * core and runner adapters read it.
 *
 * Rows written by earlier versions are upgraded by a migration, so readers may rely on this
 * shape; fields added later are optional (absent = the GitLab default named beside them).
 * Names of YAML keys are kept where the runner payload uses the same names.
 */

export interface ImageSpec {
  name: string;
  entrypoint?: string[];
  /** `always`, `if-not-present`, `never` (runner payload `pull_policy`) */
  pull_policy?: string[];
  /** `docker: {platform, user}` (runner payload `executor_opts.docker`) */
  docker?: { platform?: string; user?: string };
}

export interface ServiceSpec extends ImageSpec {
  alias?: string;
  command?: string[];
  variables?: Record<string, string>;
}

/** One `artifacts:reports` entry: a report type and its paths (globs). */
export interface ReportSpec {
  /** `junit`, `dotenv`, …, or for `coverage_report` its `coverage_format` (`cobertura`/`jacoco`) */
  type: string;
  paths: string[];
}

export interface ArtifactsSpec {
  name?: string;
  paths?: string[];
  exclude?: string[];
  untracked?: boolean;
  when?: 'on_success' | 'on_failure' | 'always';
  /** As written; validated with `parseExpireIn` ("never" allowed). */
  expire_in?: string;
  expose_as?: string;
  /** `artifacts:access` (`public: false` = `developer`); default `all` */
  access?: 'all' | 'developer' | 'maintainer' | 'none';
  reports?: ReportSpec[];
}

export interface CacheSpec {
  /** A literal key (variables are expanded by the runner), or GitLab's `key:files` form, resolved at pipeline creation into `key`. */
  key?: string;
  paths?: string[];
  untracked?: boolean;
  policy?: 'pull' | 'push' | 'pull-push';
  when?: 'on_success' | 'on_failure' | 'always';
  fallback_keys?: string[];
  unprotect?: boolean;
}

export type When = 'on_success' | 'on_failure' | 'always' | 'manual' | 'delayed';

/** One resolved `needs` entry: `job` is the concrete name of a job of the same pipeline (parallel instances expanded). */
export interface NeedSpec {
  job: string;
  artifacts: boolean;
  optional: boolean;
}

export interface RetrySpec {
  /** 0..2 */
  max: number;
  /** failure reasons to retry on; `always` = any */
  when: string[];
  /** retry only for these exit codes (empty = any) */
  exit_codes: number[];
}

export interface EnvironmentSpec {
  /** variables already expanded */
  name: string;
  url?: string;
  action: 'start' | 'prepare' | 'verify' | 'access' | 'stop';
  on_stop?: string;
  /** as written (`1 day`, `never`) */
  auto_stop_in?: string;
  deployment_tier?: 'production' | 'staging' | 'testing' | 'development' | 'other';
}

/** One file a child pipeline includes (`trigger:include`). */
export interface TriggerIncludeSpec {
  local?: string;
  project?: string;
  file?: string;
  ref?: string;
  remote?: string;
  /** a file from the artifacts of `job` of the parent pipeline */
  artifact?: string;
  job?: string;
  inputs?: Record<string, unknown>;
}

/** A bridge job (`trigger:`): never sent to a runner, it starts a downstream pipeline. */
export interface TriggerSpec {
  /** child = `trigger:include` (same project); project = `trigger:project` (another Baton project) */
  kind: 'child' | 'project';
  include?: TriggerIncludeSpec[];
  /** path_with_namespace or id of the downstream project */
  project?: string;
  branch?: string;
  strategy?: 'depend' | 'mirror';
  forward: { yaml_variables: boolean; pipeline_variables: boolean };
}

export interface ParallelSpec {
  /** 1-based CI_NODE_INDEX */
  index: number;
  /** CI_NODE_TOTAL */
  total: number;
  /** the job name before expansion (`test` for `test 1/3` and `test: [ruby, 3.2]`) */
  group: string;
  /** the matrix values of this instance, in key order (already among `variables`) */
  matrix?: Record<string, string>;
}

/** One `release:assets:links` entry, as written (the runner's shell expands its variables). */
export interface ReleaseLinkSpec {
  name: string;
  url: string;
  /** other (default), runbook, image, package */
  link_type?: string;
  /** `/path` of the release's permanent asset URL; `direct_asset_path` is its newer name */
  filepath?: string;
  direct_asset_path?: string;
}

/**
 * `release:` — the release the job's release step (release-cli) creates through the
 * Releases API once its script succeeded. Values as written: variables are expanded by the
 * runner's shell, as GitLab leaves them.
 */
export interface ReleaseSpec {
  tag_name: string;
  tag_message?: string;
  name?: string;
  /** the text, or a file path release-cli reads */
  description: string;
  ref?: string;
  milestones?: string[];
  /** ISO 8601 */
  released_at?: string;
  assets?: { links: ReleaseLinkSpec[] };
}

export interface JobSpec {
  /** concrete name (`test 1/3`, `test: [ruby, 3.2]`) */
  name: string;
  stage: string;
  stageIdx: number;
  /** Nested lists are flattened; a single string becomes a one-element list. */
  beforeScript: string[];
  script: string[];
  afterScript: string[];
  image?: ImageSpec;
  services: ServiceSpec[];
  /** Job-level variables (YAML job variables, rules:variables, matrix values), in order; global ones live on the pipeline. */
  variables: Record<string, string>;
  /** names among `variables` declared with `expand: false` (sent with `raw: true`) */
  rawVariables?: string[];
  /**
   * `inherit:variables`: the names of the pipeline's YAML variables this job receives
   * (absent = all of them; [] = none).
   */
  globalVariables?: string[];
  tags: string[];
  artifacts?: ArtifactsSpec;
  cache?: CacheSpec[];
  /** undefined = artifacts of all earlier-stage jobs (or of the needs with artifacts); [] = none. Concrete names. */
  dependencies?: string[];
  /** undefined = stage-scheduled; [] = starts at once; else a DAG job. */
  needs?: NeedSpec[];
  when: When;
  /** seconds, with `when: delayed` */
  startIn?: number;
  allowFailure: boolean;
  /** `allow_failure: {exit_codes}`: the job fails normally unless its exit code is listed */
  allowFailureExitCodes?: number[];
  retry: RetrySpec;
  /** Seconds. */
  timeout?: number;
  interruptible?: boolean;
  resourceGroup?: string;
  environment?: EnvironmentSpec;
  /** `coverage:` as written (`/regex/`) */
  coverage?: string;
  parallel?: ParallelSpec;
  trigger?: TriggerSpec;
  hooks?: { pre_get_sources_script: string[] };
  /** `manual_confirmation:` — the message shown before a manual job is played */
  manualConfirmation?: string;
  /** `release:` — the runner adds a release step after the script (needs `multi_build_steps`) */
  release?: ReleaseSpec;
}
