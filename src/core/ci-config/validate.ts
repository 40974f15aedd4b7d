/**
 * Step 6: the checks GitLab makes over the whole (parallel-expanded) job set, whatever rules
 * later decide: each job's stage exists, `needs` name existing jobs of the same or earlier
 * stages (≤ 50, no duplicates, no cycles), `dependencies` name jobs of the same or earlier stages,
 * `environment:on_stop` names a stop job of the same environment.
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

/** The concrete instances one need names (all instances of a parallel job, or a matrix selection). */
export function needTargets(need: NeedEntry, byGroup: Map<string, Instance[]>, byName: Map<string, Instance>): string[] | null {
  if (need.matrix) {
    const names = need.matrix.flatMap(combinations).map((values) => matrixName(need.job, values));
    return names.every((n) => byName.has(n)) ? names : null;
  }
  const group = byGroup.get(need.job);
  if (group && group.length && group[0].parallel) return group.map((i) => i.name);
  return byName.has(need.job) ? [need.job] : null;
}

export function validatePlan(errors: Errors, instances: readonly Instance[], stages: StageTable): void {
  const byName = new Map(instances.map((i) => [i.name, i]));
  const byGroup = new Map<string, Instance[]>();
  for (const i of instances) {
    const g = i.entry.name;
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g)!.push(i);
  }
  const stageOf = (i: Instance) => stages.index.get(i.entry.spec.stage) ?? -1;
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
    const needs = needsOf(i) ?? [];
    const seen = new Set<string>();
    const duplicated: string[] = [];
    for (const n of needs) {
      const key = n.matrix ? `${n.job}${JSON.stringify(n.matrix)}` : n.job;
      if (seen.has(key) && !duplicated.includes(n.job)) duplicated.push(n.job);
      seen.add(key);
    }
    if (duplicated.length) errors.raw(`${name} has the following needs duplicated: ${duplicated.join(', ')}.`);
    let count = 0;
    for (const n of needs) {
      const targets = needTargets(n, byGroup, byName);
      if (targets === null) {
        if (!n.optional) errors.raw(`${name} job: undefined need: ${n.matrix ? `${n.job}: [${n.matrix.flatMap(combinations).map((v) => Object.values(v).join(', ')).join('], [')}]` : n.job}`);
        continue;
      }
      count += targets.length;
      for (const t of targets) {
        if (stageOf(byName.get(t)!) > stageOf(i)) errors.raw(`${name} job: need ${n.job} is not defined in current or prior stages`);
      }
    }
    if (count > MAX_NEEDS) errors.raw(`${name}: one job can only need ${MAX_NEEDS} others, but you have listed ${count}. See needs keyword documentation for more details`);
    for (const dep of i.entry.spec.dependencies ?? []) {
      const targets = needTargets({ job: dep, artifacts: true, optional: false }, byGroup, byName);
      if (targets === null) { errors.raw(`${name} job: undefined dependency: ${dep}`); continue; }
      // GitLab compares stage indexes with <= for dependencies as for needs (yaml_processor.rb)
      if (targets.some((t) => stageOf(byName.get(t)!) > stageOf(i))) {
        errors.raw(`${name} job: dependency ${dep} is not defined in current or prior stages`);
      }
    }
    const env = i.entry.spec.environment;
    if (env?.on_stop !== undefined) {
      const stop = byGroup.get(env.on_stop)?.[0];
      if (!stop) errors.raw(`${name} job: on_stop job ${env.on_stop} is not defined`);
      else if (!stop.entry.spec.environment) errors.raw(`${name} job: on_stop job ${env.on_stop} does not have environment defined`);
      else if (stop.entry.spec.environment.name !== env.name) errors.raw(`${name} job: on_stop job ${env.on_stop} have different environment name`);
      else if (stop.entry.spec.environment.action !== 'stop') errors.raw(`${name} job: on_stop job ${env.on_stop} needs to have action stop defined`);
    }
  }
  if (hasCycle(instances, byGroup, byName)) errors.raw('The pipeline has circular dependencies');
}

function hasCycle(instances: readonly Instance[], byGroup: Map<string, Instance[]>, byName: Map<string, Instance>): boolean {
  const state = new Map<string, number>();
  const edges = (i: Instance) => (needsOf(i) ?? []).flatMap((n) => needTargets(n, byGroup, byName) ?? []);
  const visit = (i: Instance): boolean => {
    const s = state.get(i.name);
    if (s === 1) return true;
    if (s === 2) return false;
    state.set(i.name, 1);
    for (const t of edges(i)) { const target = byName.get(t); if (target && visit(target)) return true; }
    state.set(i.name, 2);
    return false;
  };
  return instances.some(visit);
}
