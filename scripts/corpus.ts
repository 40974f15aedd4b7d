/**
 * Runs a collection of real-world `.gitlab-ci.yml` files through the compiler the way lint
 * and pipeline creation do, and sorts the outcomes. The collection lives OUTSIDE this
 * repository (others' files are never committed): a directory with one folder per project,
 * each holding the project's `.gitlab-ci.yml` and the files it includes locally, at the
 * paths the project has them.
 *
 *   bun run scripts/corpus.ts DIR [--only NAME] [--json OUT] [--verbose] [--stub]
 *
 * For each project: a static lint, then a dry-run plan for a push to the default branch
 * (`main`, or `master` when the file names master and not main), a push to another branch
 * (no merge request), and a tag. `include:local` reads the project's folder; `project`,
 * `remote`, `template` and `component` includes answer GitLab's error (they need something
 * outside the repository). Outcomes:
 *
 *   ok           lint valid, and every scenario planned or filtered out by workflow:rules
 *   external     the error names an include outside the repository (expected, not a bug)
 *   unsupported  Baton refused a keyword it does not support
 *   error        anything else (a Baton gap, or a file GitLab also refuses: look at it)
 *
 * With --stub, an `external` file is compiled again with its outside includes replaced by a
 * stub (see runStubbed), so the rest of the file is checked too.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDocument, isMap as isYamlMap, isSeq, isScalar } from 'yaml';
import { parseArgs } from 'node:util';
import { checkConfig, compileCiConfig, FILTERED_OUT } from '../src/core/ci-config';
import type { CompileContext, RepositoryFiles } from '../src/core/ci-config/types';
import { prePipelineVariables } from '../src/core/predefined-variables';

const SHA = 'a9738e26eea81eb998fab5ed3f808875eaec5196';

function walk(dir: string, root = dir, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, root, out);
    else out.push(relative(root, p));
  }
  return out;
}

function repositoryOf(dir: string): RepositoryFiles {
  const files = walk(dir).sort();
  const set = new Set(files);
  return {
    read: async (p) => (set.has(p.replace(/^\/+/, '')) ? readFileSync(join(dir, p.replace(/^\/+/, '')), 'utf8') : null),
    list: async () => files,
  };
}

function contextFor(dir: string, ref: string, tag: boolean, defaultBranch: string, files: RepositoryFiles = repositoryOf(dir)): CompileContext {
  const predefined = prePipelineVariables({
    server: { url: 'http://baton.test', version: '17.0.0', revision: 'corpus' },
    project: { id: 1, name: 'Corpus', namespace: 'corpus', path: 'project', defaultBranch }, ref, tag, sha: SHA, source: 'push',
    commit: { message: 'Update things\n', authorName: 'Ann', authorEmail: 'ann@example.com', timestamp: '2024-01-02T03:04:05+00:00' },
  });
  return {
    ref: { name: ref, tag }, sha: SHA, beforeSha: '0'.repeat(40), source: 'push',
    variables: predefined, predefinedVariableNames: Object.keys(predefined),
    files, changedPaths: null, changedSince: async () => null,
    includes: {
      project: async (path) => ({ error: `Project \`${path}\` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined.` }),
      remote: async (url) => ({ error: `Remote file \`${url}\` could not be fetched because of HTTP code \`404\` error!` }),
    },
  };
}

const EXTERNAL = [/^Template file `/, /^Project `.*` not found or access denied/, /^Remote file `.*` could not be fetched/, /include:template|`template`.*not available|GitLab's template/i, /component/i];
const UNSUPPORTED = /unsupported|not supported|Baton (does not|cannot)/i;

type Outcome = 'ok' | 'external' | 'unsupported' | 'error';
interface Row { name: string; outcome: Outcome; messages: string[]; ms: number; jobs: Record<string, number | string>; stub?: { messages: string[]; jobs: Record<string, number | string> } }

function classify(messages: string[]): Outcome {
  if (messages.length === 0) return 'ok';
  if (messages.some((m) => EXTERNAL.some((re) => re.test(m)))) return 'external';
  if (messages.every((m) => UNSUPPORTED.test(m))) return 'unsupported';
  return 'error';
}

/**
 * The second pass for files that include something outside their repository: those includes
 * are dropped and replaced by a local stub defining, as found necessary, the hidden jobs
 * named by `extends` and the jobs named by `needs`/`dependencies`. What errors remain come
 * from the file's own content.
 */
const STUB = '.corpus-stub.yml';

function stripExternal(text: string, addStub: boolean): string | null {
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: false });
  if (doc.errors.length || !isYamlMap(doc.contents)) return null;
  const inc = doc.contents.get('include', true) as unknown;
  if (inc === undefined) return addStub ? null : text;
  const isLocal = (item: unknown): boolean => {
    if (isScalar(item)) return typeof item.value === 'string' && !/^https?:\/\//.test(item.value);
    if (isYamlMap(item)) return item.has('local');
    return false;
  };
  const kept = isSeq(inc) ? inc.items.filter(isLocal) : isLocal(inc) ? [inc] : [];
  const total = isSeq(inc) ? inc.items.length : 1;
  if (kept.length === total && !addStub) return text;
  const items = kept.map((i) => (isScalar(i) ? i.value : (i as { toJSON(): unknown }).toJSON()));
  if (addStub) items.push({ local: STUB });
  (doc.contents as { set(k: unknown, v: unknown): void }).set('include', doc.createNode(items));
  return doc.toString({ lineWidth: 0 });
}

async function runStubbed(dir: string, text: string, defaultBranch: string): Promise<{ messages: string[]; jobs: Record<string, number | string> } | null> {
  const main = stripExternal(text, true);
  if (main === null || main === text) return null;
  const hidden = new Set<string>();
  const real = new Set<string>();
  const partial = new Set<string>();
  const refs = new Map<string, string[]>();
  const base = repositoryOf(dir);
  const stubText = () => [...hidden].map((h) => `${JSON.stringify(h)}:\n  script: [echo stub]\n`).join('')
    + [...real].map((j) => `${JSON.stringify(j)}:\n  stage: .pre\n  script: [echo stub]\n`).join('')
    + [...partial].map((j) => `${JSON.stringify(j)}:\n  script: [echo stub]\n`).join('')
    + [...refs.values()].map((path) => `${JSON.stringify(path[0])}: ${JSON.stringify(path.slice(1).reduceRight<unknown>((acc, k) => ({ [k]: acc }), ['echo stub']))}\n`).join('')
    + (hidden.size + real.size + partial.size + refs.size === 0 ? '.corpus-stub: {}\n' : '');
  const files: RepositoryFiles = {
    read: async (p) => {
      if (p.replace(/^\/+/, '') === STUB) return stubText();
      const t = await base.read(p);
      return t === null ? null : stripExternal(t, false) ?? t;
    },
    list: async () => [...(await base.list()), STUB],
  };
  let errors: string[] = [];
  for (let round = 0; round < 12; round++) {
    const lint = await checkConfig(main, contextFor(dir, defaultBranch, false, defaultBranch, files));
    errors = lint.errors;
    let grew = false;
    for (const e of errors) {
      const ext = /unknown keys in `extends` \((.*)\)$/.exec(e);
      if (ext) for (const n of ext[1].split(', ')) { if (!hidden.has(n)) { hidden.add(n); grew = true; } }
      const need = /job: (?:undefined need|undefined dependency): (.*)$/.exec(e);
      if (need && !real.has(need[1])) { real.add(need[1]); grew = true; }
      // a job the outside file defines and this one only adjusts
      const part = /^jobs (.*) config should implement the script:, run:, or trigger: keyword$/.exec(e);
      if (part && !partial.has(part[1])) { partial.add(part[1]); grew = true; }
      const ref = /^!reference (\[.*\]) could not be found$/.exec(e);
      if (ref && !refs.has(ref[1])) { refs.set(ref[1], JSON.parse(ref[1])); grew = true; }
    }
    if (!grew) break;
  }
  const jobs: Record<string, number | string> = {};
  const messages = errors.map((e) => `stubbed lint: ${e}`);
  if (errors.length === 0) {
    for (const [label, ref, tag] of [['default', defaultBranch, false], ['tag', 'v1.2.3', true]] as const) {
      const r = await compileCiConfig(main, contextFor(dir, ref, tag, defaultBranch, files));
      if (r.plan) jobs[label] = r.plan.jobs.length;
      else if (r.errors.length === 1 && (r.errors[0] === FILTERED_OUT || /^(Pipeline will not run|No stages \/ jobs)/.test(r.errors[0]))) jobs[label] = 'none';
      else messages.push(...r.errors.map((e) => `stubbed ${label}: ${e}`));
    }
  }
  return { messages, jobs };
}

async function runOne(dir: string, name: string): Promise<Row> {
  const text = readFileSync(join(dir, '.gitlab-ci.yml'), 'utf8');
  const defaultBranch = /\bmaster\b/.test(text) && !/\bmain\b/.test(text) ? 'master' : 'main';
  const started = performance.now();
  const messages: string[] = [];
  const jobs: Record<string, number | string> = {};
  const lint = await checkConfig(text, contextFor(dir, defaultBranch, false, defaultBranch));
  messages.push(...lint.errors.map((e) => `lint: ${e}`));
  if (lint.errors.length === 0) {
    for (const [label, ref, tag] of [['default', defaultBranch, false], ['branch', 'feature/corpus-run', false], ['tag', 'v1.2.3', true]] as const) {
      const r = await compileCiConfig(text, contextFor(dir, ref, tag, defaultBranch));
      if (r.plan) jobs[label] = r.plan.jobs.length;
      else if (r.errors.length === 1 && r.errors[0] === FILTERED_OUT) jobs[label] = 'filtered';
      else if (r.errors.length === 1 && /^(Pipeline will not run for the selected trigger\.|No stages \/ jobs for this pipeline\.)/.test(r.errors[0])) jobs[label] = 'no jobs';
      else messages.push(...r.errors.map((e) => `${label}: ${e}`));
    }
  }
  const ms = performance.now() - started;
  const outcome = classify(messages.map((m) => m.replace(/^\w+: /, '')));
  let stub: Row['stub'];
  if (outcome === 'external' && values.stub) stub = (await runStubbed(dir, text, defaultBranch)) ?? undefined;
  return { name, outcome, messages: [...new Set(messages)], ms, jobs, ...(stub ? { stub } : {}) };
}

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2), allowPositionals: true,
  options: { only: { type: 'string' }, json: { type: 'string' }, verbose: { type: 'boolean' }, stub: { type: 'boolean' }, plan: { type: 'string' } },
});
const root = positionals[0];
if (values.plan && root) {
  // --plan NAME[:REF[:tag]] prints one project's plan: each job's stage, when, needs and image
  const [name, ref = 'main', tag] = values.plan.split(':');
  const dir = join(root, name);
  const text = readFileSync(join(dir, '.gitlab-ci.yml'), 'utf8');
  const r = await compileCiConfig(text, contextFor(dir, ref, tag === 'tag', 'main'));
  if (!r.plan) console.log(r.errors);
  else for (const j of r.plan.jobs) {
    console.log(`${j.stage.padEnd(14)} ${j.name.padEnd(40)} ${j.when}${j.allowFailure ? ' (allow failure)' : ''}${j.needs ? ` needs=${JSON.stringify(j.needs.map((n) => n.job))}` : ''} ${j.image?.name ?? ''}${j.environment ? ` env=${j.environment.name}` : ''}`);
  }
  process.exit(0);
}
if (!root) { console.error('usage: bun run scripts/corpus.ts DIR [--only NAME] [--json OUT] [--verbose]'); process.exit(2); }
const names = readdirSync(root).filter((n) => statSync(join(root, n)).isDirectory() && (!values.only || n.includes(values.only))).sort();
const rows: Row[] = [];
for (const name of names) {
  try {
    rows.push(await runOne(join(root, name), name));
  } catch (e) {
    rows.push({ name, outcome: 'error', messages: [`CRASH: ${(e as Error).stack ?? e}`], ms: 0, jobs: {} });
  }
}
const counts: Record<string, number> = {};
for (const r of rows) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
for (const r of rows) {
  if (r.outcome !== 'ok' || values.verbose) {
    console.log(`${r.outcome.padEnd(11)} ${r.name}  ${JSON.stringify(r.jobs)}`);
    for (const m of r.messages) console.log(`    ${m}`);
    if (r.stub) console.log(`    stubbed: ${r.stub.messages.length ? 'ERRORS' : 'ok'} ${JSON.stringify(r.stub.jobs)}${r.stub.messages.map((m) => `\n      ${m}`).join('')}`);
  }
}
const slowest = [...rows].sort((a, b) => b.ms - a.ms).slice(0, 3);
console.log(`\n${rows.length} files: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`slowest: ${slowest.map((r) => `${r.name} ${r.ms.toFixed(0)} ms`).join(', ')}`);
if (values.json) writeFileSync(values.json, JSON.stringify({ counts, rows }, null, 1));
