/** `retry`, `allow_failure` and `timeout`: what happens when a job fails or runs long. */
import type { RetrySpec } from '../../../db/job-spec';
import { parseDuration } from '../../duration';
import { attrError, configError, integerOrList, knownKeys, type Entry } from './common';
import { isInteger, isMap, isString, isStringArray } from '../values';

/** GitLab's failure reasons (Ci::Build failure_reason), any of which `retry:when` may name. */
export const RETRY_WHEN = [
  'always', 'unknown_failure', 'script_failure', 'api_failure', 'stuck_or_timeout_failure', 'runner_system_failure',
  'missing_dependency_failure', 'runner_unsupported', 'stale_schedule', 'job_execution_timeout', 'archived_failure',
  'unmet_prerequisites', 'scheduler_failure', 'data_integrity_failure', 'forward_deployment_failure', 'user_blocked',
  'project_deleted', 'ci_quota_exceeded', 'pipeline_loop_detected', 'no_matching_runner', 'trace_size_exceeded',
  'builds_disabled', 'environment_creation_failure', 'deployment_rejected', 'failed_outdated_deployment_job',
  'protected_environment_failure', 'insufficient_bridge_permissions', 'downstream_bridge_project_not_found',
  'invalid_bridge_trigger', 'upstream_bridge_project_not_found', 'insufficient_upstream_permissions',
  'bridge_pipeline_is_child_pipeline', 'downstream_pipeline_creation_failed', 'secrets_provider_not_found',
  'reached_max_descendant_pipelines_depth', 'ip_restriction_failure', 'reached_max_pipeline_hierarchy_size',
  'reached_downstream_pipeline_trigger_rate_limit', 'job_router_failure',
  // GitLab 19.1 split runner_system_failure, script_failure, stuck_or_timeout_failure and
  // job_execution_timeout into finer reasons (the old names stay valid, deprecated)
  'runner_configuration_error', 'runner_external_dependency_failure', 'runner_interrupted',
  'stuck_pending_with_matching_runners', 'stuck_pending_no_matching_runners', 'no_updates_running', 'no_updates_canceling',
  'server_timeout_running', 'server_timeout_canceling', 'job_execution_server_timeout',
  'downstream_project_trigger_resolved_to_empty', 'secrets_manager_access_denied', 'job_token_expired',
];

/** GitLab reports retry problems at location `retry` (not under the job). */
export function retry(e: Entry, v: unknown): RetrySpec | undefined {
  const re: Entry = { errors: e.errors, location: 'retry' };
  const max = (x: unknown, attr: string): number | undefined => {
    if (!isInteger(x)) return attrError(re, attr, 'must be an integer');
    if (x < 0) return attrError(re, attr, 'must be greater than or equal to 0');
    if (x > 2) return attrError(re, attr, 'must be less than or equal to 2');
    return x;
  };
  if (isInteger(v)) {
    const m = max(v, 'config');
    return m === undefined ? undefined : { max: m, when: ['always'], exit_codes: [] };
  }
  if (!isMap(v)) { e.errors.raw('retry config has to be either an integer or a hash'); return undefined; }
  if (!knownKeys(re, v, ['max', 'when', 'exit_codes'])) return undefined;
  const before = e.errors.count;
  const spec: RetrySpec = { max: 0, when: ['always'], exit_codes: [] };
  if (v.max !== undefined && v.max !== null) { const m = max(v.max, 'max'); if (m !== undefined) spec.max = m; }
  if (v.when !== undefined && v.when !== null) {
    if (isString(v.when)) {
      if (!RETRY_WHEN.includes(v.when)) attrError(re, 'when', 'is not included in the list');
      else spec.when = [v.when];
    } else if (isStringArray(v.when)) {
      const unknown = v.when.filter((w) => !RETRY_WHEN.includes(w));
      if (unknown.length) attrError(re, 'when', `contains unknown values: ${unknown.join(', ')}`);
      else spec.when = [...v.when];
    } else attrError(re, 'when', 'should be an array of strings or a string');
  }
  if (v.exit_codes !== undefined && v.exit_codes !== null) {
    const c = integerOrList(re, v.exit_codes, 'exit_codes');
    if (c) spec.exit_codes = c;
  }
  return e.errors.count === before ? spec : undefined;
}

export interface AllowFailure { value: boolean; exitCodes?: number[] }

export function allowFailure(e: Entry, v: unknown): AllowFailure | undefined {
  if (typeof v === 'boolean') return { value: v };
  if (!isMap(v)) return attrError(e, 'allow_failure', 'should be a hash or a boolean value');
  const ae: Entry = { errors: e.errors, location: `${e.location}:allow_failure` };
  if (!knownKeys(ae, v, ['exit_codes'])) return undefined;
  const codes = integerOrList(ae, v.exit_codes, 'exit_codes');
  return codes === undefined ? undefined : { value: false, exitCodes: codes };
}

const ONE_MONTH = 30 * 24 * 3600;

/** `timeout:` — a duration (a string: GitLab's validate_duration refuses a bare number), at most a month (GitLab's project maximum). */
export function timeout(e: Entry, v: unknown): number | undefined {
  const seconds = isString(v) ? parseDuration(v) : null;
  if (seconds === null) return configError(e, 'should be a duration');
  if (seconds > ONE_MONTH) return configError(e, 'should not exceed the limit');
  return seconds;
}
