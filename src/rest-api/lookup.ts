/**
 * Finds the entities a REST path names inside a project the caller was already allowed
 * (src/http/auth.ts `can`): a pipeline or job of another project is "not found" under
 * this one, exactly like an unknown id.
 */
import type { Core } from '../core';
import { DomainError, notFound } from '../core/errors';
import type { Job, Pipeline, Project } from '../db/schema';

/** `12` → 12; anything else (names, negative numbers, `1e3`) → NaN, which is never found. */
export function numericId(raw: string): number {
  return /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
}

export function pipelineIn(core: Core, project: Project, rawPipeline: string): Pipeline {
  const id = numericId(rawPipeline);
  const pipeline = Number.isNaN(id) ? null : findPipeline(core, id);
  if (!pipeline || pipeline.projectId !== project.id) throw notFound('Pipeline');
  return pipeline;
}

export function jobIn(core: Core, project: Project, rawJob: string): Job {
  const job = core.jobs.find(numericId(rawJob));
  if (!job || job.projectId !== project.id) throw notFound('Job');
  return job;
}

function findPipeline(core: Core, id: number): Pipeline | null {
  try {
    return core.pipelines.get(id);
  } catch (e) {
    if (e instanceof DomainError && e.code === 'not_found') return null;
    throw e;
  }
}
