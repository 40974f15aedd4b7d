/** `image` and `services`: a name, or a hash with GitLab's keys; what the runner payload carries. */
import type { ImageSpec, ServiceSpec } from '../../../db/job-spec';
import { attrError, child, configError, knownKeys, stringList, type Entry } from './common';
import { variables } from './variables';
import { flattenDeep, isInteger, isMap, isString, type YamlMap } from '../values';

const IMAGE_KEYS = ['name', 'entrypoint', 'ports', 'pull_policy', 'docker', 'kubernetes'];
const SERVICE_KEYS = [...IMAGE_KEYS, 'command', 'alias', 'variables'];
const PULL_POLICIES = ['always', 'never', 'if-not-present'];

function common(e: Entry, v: YamlMap, spec: ImageSpec): boolean {
  const before = e.errors.count;
  if (v.entrypoint !== undefined && v.entrypoint !== null) {
    const ep = stringList(e, v.entrypoint, 'entrypoint');
    if (ep) spec.entrypoint = ep;
  }
  if (v.pull_policy !== undefined && v.pull_policy !== null) {
    const pe = child(e, 'pull_policy');
    const list = isString(v.pull_policy) ? [v.pull_policy] : v.pull_policy;
    if (!Array.isArray(list) || !list.every(isString)) configError(pe, 'should be a string or an array of strings');
    else if (list.some((p) => !PULL_POLICIES.includes(p))) configError(pe, `should be one of: ${PULL_POLICIES.join(', ')}`);
    else spec.pull_policy = [...list];
  }
  if (v.docker !== undefined && v.docker !== null) {
    const de = child(e, 'docker');
    if (!isMap(v.docker)) configError(de, 'should be a hash');
    else if (knownKeys(de, v.docker, ['platform', 'user'])) {
      const docker: { platform?: string; user?: string } = {};
      for (const k of ['platform', 'user'] as const) {
        const x = v.docker[k];
        if (x === undefined || x === null) continue;
        if (!isString(x)) attrError(de, k, 'should be a string');
        else docker[k] = x;
      }
      spec.docker = docker;
    }
  }
  if (v.kubernetes !== undefined && v.kubernetes !== null) {
    e.errors.raw(`${e.location}:kubernetes is not supported by Baton (runner executor options for Kubernetes are not sent)`);
  }
  if (v.ports !== undefined && v.ports !== null) {
    const pe = child(e, 'ports');
    if (!Array.isArray(v.ports) || !v.ports.every((p) => isInteger(p) || isMap(p))) configError(pe, 'should be an array of integers or hashes');
    else e.errors.raw(`${e.location}:ports is not supported by Baton (exposed ports are a GitLab Web IDE feature)`);
  }
  return e.errors.count === before;
}

export function image(e: Entry, v: unknown): ImageSpec | undefined {
  if (isString(v)) return v === '' ? attrError(e, 'name', "can't be blank") : { name: v };
  if (!isMap(v)) return configError(e, 'should be a hash or a string');
  if (!knownKeys(e, v, IMAGE_KEYS)) return undefined;
  if (v.name === undefined || v.name === null || v.name === '') return attrError(e, 'name', "can't be blank");
  if (!isString(v.name)) return attrError(e, 'name', 'should be a string');
  const spec: ImageSpec = { name: v.name };
  return common(e, v, spec) ? spec : undefined;
}

export function service(e: Entry, v: unknown): ServiceSpec | undefined {
  if (isString(v)) return v === '' ? attrError(e, 'name', "can't be blank") : { name: v };
  if (!isMap(v)) return configError(e, 'should be a hash or a string');
  if (!knownKeys(e, v, SERVICE_KEYS)) return undefined;
  if (v.name === undefined || v.name === null || v.name === '') return attrError(e, 'name', "can't be blank");
  if (!isString(v.name)) return attrError(e, 'name', 'should be a string');
  const spec: ServiceSpec = { name: v.name };
  const before = e.errors.count;
  if (!common(e, v, spec)) return undefined;
  if (v.command !== undefined && v.command !== null) {
    const c = stringList(e, v.command, 'command');
    if (c) spec.command = c;
  }
  if (v.alias !== undefined && v.alias !== null) {
    if (!isString(v.alias)) attrError(e, 'alias', 'should be a string');
    else spec.alias = v.alias;
  }
  if (v.variables !== undefined && v.variables !== null) {
    const vars = variables(child(e, 'variables'), v.variables, ['value']);
    if (vars) spec.variables = Object.fromEntries(vars.map((x) => [x.key, x.value]));
  }
  return e.errors.count === before ? spec : undefined;
}

export function services(e: Entry, v: unknown): ServiceSpec[] | undefined {
  // GitLab's TypeValidator wording ("should be a array")
  if (!Array.isArray(v)) return configError(e, 'should be a array');
  const out: ServiceSpec[] = [];
  let ok = true;
  for (const item of flattenDeep(v)) {
    const s = service(child(e, `service`), item);
    if (s) out.push(s); else ok = false;
  }
  return ok ? out : undefined;
}
