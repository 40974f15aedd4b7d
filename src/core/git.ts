/**
 * Reads what a new pipeline runs from the project's repository with the system `git`: the
 * commit (a given sha, or the tip of the ref), whether the ref is a tag, and the
 * `.gitlab-ci.yml` of that commit.
 *
 * Each project has a bare cache, `<data dir>/git-cache/<project id>.git`, fetched on every
 * request so branch tips are current (`+refs/heads/*` and `+refs/tags/*`, pruned). Fetches
 * of one project are serialized in this process; git's own ref locks cover the rest.
 *
 * git runs without a shell, from argument arrays; refs are checked against git's ref-name
 * rules (and may not start with `-`), shas must be hex, `--` ends the options before the
 * URL, only the usual transports are allowed (no `ext::`/`fd::` command transports), and
 * git never prompts (a private repository without configured credentials fails at once).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from './errors';
import { hostReach } from './outbound';

export const CI_FILE = '.gitlab-ci.yml';
/** GitLab refuses larger configuration files too. */
const MAX_CI_FILE_BYTES = 4 * 1024 * 1024;
const HEX_SHA = /^[0-9a-f]{4,40}$/i;

/**
 * Why no pipeline could be created from this source: each line goes to the client as
 * GitLab's `{"message": {"base": [...]}}` (the REST adapter renders it).
 */
export class CiSourceError extends DomainError {
  constructor(readonly base: string[]) {
    super('bad_request', base.join('; '));
  }
}

export interface Revision { sha: string; tag: boolean }

/** How a fetch may reach the network: `allowLocal` lets it reach non-public addresses (default: refused). */
export interface RemoteRule { allowLocal?: boolean }

/**
 * The host git would connect to for a repo_url: `scheme://[user@]host[:port]/…` (http,
 * https, git, ssh) or scp-like `[user@]host:path`; null for what git reads from the server's
 * disk (a path, `file://`) and for `<transport>::…` forms (refused by ALLOWED_TRANSPORTS).
 */
export function remoteHost(url: string): string | null {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (scheme) {
    if (scheme[1].toLowerCase() === 'file') return null;
    try { return new URL(url).hostname || null; } catch { return null; }
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)) return null;
  const scp = /^(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+):/.exec(url);
  if (scp && !/^[A-Za-z]:[\\/]/.test(url)) return scp[1];
  return null;
}

/** Why a repo_url on the local network is refused (at create/edit and before a fetch). */
export const REPO_LOCAL_NETWORK = 'requests to the local network are not allowed (an administrator may set such a repo_url, or start Baton with --allow-local-requests)';

/** A repo_url whose host is on the local network, refused as a pipeline source says it. */
export async function checkRemote(repoUrl: string): Promise<void> {
  const host = remoteHost(repoUrl);
  if (host === null) return;
  // An unresolvable name is git's to report; a resolvable one must be public.
  if ((await hostReach(host)) === 'local') {
    throw new CiSourceError([`Repository not reachable: ${redact(repoUrl)} is on the local network: ${REPO_LOCAL_NETWORK}`]);
  }
}

export interface CiSource extends Revision { content: string }

/** git's ref-name rules (git-check-ref-format) for a short branch or tag name, plus "no leading -". */
export function isValidRefName(ref: string): boolean {
  if (ref.length === 0 || ref.length > 255 || ref.startsWith('-') || ref.startsWith('/') || ref.endsWith('/')) return false;
  if (ref === '@' || ref.includes('..') || ref.includes('@{') || ref.includes('//') || ref.endsWith('.')) return false;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return false;
  return ref.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'));
}

interface Run { code: number; stdout: Uint8Array; stderr: string }

export class GitReader {
  private queues = new Map<number, Promise<unknown>>();
  /** file lists of recent commits (a tree never changes) */
  private trees = new Map<string, string[]>();

  constructor(private root: string, private opts: { fetchTimeoutMs?: number } = {}) {}

  cachePath(projectId: number): string {
    return join(this.root, `${Math.trunc(projectId)}.git`);
  }

  /** Drops a project's cache (the project is gone). */
  forget(projectId: number) {
    rmSync(this.cachePath(projectId), { recursive: true, force: true });
  }

  /**
   * The commit and tag-ness of `ref` (at `sha` when given), with its `.gitlab-ci.yml`.
   * `remote.allowLocal`: the fetch may reach loopback, link-local and private addresses
   * (--allow-local-requests, or a repo_url an administrator set); else it is refused there.
   */
  async ciSource(projectId: number, repoUrl: string, want: { ref: string; sha?: string }, remote: RemoteRule = {}): Promise<CiSource> {
    return this.serialized(projectId, async () => {
      const rev = await this.revision(projectId, repoUrl, want, remote);
      return { ...rev, content: await this.ciFile(this.cachePath(projectId), rev.sha) };
    });
  }

  /** The commit and tag-ness of `ref` (at `sha` when given), without reading the file (`remote` as for ciSource). */
  async resolve(projectId: number, repoUrl: string, want: { ref: string; sha?: string }, remote: RemoteRule = {}): Promise<Revision> {
    return this.serialized(projectId, () => this.revision(projectId, repoUrl, want, remote));
  }

  private async revision(projectId: number, repoUrl: string, want: { ref: string; sha?: string }, remote: RemoteRule): Promise<Revision> {
    if (!isValidRefName(want.ref)) throw new CiSourceError([`ref: "${want.ref}" is not a valid branch or tag name`]);
    if (want.sha !== undefined && !HEX_SHA.test(want.sha)) throw new CiSourceError([`sha: "${want.sha}" is not a commit sha`]);
    if (repoUrl.startsWith('-')) throw new CiSourceError(['repo_url: may not start with "-"']);
    const dir = this.cachePath(projectId);
    await this.ensureCache(dir);
    await this.fetch(dir, repoUrl, remote.allowLocal ?? false);
    const branchTip = await this.revParse(dir, `refs/heads/${want.ref}^{commit}`);
    const tagTip = branchTip ? null : await this.revParse(dir, `refs/tags/${want.ref}^{commit}`);
    if (!branchTip && !tagTip) {
      throw new CiSourceError([`Reference not found: "${want.ref}" is neither a branch nor a tag of ${redact(repoUrl)}`]);
    }
    let sha = (branchTip ?? tagTip)!;
    if (want.sha !== undefined) {
      const found = await this.revParse(dir, `${want.sha.toLowerCase()}^{commit}`);
      if (!found) throw new CiSourceError([`sha: commit ${want.sha} not found in ${redact(repoUrl)}`]);
      sha = found;
    }
    return { sha, tag: !branchTip };
  }

  /** The first line of a commit's message (for pipeline lists), at most 255 characters. */
  // ---- reading a fetched commit (call ciSource/resolve first: they fetch) ----

  /** The text of `path` at `sha`, or null when there is no such file (or it is not a file). */
  async readFile(projectId: number, sha: string, path: string): Promise<string | null> {
    if (!HEX_SHA.test(sha) || !safePath(path)) return null;
    const dir = this.cachePath(projectId);
    const spec = `${sha}:${path}`;
    const type = await this.git([`--git-dir=${dir}`, 'cat-file', '-t', spec]);
    if (type.code !== 0 || new TextDecoder().decode(type.stdout).trim() !== 'blob') return null;
    const size = await this.git([`--git-dir=${dir}`, 'cat-file', '-s', spec]);
    if (Number(new TextDecoder().decode(size.stdout).trim()) > MAX_CI_FILE_BYTES) {
      throw new CiSourceError([`${path} in commit ${sha} is larger than ${MAX_CI_FILE_BYTES / 1024 / 1024} MiB`]);
    }
    const blob = await this.git([`--git-dir=${dir}`, 'cat-file', 'blob', spec]);
    return blob.code === 0 ? new TextDecoder().decode(blob.stdout) : null;
  }

  /** Every file path of the commit (`git ls-tree -r --name-only`). */
  async listFiles(projectId: number, sha: string): Promise<string[]> {
    if (!HEX_SHA.test(sha)) return [];
    const key = `${projectId}:${sha}`;
    const hit = this.trees.get(key);
    if (hit) return hit;
    const r = await this.git([`--git-dir=${this.cachePath(projectId)}`, 'ls-tree', '-r', '-z', '--name-only', '--full-tree', sha]);
    const files = r.code === 0 ? new TextDecoder().decode(r.stdout).split('\0').filter(Boolean) : [];
    if (this.trees.size >= 32) this.trees.delete(this.trees.keys().next().value!);
    this.trees.set(key, files);
    return files;
  }

  /** Paths changed from `before` to `sha`, or null when `before` is not a known commit. */
  async changedPaths(projectId: number, before: string, sha: string): Promise<string[] | null> {
    if (!HEX_SHA.test(before) || !HEX_SHA.test(sha) || /^0+$/.test(before)) return null;
    const dir = this.cachePath(projectId);
    if (!(await this.revParse(dir, `${before}^{commit}`))) return null;
    const r = await this.git([`--git-dir=${dir}`, 'diff', '--name-only', '-z', '--no-renames', before, sha, '--']);
    return r.code === 0 ? new TextDecoder().decode(r.stdout).split('\0').filter(Boolean) : null;
  }

  /** `rules:changes:compare_to`: paths changed from merge-base(ref, sha) to sha; null when ref is no commit. */
  async changedSince(projectId: number, ref: string, sha: string): Promise<string[] | null> {
    const dir = this.cachePath(projectId);
    if (ref.startsWith('-') || !HEX_SHA.test(sha)) return null;
    // GitLab's project.commit(compare_to): a branch or tag name first, then any revision git
    // resolves (refs/heads/main, main~1, a sha); nothing with blanks or control characters
    const target = (await this.revParse(dir, `refs/heads/${ref}^{commit}`)) ?? (await this.revParse(dir, `refs/tags/${ref}^{commit}`))
      ?? (/^[^\s\0-\x1f\x7f]+$/.test(ref) ? await this.revParse(dir, `${ref}^{commit}`) : null);
    if (!target) return null;
    const base = await this.git([`--git-dir=${dir}`, 'merge-base', target, sha]);
    const mergeBase = new TextDecoder().decode(base.stdout).trim();
    if (base.code !== 0 || !/^[0-9a-f]{40}$/.test(mergeBase)) return null;
    const r = await this.git([`--git-dir=${dir}`, 'diff', '--name-only', '-z', '--no-renames', mergeBase, sha, '--']);
    return r.code === 0 ? new TextDecoder().decode(r.stdout).split('\0').filter(Boolean) : null;
  }

  /** Message, author and committer date of a commit. */
  async commit(projectId: number, sha: string): Promise<{ message: string; authorName: string; authorEmail: string; timestamp: string } | null> {
    if (!HEX_SHA.test(sha)) return null;
    const r = await this.git([`--git-dir=${this.cachePath(projectId)}`, 'show', '-s', '--format=%an%x00%ae%x00%cI%x00%B', sha]);
    if (r.code !== 0) return null;
    const [authorName, authorEmail, timestamp, ...rest] = new TextDecoder().decode(r.stdout).split('\0');
    return { authorName, authorEmail, timestamp, message: rest.join('\0').replace(/\n$/, '') };
  }

  /**
   * A tag's message (GitLab's CI_COMMIT_TAG_MESSAGE): an annotated tag's text without its
   * signature, "" for a lightweight tag; null when the tag is not in the repository.
   */
  async tagMessage(projectId: number, tag: string): Promise<string | null> {
    if (tag.startsWith('-') || !isValidRefName(tag)) return null;
    const r = await this.git([`--git-dir=${this.cachePath(projectId)}`, 'for-each-ref', '--format=%(objecttype)%00%(contents:subject)%00%(contents:body)', `refs/tags/${tag}`]);
    const out = new TextDecoder().decode(r.stdout);
    if (r.code !== 0 || out === '') return null;
    const [type, subject = '', body = ''] = out.replace(/\n$/, '').split('\0');
    if (type !== 'tag') return '';
    return body.trim() === '' ? subject : `${subject}\n\n${body.replace(/\n+$/, '')}`;
  }

  /** Has this project's repository ever been fetched here? (No process is started to tell.) */
  hasCache(projectId: number): boolean {
    return existsSync(join(this.cachePath(projectId), 'HEAD'));
  }

  private async ensureCache(dir: string) {
    if (existsSync(join(dir, 'HEAD'))) return;
    mkdirSync(this.root, { recursive: true });
    const r = await this.git(['init', '--quiet', '--bare', '--', dir]);
    if (r.code !== 0) throw new DomainError('unavailable', `git init of the repository cache failed: ${lastLine(r.stderr)}`);
  }

  private async fetch(dir: string, repoUrl: string, allowLocal: boolean) {
    // The outbound rule (core/outbound.ts) before every fetch: the name may point elsewhere
    // since repo_url was saved. Redirects are not followed then (a public URL could send git
    // to a private one).
    if (!allowLocal) await checkRemote(repoUrl);
    const guard = allowLocal ? [] : ['-c', 'http.followRedirects=false'];
    const r = await this.git([...guard, `--git-dir=${dir}`, 'fetch', '--prune', '--quiet', '--no-recurse-submodules', '--',
      repoUrl, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], this.opts.fetchTimeoutMs ?? 120_000);
    if (r.code !== 0) {
      throw new CiSourceError([`Repository not reachable: cannot fetch ${redact(repoUrl)}: ${redact(lastLine(r.stderr)) || `git exited with ${r.code}`}`]);
    }
  }

  /** The full sha `spec` names, or null. */
  private async revParse(dir: string, spec: string): Promise<string | null> {
    const r = await this.git([`--git-dir=${dir}`, 'rev-parse', '--verify', '--quiet', spec]);
    const out = new TextDecoder().decode(r.stdout).trim();
    return r.code === 0 && /^[0-9a-f]{40}$/.test(out) ? out : null;
  }

  private async ciFile(dir: string, sha: string): Promise<string> {
    const spec = `${sha}:${CI_FILE}`;
    const type = await this.git([`--git-dir=${dir}`, 'cat-file', '-t', spec]);
    if (type.code !== 0 || new TextDecoder().decode(type.stdout).trim() !== 'blob') {
      throw new CiSourceError([`Missing CI config file: there is no ${CI_FILE} in commit ${sha}`]);
    }
    const size = await this.git([`--git-dir=${dir}`, 'cat-file', '-s', spec]);
    if (Number(new TextDecoder().decode(size.stdout).trim()) > MAX_CI_FILE_BYTES) {
      throw new CiSourceError([`${CI_FILE} in commit ${sha} is larger than ${MAX_CI_FILE_BYTES / 1024 / 1024} MiB`]);
    }
    const blob = await this.git([`--git-dir=${dir}`, 'show', spec]);
    if (blob.code !== 0) throw new CiSourceError([`Missing CI config file: ${lastLine(blob.stderr)}`]);
    return new TextDecoder().decode(blob.stdout);
  }

  private async git(args: string[], timeoutMs = 30_000): Promise<Run> {
    let proc;
    try {
      proc = Bun.spawn(['git', ...ALLOWED_TRANSPORTS, ...args], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: gitEnv() });
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new CiSourceError([code === 'ENOENT'
        ? 'git is not installed on the Baton server (no git binary in PATH): pass the configuration as `content`'
        : `git could not be started: ${(e as Error).message}`]);
    }
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    try {
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).bytes(), new Response(proc.stderr).text(), proc.exited,
      ]);
      if (proc.signalCode === 'SIGKILL') return { code: code || 1, stdout, stderr: `git timed out after ${timeoutMs / 1000} s` };
      return { code, stdout, stderr };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs `fn` after every earlier call for the same project has finished. */
  private serialized<T>(projectId: number, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(projectId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.queues.set(projectId, settled);
    void settled.then(() => { if (this.queues.get(projectId) === settled) this.queues.delete(projectId); });
    return next;
  }
}

/** `git --version` as both probes below run it: no stdin, stderr dropped, git's usual environment. */
const VERSION_CMD = ['git', '--version'];
const versionOptions = () => ({ stdin: 'ignore', stdout: 'pipe', stderr: 'ignore', env: gitEnv() }) as const;
const versionLine = (code: number | null, out: string) => (code === 0 ? out.trim() : null);

/**
 * The version line of the system git (`git version 2.39.5`), or null when there is none in
 * PATH, for callers that cannot wait (the tests' requireGit). Start-up uses gitVersionAsync.
 */
export function gitVersion(): string | null {
  try {
    const r = Bun.spawnSync(VERSION_CMD, versionOptions());
    return versionLine(r.exitCode, r.stdout.toString());
  } catch {
    return null;
  }
}

/**
 * gitVersion() without blocking: start-up begins it first and reads it after listening (so a
 * server without git says so before a pipeline needs it), and the ~5 ms of spawning git
 * overlap the migrations instead of delaying the first request.
 */
export async function gitVersionAsync(): Promise<string | null> {
  try {
    const p = Bun.spawn(VERSION_CMD, versionOptions());
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    return versionLine(code, out);
  } catch {
    return null;
  }
}

/** What start-up prints when gitVersion() is null. */
export const GIT_MISSING_WARNING = 'git is not installed (no git binary in PATH): pipelines can only be created with the configuration given as `content`; install git to read .gitlab-ci.yml from repositories';

/** Only the transports `git clone` users expect; command transports (ext::, fd::) stay off. */
const ALLOWED_TRANSPORTS = ['-c', 'protocol.allow=never', ...['file', 'git', 'http', 'https', 'ssh'].flatMap((p) => ['-c', `protocol.${p}.allow=always`])];

/** Never prompt (there is no one to answer); ignore a GIT_DIR the server may have inherited. */
function gitEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|NAMESPACE)$/.test(k)) env[k] = v;
  env.GIT_TERMINAL_PROMPT = '0';
  env.LC_ALL = 'C';
  env.GIT_SSH_COMMAND ??= 'ssh -o BatchMode=yes';
  return env;
}

/** A repository-relative path git may be asked for (no option, no parent, no NUL). */
function safePath(path: string): boolean {
  return path.length > 0 && path.length < 4096 && !path.startsWith('-') && !path.startsWith('/') && !path.includes('\0')
    && !path.split('/').some((p) => p === '..' || p === '');
}

function lastLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.at(-1) ?? '';
}

/** URLs may carry credentials (`https://user:secret@host`); they never go into messages. */
function redact(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s]*@/g, '$1***@');
}
