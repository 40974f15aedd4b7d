/**
 * The job and pipeline status changes other parts react to (forge commit statuses, project
 * hooks: core/outbox/). The lifecycle code calls these at the few places where a status
 * really changes, INSIDE the transaction of that change, so whatever a listener writes
 * commits or rolls back with it. Listeners only write rows; they never do network I/O.
 */
import type { Job, Pipeline } from '../db/schema';

export interface LifecycleEvents {
  /** `pipeline` carries the new status already */
  pipelineStatus(pipeline: Pipeline, from: string, to: string): void;
  /** `job` carries the new status already */
  jobStatus(job: Job, from: string, to: string): void;
}

export const noEvents: LifecycleEvents = { pipelineStatus() {}, jobStatus() {} };
