/**
 * The compiler outside a server: a CompileContext for a branch or tag with no repository
 * (local includes fail as GitLab says), predefined variables for a project `baton/demo`.
 */
import { compileCiConfig } from '../../src/core/ci-config';
import type { CompileContext, CompileResult, PipelinePlan, PipelineSource, RepositoryFiles } from '../../src/core/ci-config/types';
import { prePipelineVariables } from '../../src/core/predefined-variables';

export const SHA = 'a9738e26eea81eb998fab5ed3f808875eaec5196';

export interface ContextOptions {
  ref?: string;
  tag?: boolean;
  source?: PipelineSource;
  variables?: Record<string, string>;
  /** files of the repository at the sha (path → text) */
  files?: Record<string, string> | null;
  changedPaths?: string[] | null;
  changedSince?: Record<string, string[]>;
  projects?: Record<string, Record<string, string>>;
  remote?: Record<string, string>;
  inputs?: Record<string, unknown>;
}

export function repo(files: Record<string, string>): RepositoryFiles {
  return { read: async (p) => (Object.hasOwn(files, p) ? files[p] : null), list: async () => Object.keys(files).sort() };
}

export function contextOf(o: ContextOptions = {}): CompileContext {
  const ref = o.ref ?? 'main';
  const tag = o.tag ?? false;
  const source = o.source ?? 'push';
  const predefined = prePipelineVariables({
    server: { url: 'http://baton.test', version: '0.1.0', revision: 'abc' },
    project: { id: 1, name: 'Demo', namespace: 'baton', path: 'demo', defaultBranch: 'main' }, ref, tag, sha: SHA, source,
    commit: { message: 'Fix things\n\nBody\n', authorName: 'Ann', authorEmail: 'ann@example.com', timestamp: '2024-01-02T03:04:05+00:00' },
  });
  return {
    ref: { name: ref, tag }, sha: SHA, beforeSha: '0'.repeat(40), source,
    variables: { ...predefined, ...(o.variables ?? {}) },
    predefinedVariableNames: Object.keys(predefined).filter((k) => !(o.variables && k in o.variables)),
    files: o.files === null || o.files === undefined ? null : repo(o.files),
    changedPaths: o.changedPaths ?? null,
    changedSince: async (r) => o.changedSince?.[r] ?? null,
    includes: {
      project: async (path, r) => {
        const p = o.projects?.[path];
        if (!p) return { error: `Project \`${path}\` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined.` };
        return { files: repo(p), sha: 'b'.repeat(40), ref: r ?? 'main' };
      },
      remote: async (url) => (o.remote && Object.hasOwn(o.remote, url) ? { body: o.remote[url] } : { error: `Remote file \`${url}\` could not be fetched because of HTTP code \`404\` error!` }),
    },
    ...(o.inputs ? { inputs: o.inputs } : {}),
  };
}

export function compile(yaml: string, o: ContextOptions = {}): Promise<CompileResult> {
  return compileCiConfig(yaml, contextOf(o));
}

/** The plan, or an Error listing the compiler's messages. */
export async function planFor(yaml: string, o: ContextOptions = {}): Promise<PipelinePlan> {
  const r = await compile(yaml, o);
  if (r.plan === null) throw new Error(r.errors.join('; '));
  return r.plan;
}
