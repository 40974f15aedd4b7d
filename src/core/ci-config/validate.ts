/**
 * Step 6: the checks GitLab makes over the whole (parallel-expanded) job set, whatever rules
 * later decide, in its order for each job: the stage exists, `dependencies` then `needs` (the
 * job's, then each rule's) name existing jobs of the same or earlier stages, needs without
 * duplicates; `environment:on_stop` names a stop job of the same environment; no cycles.
 * The 50-needs limit comes last: GitLab only counts it when it creates the pipeline.
 */
import type { NeedEntry } from './entries/needs';
import type { Errors } from './errors';
import { combinations, matrixName, needsOf, type Instance } from './matrix';

export const MAX_NEEDS = 50;

export interface StageTable { all: string[]; index: Map<string, number> }

export function stageTable(userStages: readonly string[]): StageTable {
  const all = ['.pre', ...userStages, '.post'];
  return { all, index: new Map(all.map((s, i) => [s, i])) };
}

/**
 * The job names a job-level need (or a dependency) stands for, as GitLab's normalizer writes
 * them: a parallel job's instances (all, or the need's matrix selection); any other name as is.
 */
export function needNames(need: NeedEntry, byGroup: Map<string, Instance[]>): string[] {
  const group = byGroup.get(need.job);
  if (!group?.[0]?.parallel) return [need.job];
  if (need.matrix) return need.matrix.flatMap(combinations).map((values) => matrixName(need.job, values));
  return group.map((i) => i.name);
}

/** The concrete instances one need names, or null when one of them is not in the configuration. */
export function needTargets(need: NeedEntry, byGroup: Map<string, Instance[]>, byName: Map<string, Instance>): string[] | null {
  const names = needNames(need, byGroup);
  return names.every((n) => byName.has(n)) ? names : null;
}

export function validatePlan(errors: Errors, instances: readonly Instance[], stages: StageTable): void {
  const byName = new Map(instances.map((i) => [i.name, i]));
  const byGroup = new Map<string, Instance[]>();
  for (const i of instances) {
    const g = i.entry.name;
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g)!.push(i);
  }
  // a job whose stage does not exist compares as GitLab's nil index does: never earlier
  const earlierOrSame = (target: Instance, of: Instance) => {
    const t = stages.index.get(target.entry.spec.stage);
    return t !== undefined && t <= stages.index.get(of.entry.spec.stage)!;
  };
  /** One list of needs (the job's, or one rule's): each name, then the duplicates. */
  const checkNeeds = (i: Instance, needs: ReadonlyArray<{ name: string; optional: boolean }>) => {
    for (const n of needs) {
      const target = byName.get(n.name);
      if (!target) { if (!n.optional) errors.raw(`${i.name} job: undefined need: ${n.name}`); continue; }
      if (!earlierOrSame(target, i)) errors.raw(`${i.name} job: need ${n.name} is not defined in current or prior stages`);
    }
    const counts = new Map<string, number>();
    for (const n of needs) counts.set(n.name, (counts.get(n.name) ?? 0) + 1);
    const duplicated = [...counts].filter(([, c]) => c > 1).map(([n]) => n);
    if (duplicated.length) errors.raw(`${i.name} has the following needs duplicated: ${duplicated.join(', ')}.`);
  };
  const tooMany: string[] = [];
  const reported = new Set<string>();
  for (const i of instances) {
    const name = i.name;
    if (!stages.index.has(i.entry.spec.stage)) {
      if (!reported.has(i.entry.name)) errors.raw(`${i.entry.name} job: chosen stage ${i.entry.spec.stage} does not exist; available stages are ${stages.all.join(', ')}`);
      reported.add(i.entry.name);
      continue;
    }
    if (i.unknownMatrixKeys) {
      // GitLab reports these per job (not per instance), once each
      for (const key of i.unknownMatrixKeys) {
        const message = `${i.entry.name} job: '${key}' does not exist in matrix configuration`;
        if (!reported.has(message)) errors.raw(message);
        reported.add(message);
      }
      continue;
    }
    for (const dep of i.entry.spec.dependencies ?? []) {
      for (const d of needNames({ job: dep, artifacts: true, optional: false }, byGroup)) {
        const target = byName.get(d);
        if (!target) errors.raw(`${name} job: undefined dependency: ${d}`);
        else if (!earlierOrSame(target, i)) errors.raw(`${name} job: dependency ${d} is not defined in current or prior stages`);
      }
    }
    const needs = (needsOf(i) ?? []).flatMap((n) => needNames(n, byGroup).map((t) => ({ name: t, optional: n.optional })));
    checkNeeds(i, needs);
    // the normalizer leaves rule needs as written: a rule names jobs, instances included, by their own names
    for (const rule of i.entry.rules ?? []) {
      if (rule.needs) checkNeeds(i, rule.needs.map((n) => ({ name: n.job, optional: n.optional })));
    }
    if (needs.length > MAX_NEEDS) tooMany.push(`${name}: one job can only need ${MAX_NEEDS} others, but you have listed ${needs.length}. See needs keyword documentation for more details`);
    const env = i.entry.spec.environment;
    if (env?.on_stop !== undefined) {
      const stop = byGroup.get(env.on_stop)?.[0];
      if (!stop) errors.raw(`${name} job: on_stop job ${env.on_stop} is not defined`);
      else if (!stop.entry.spec.environment) errors.raw(`${name} job: on_stop job ${env.on_stop} does not have environment defined`);
      else if (stop.entry.spec.environment.name !== env.name) errors.raw(`${name} job: on_stop job ${env.on_stop} have different environment name`);
      else if (stop.entry.spec.environment.action !== 'stop') errors.raw(`${name} job: on_stop job ${env.on_stop} needs to have action stop defined`);
    }
  }
  // only job-level needs make the graph GitLab checks (rule needs apply per pipeline)
  const cycle = cycleOf(instances, byGroup, byName);
  if (cycle) errors.raw(`The pipeline has circular dependencies: ${cycle}`);
  // GitLab's Seed::Build counts the job's own needs when it creates the pipeline, after every
  // configuration check; Baton refuses them with the configuration, after those checks
  for (const m of tooMany) errors.raw(m);
}

/**
 * What Ruby's TSort (GitLab's YamlProcessor::Dag) says of the first cycle of the needs graph,
 * or null: `self-dependency: a` for a job that needs itself, else `topological sort failed:
 * ["a", "c", "b"]`, the strongly connected component in the order Tarjan's walk pushed it
 * (jobs in file order, needs in their order; a need on an unknown job has no edges).
 */
function cycleOf(instances: readonly Instance[], byGroup: Map<string, Instance[]>, byName: Map<string, Instance>): string | null {
  const children = new Map(instances.map((i) => [i.name, (needsOf(i) ?? []).flatMap((n) => needNames(n, byGroup))]));
  const ids = new Map<string, number | null>();
  const stack: string[] = [];
  class Cyclic { constructor(readonly message: string) {} }
  const visit = (node: string): number => {
    let minimum = ids.size;
    const id = minimum;
    ids.set(node, id);
    const base = stack.length;
    stack.push(node);
    const kids = byName.has(node) ? children.get(node) ?? [] : [];
    if (kids.includes(node)) throw new Cyclic(`self-dependency: ${node}`);
    for (const child of kids) {
      if (ids.has(child)) {
        const c = ids.get(child);
        if (c !== null && c !== undefined && c < minimum) minimum = c;
      } else {
        const sub = visit(child);
        if (sub < minimum) minimum = sub;
      }
    }
    if (id === minimum) {
      const component = stack.splice(base);
      for (const n of component) ids.set(n, null);
      if (component.length > 1) throw new Cyclic(`topological sort failed: [${component.map((n) => JSON.stringify(n)).join(', ')}]`);
    }
    return minimum;
  };
  try {
    for (const i of instances) if (!ids.has(i.name)) visit(i.name);
  } catch (e) {
    if (e instanceof Cyclic) return e.message;
    throw e;
  }
  return null;
}
