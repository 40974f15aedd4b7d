/**
 * Finds the entities a REST path names, scoped to the project in the path: a pipeline or
 * job of another project is "not found" under this one, exactly like an unknown id.
 */
import type { Core } from '../core';
import { DomainError, notFound } from '../core/errors';
import type { Job, Pipeline, Project } from '../db/schema';

/** `12` → 12; anything else (names, negative numbers, `1e3`) → NaN, which is never found. */
export function numericId(raw: string): number {
  return /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
}

export function projectOf(core: Core, rawId: string): Project {
  const id = numericId(rawId);
  if (Number.isNaN(id)) throw notFound('Project');
  return core.projects.get(id);
}

export function pipelineOf(core: Core, rawProject: string, rawPipeline: string): { project: Project; pipeline: Pipeline } {
  const project = projectOf(core, rawProject);
  const id = numericId(rawPipeline);
  const pipeline = Number.isNaN(id) ? null : findPipeline(core, id);
  if (!pipeline || pipeline.projectId !== project.id) throw notFound('Pipeline');
  return { project, pipeline };
}

export function jobOf(core: Core, rawProject: string, rawJob: string): { project: Project; job: Job } {
  const project = projectOf(core, rawProject);
  const job = core.jobs.find(numericId(rawJob));
  if (!job || job.projectId !== project.id) throw notFound('Job');
  return { project, job };
}

function findPipeline(core: Core, id: number): Pipeline | null {
  try {
    return core.pipelines.get(id);
  } catch (e) {
    if (e instanceof DomainError && e.code === 'not_found') return null;
    throw e;
  }
}
