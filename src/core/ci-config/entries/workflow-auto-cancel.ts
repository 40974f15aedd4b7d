/** `auto_cancel: {on_new_commit, on_job_failure}` (workflow and workflow rules). */
import { configError, knownKeys, type Entry } from './common';
import { isMap } from '../values';

export interface AutoCancelEntry {
  onNewCommit?: 'conservative' | 'interruptible' | 'none';
  onJobFailure?: 'none' | 'all';
}

const ON_NEW_COMMIT = ['conservative', 'interruptible', 'none'] as const;
const ON_JOB_FAILURE = ['none', 'all'] as const;

export function autoCancel(e: Entry, v: unknown): AutoCancelEntry | undefined {
  if (!isMap(v)) return configError(e, 'should be a hash');
  if (!knownKeys(e, v, ['on_new_commit', 'on_job_failure'])) return undefined;
  const out: AutoCancelEntry = {};
  const before = e.errors.count;
  if (v.on_new_commit !== undefined && v.on_new_commit !== null) {
    const x = ON_NEW_COMMIT.find((w) => w === v.on_new_commit);
    if (x) out.onNewCommit = x; else e.errors.add(e.location, `on new commit must be one of: ${ON_NEW_COMMIT.join(', ')}`);
  }
  if (v.on_job_failure !== undefined && v.on_job_failure !== null) {
    const x = ON_JOB_FAILURE.find((w) => w === v.on_job_failure);
    if (x) out.onJobFailure = x; else e.errors.add(e.location, `on job failure must be one of: ${ON_JOB_FAILURE.join(', ')}`);
  }
  return e.errors.count === before ? out : undefined;
}
