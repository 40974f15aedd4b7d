/**
 * Table helpers for the compiler's unit tests: YAML → plan, or YAML → exactly these errors.
 * The context is a push to `main` of project `baton/demo` (test/support/compile.ts) unless
 * a case says otherwise.
 */
import { expect } from 'bun:test';
import type { JobSpec } from '../../../src/db/job-spec';
import type { CompileResult, PipelinePlan } from '../../../src/core/ci-config/types';
import { compile, type ContextOptions } from '../../support/compile';

export { compile };

export async function plan(yaml: string, o: ContextOptions = {}): Promise<PipelinePlan> {
  const r = await compile(yaml, o);
  if (r.plan === null) throw new Error(`expected a plan, got errors:\n${r.errors.join('\n')}`);
  return r.plan;
}

export async function errors(yaml: string, o: ContextOptions = {}): Promise<string[]> {
  const r: CompileResult = await compile(yaml, o);
  if (r.plan !== null) throw new Error(`expected errors, got a plan with jobs ${r.plan.jobs.map((j) => j.name).join(', ')}`);
  return r.errors;
}

export function job(p: PipelinePlan, name: string): JobSpec {
  const j = p.jobs.find((x) => x.name === name);
  if (!j) throw new Error(`no job ${name} in plan: ${p.jobs.map((x) => x.name).join(', ')}`);
  return j;
}

export function names(p: PipelinePlan): string[] {
  return p.jobs.map((j) => j.name);
}

/** Runs a table of YAML → expected error list (exact). */
export async function expectErrors(cases: ReadonlyArray<readonly [string, string[]]>, o: ContextOptions = {}): Promise<void> {
  for (const [yaml, want] of cases) expect({ yaml, errors: await errors(yaml, o) }).toEqual({ yaml, errors: want });
}

/** Runs a table of YAML → a partial job `j` (toMatchObject). */
export async function expectJob(cases: ReadonlyArray<readonly [string, Partial<JobSpec> | Record<string, unknown>]>, name = 'j', o: ContextOptions = {}): Promise<void> {
  for (const [yaml, want] of cases) {
    const p = await plan(yaml, o);
    expect({ yaml, job: job(p, name) }).toMatchObject({ yaml, job: want });
  }
}
