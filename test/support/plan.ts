/**
 * Plans built by hand: JobSpecs with GitLab's defaults, so tests of pipeline execution do not
 * depend on the `.gitlab-ci.yml` compiler. `job('test', {stage: 'test', needs: ['build']})`;
 * `plan([...jobs], {stages})` numbers the stages; `createPipeline` stores it through the core.
 */
import type { Core } from '../../src/core';
import type { PipelinePlan } from '../../src/core/ci-config/types';
import type { PipelineInput } from '../../src/core/pipelines';
import type { JobSpec, NeedSpec } from '../../src/db/job-spec';

export type JobOptions = Partial<Omit<JobSpec, 'needs'>> & {
  /** names (artifacts: true) or full entries */
  needs?: (string | Partial<NeedSpec> & { job: string })[];
};

export function job(name: string, o: JobOptions = {}): JobSpec {
  const { needs, ...rest } = o;
  return {
    name, stage: 'test', stageIdx: -1, beforeScript: [], script: [`echo ${name}`], afterScript: [], services: [], variables: {},
    tags: [], when: 'on_success', allowFailure: o.when === 'manual', retry: { max: 0, when: ['always'], exit_codes: [] },
    ...rest,
    ...(needs ? { needs: needs.map((n) => (typeof n === 'string' ? { job: n, artifacts: true, optional: false } : { artifacts: true, optional: false, ...n })) } : {}),
  };
}

export function plan(jobs: JobSpec[], o: { stages?: string[]; variables?: Record<string, string>; workflow?: Partial<PipelinePlan['workflow']> } = {}): PipelinePlan {
  const stages = o.stages ?? ['build', 'test', 'deploy'];
  for (const j of jobs) {
    j.stageIdx = stages.indexOf(j.stage);
    if (j.stageIdx < 0) throw new Error(`stage ${j.stage} of ${j.name} is not in ${stages.join(', ')}`);
  }
  return {
    stages, variables: o.variables ?? {}, jobs: [...jobs].sort((a, b) => a.stageIdx - b.stageIdx),
    workflow: { autoCancel: { onNewCommit: 'conservative', onJobFailure: 'none' }, ...o.workflow },
  };
}

let shaCounter = 0;
/** A fresh 40-hex sha (auto-cancel compares shas). */
export const nextSha = () => (++shaCounter).toString(16).padStart(40, 'a');

export function createPipeline(core: Core, projectId: number, p: PipelinePlan, input: Partial<PipelineInput> = {}) {
  return core.pipelines.create(projectId, { ref: 'main', tag: false, sha: nextSha(), ...input }, p);
}

/** name → status of the current attempts of a pipeline. */
export function statuses(core: Core, pipelineId: number): Record<string, string> {
  return Object.fromEntries(core.pipelines.latestJobs(pipelineId).map((j) => [j.name, j.status]));
}
