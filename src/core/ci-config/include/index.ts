/**
 * Step 2b: `include:` — resolved recursively and deep-merged (spec ci-yaml.md §2).
 *
 * For each entry of a file's `include` list, in order: normalise (a string is `remote` when it
 * is a URL after variable expansion, else `local`) → `include:rules` (drop what does not
 * match) → expand `project:file` lists and `local` wildcards → expand variables in the
 * locations → exactly one type key → count (150 files per pipeline, duplicates counted) →
 * fetch and load (header inputs interpolated) → the file's own includes, in its own context.
 * Merge: each included file = its includes, then itself on top; the including file is merged
 * last, so it wins. Only the include-time variables are visible (predefined, project and
 * pipeline variables — no YAML `variables`); a remote file's own includes see none.
 */
import type { CompileContext, IncludedFile, RepositoryFiles } from '../types';
import { ConfigError } from '../errors';
import { expand, type Lookup } from '../expand';
import { wildcardMatch } from '../globs';
import { interpolate, resolveInputs } from '../interpolation';
import { loadConfigFile } from '../load';
import { Errors } from '../errors';
import { INCLUDE_RULES, rules as ruleEntries } from '../entries/rules';
import { firstMatchingRule, RuleError } from '../rules/evaluate';
import { deepMerge, isMap, isString, toJson, without, type YamlMap } from '../values';
import { createHash } from 'node:crypto';

export const MAX_INCLUDES = 150;
const FETCH_TIMEOUT_MS = 30_000;
const TYPE_KEYS = ['local', 'project', 'remote', 'template', 'artifact', 'component'];
const ENTRY_KEYS = [...TYPE_KEYS, 'file', 'ref', 'job', 'inputs', 'rules', 'integrity', 'cache'];

/** Where a file came from: what its `local` includes read and what its `include:rules` see. */
export interface FileScope {
  files: RepositoryFiles | null;
  sha: string | null;
  projectPath: string | null;
  /** include-time variables; null for files fetched from a URL (they see none) */
  variables: Lookup | null;
}

export interface IncludeState {
  ctx: CompileContext;
  count: number;
  includes: IncludedFile[];
  deadline: number;
}

export function newIncludeState(ctx: CompileContext): IncludeState {
  return { ctx, count: 0, includes: [], deadline: Date.now() + FETCH_TIMEOUT_MS };
}

type Location = Record<string, unknown>;

export async function mergeIncludes(body: YamlMap, scope: FileScope, state: IncludeState): Promise<YamlMap> {
  if (!Object.hasOwn(body, 'include') || body.include === null) return without(body, 'include');
  const own = without(body, 'include');
  let merged: YamlMap = {};
  for (const loc of await locations(body.include, scope, state)) {
    const fetched = await fetchFile(loc, scope, state);
    const nested = await mergeIncludes(fetched.body, fetched.scope, state);
    merged = deepMerge(merged, nested);
  }
  return deepMerge(merged, own);
}

async function locations(value: unknown, scope: FileScope, state: IncludeState): Promise<Location[]> {
  const list = Array.isArray(value) ? value : [value];
  const out: Location[] = [];
  const lookup = scope.variables ?? (() => undefined);
  for (const item of list) {
    // GitLab's Mapper drops empty entries (`.compact`)
    if (item === null || item === undefined) continue;
    let loc: Location;
    if (isString(item)) {
      // GitLab's Normalizer expands a string's variables first (they may make it a URL): its
      // wildcard is then matched against the expanded text
      const expanded = expand(item, lookup);
      loc = isUrl(expanded) ? { remote: expanded } : { local: expanded };
    } else if (isMap(item)) {
      loc = { ...item };
    } else {
      // GitLab's Mapper::Normalizer (a list, a number, a boolean)
      throw new ConfigError('Each include must be a hash or a string');
    }
    if (loc.rules !== undefined && loc.rules !== null && !(await includeRulesMatch(loc.rules, scope, state))) continue;
    for (const expanded of await expandLocation(loc, scope)) out.push(expanded);
  }
  return out;
}

async function includeRulesMatch(value: unknown, scope: FileScope, state: IncludeState): Promise<boolean> {
  // GitLab's Entry::Include::Rules requires the list to be present
  if (Array.isArray(value) && value.length === 0) throw new ConfigError("include:rules config can't be blank");
  const errors = new Errors();
  const parsed = ruleEntries({ errors, location: 'include' }, value, INCLUDE_RULES);
  if (parsed === undefined) throw new ConfigError(errors.list[0]);
  const lookup = scope.variables ?? (() => undefined);
  try {
    const rule = await firstMatchingRule(parsed, {
      lookup, expandLookup: lookup, changedPaths: state.ctx.changedPaths, changedSince: state.ctx.changedSince?.bind(state.ctx),
      files: scope.files,
      project: async (path, ref) => {
        const r = await state.ctx.includes.project(path, ref);
        return 'error' in r ? { error: r.error } : { files: r.files };
      },
    });
    return rule !== null && rule.when !== 'never';
  } catch (e) {
    if (e instanceof RuleError) throw new ConfigError(`include:rules:rule ${e.message}`);
    throw e;
  }
}

/**
 * GitLab's LocationExpander, then its VariablesExpander: `project:file` lists and `local`
 * wildcards first — a wildcard is matched as written (a `$VAR` in it stays literal) and each
 * match becomes `{local: path}` alone (its inputs are not passed on) — then variables.
 */
async function expandLocation(loc: Location, scope: FileScope): Promise<Location[]> {
  const lookup = scope.variables ?? (() => undefined);
  const ex = (v: unknown) => (isString(v) ? expand(v, lookup) : v);
  let list: Location[] = [loc];
  if (Array.isArray(loc.file)) list = loc.file.map((f) => ({ ...loc, file: f }));
  const expanded: Location[] = [];
  for (const l of list) {
    if (isString(l.local) && l.local.includes('*')) {
      if (scope.files === null) throw new ConfigError(`Local file \`${l.local}\` does not have project!`);
      const pattern = l.local;
      for (const path of (await scope.files.list()).filter((p) => wildcardMatch(pattern, p)).sort()) expanded.push({ local: path });
    } else expanded.push(l);
  }
  return expanded.map((l) => {
    const out: Location = { ...l };
    for (const k of ['local', 'project', 'remote', 'template', 'file', 'ref', 'component', 'artifact', 'job']) if (k in out) out[k] = ex(out[k]);
    return out;
  });
}

function isUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch { return false; }
}

function hasYamlExtension(path: string): boolean {
  const base = path.split('/').pop() ?? '';
  return /^.+\.ya?ml$/i.test(base);
}

interface Fetched { body: YamlMap; scope: FileScope }

async function fetchFile(loc: Location, scope: FileScope, state: IncludeState): Promise<Fetched> {
  const types = TYPE_KEYS.filter((k) => loc[k] !== undefined && loc[k] !== null);
  if (types.length === 0) {
    const shown: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(loc)) if (k !== 'rules') shown[k] = v;
    throw new ConfigError(`\`${toJson(shown)}\` does not have a valid subkey for include. Valid subkeys are: \`local\`, \`project\`, \`remote\`, \`template\`, \`artifact\`, \`component\``);
  }
  if (types.length > 1) throw new ConfigError('Each include must use only one of: `local`, `project`, `remote`, `template`, `artifact`, `component`');
  const unknown = Object.keys(loc).filter((k) => !ENTRY_KEYS.includes(k));
  if (unknown.length) throw new ConfigError(`include config contains unknown keys: ${unknown.join(', ')}`);
  const type = types[0];
  const location = loc[type];
  if (type !== 'project' && !isString(location)) throw new ConfigError(`Included file \`${toJson(location)}\` needs to be a string`);
  if (++state.count > MAX_INCLUDES) throw new ConfigError(`Maximum of ${MAX_INCLUDES} nested includes are allowed!`);
  if (Date.now() > state.deadline) throw new ConfigError('Request timed out when fetching configuration files.');
  const inputs = isMap(loc.inputs) ? loc.inputs : undefined;
  if (loc.inputs !== undefined && loc.inputs !== null && !isMap(loc.inputs)) throw new ConfigError('include:inputs config should be a hash');

  switch (type) {
    case 'local': {
      const path = (location as string).replace(/^\/+/, '');
      if (!hasYamlExtension(path)) throw new ConfigError(`Included file \`${location}\` does not have YAML extension!`);
      if (scope.files === null || scope.sha === null) throw new ConfigError(`Local file \`${path}\` does not have project!`);
      const text = await scope.files.read(path);
      if (text === null) throw new ConfigError(`Local file \`${path}\` does not exist!`);
      if (text.trim() === '') throw new ConfigError(`Local file \`${path}\` is empty!`);
      state.includes.push({
        type: 'local', location: path, blob: null, raw: null, extra: {}, context_project: scope.projectPath, context_sha: scope.sha,
      });
      return { body: parse(path, text, inputs, scope, state), scope };
    }
    case 'project': {
      if (!isString(location)) throw new ConfigError(`Included file \`${toJson(location)}\` needs to be a string`);
      const file = loc.file;
      if (!isString(file)) throw new ConfigError(`Included file \`${toJson(file ?? null)}\` needs to be a string`);
      const ref = isString(loc.ref) ? loc.ref : undefined;
      if (!hasYamlExtension(file)) throw new ConfigError(`Included file \`${file}\` does not have YAML extension!`);
      const found = await state.ctx.includes.project(location, ref);
      if ('error' in found) throw new ConfigError(found.error);
      const path = file.replace(/^\/+/, '');
      const text = await found.files.read(path);
      if (text === null) throw new ConfigError(`Project \`${location}\` file \`${path}\` does not exist!`);
      if (text.trim() === '') throw new ConfigError(`Project \`${location}\` file \`${path}\` is empty!`);
      state.includes.push({
        type: 'file', location: path, blob: null, raw: null, extra: { project: location, ref: found.ref },
        context_project: scope.projectPath, context_sha: scope.sha,
      });
      const child: FileScope = { files: found.files, sha: found.sha, projectPath: location, variables: scope.variables };
      return { body: parse(path, text, inputs, child, state), scope: child };
    }
    case 'remote': {
      const url = location as string;
      if (!isUrl(url)) throw new ConfigError(`Remote file \`${url}\` does not have a valid address!`);
      // GitLab checks the end of the whole location (a query string hides the extension)
      if (!hasYamlExtension(url)) throw new ConfigError(`Included file \`${url}\` does not have YAML extension!`);
      const got = await state.ctx.includes.remote(url);
      if ('error' in got) throw new ConfigError(got.error);
      if (isString(loc.integrity)) {
        const m = /^sha256-(.+)$/.exec(loc.integrity);
        const digest = createHash('sha256').update(got.body).digest('base64');
        if (!m || m[1] !== digest) throw new ConfigError(`Remote file \`${url}\` failed integrity check!`);
      }
      if (got.body.trim() === '') throw new ConfigError(`Included file \`${url}\` is empty or does not exist!`);
      state.includes.push({ type: 'remote', location: url, blob: null, raw: url, extra: {}, context_project: scope.projectPath, context_sha: scope.sha });
      const child: FileScope = { files: null, sha: null, projectPath: null, variables: null };
      return { body: parse(url, got.body, inputs, child, state), scope: child };
    }
    case 'template': {
      const name = location as string;
      if (!name.endsWith('.gitlab-ci.yml')) throw new ConfigError(`Template file \`${name}\` is not a valid location!`);
      throw new ConfigError(`Template file \`${name}\` cannot be included: Baton does not have GitLab's CI/CD template library`);
    }
    case 'component':
      throw new ConfigError(`Component \`${location as string}\` cannot be included: Baton does not have GitLab's CI/CD catalog of components`);
    case 'artifact': {
      const path = (location as string).replace(/^\/+/, '');
      if (!isString(loc.job)) throw new ConfigError('Job must be provided when including configs from artifacts');
      if (!state.ctx.includes.artifact) throw new ConfigError('Including configs from artifacts is only allowed when triggering child pipelines');
      if (!hasYamlExtension(path)) throw new ConfigError(`Included file \`${location}\` does not have YAML extension!`);
      const got = await state.ctx.includes.artifact(loc.job, path);
      if ('error' in got) throw new ConfigError(got.error);
      if (got.body.trim() === '') throw new ConfigError(`File \`${path}\` is empty!`);
      state.includes.push({ type: 'artifact', location: path, blob: null, raw: null, extra: { job_name: loc.job }, context_project: scope.projectPath, context_sha: scope.sha });
      // local includes inside it are read from the project's repository, as GitLab does
      return { body: parse(path, got.body, inputs, scope, state), scope };
    }
    default:
      throw new ConfigError('Including configs from artifacts is only allowed when triggering child pipelines');
  }
}

function parse(location: string, text: string, inputs: Record<string, unknown> | undefined, scope: FileScope, state: IncludeState): YamlMap {
  try {
    const loaded = loadConfigFile(text);
    // nothing but blank documents (comments, `---`, `{}`): GitLab's blank-hash check, same message as below
    if (Object.keys(loaded.body).length === 0) throw new ConfigError('Invalid configuration format');
    const values = resolveInputs(loaded.header, inputs);
    if (values === null) return loaded.body;
    return interpolate(loaded.body, values, scope.variables ?? (() => undefined), new Set(state.ctx.maskedVariables));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (e.message === 'Invalid configuration format') throw new ConfigError(`Included file \`${location}\` does not have valid YAML syntax!`);
    throw new ConfigError(`\`${location}\`: ${e.message}`);
  }
}
