/**
 * A pipeline's state as a commit status on its forge (forges-and-rest.md §B):
 *   Gitea/Forgejo, GitHub  POST {api}/repos/{owner}/{repo}/statuses/{sha}   {state, target_url, description, context}
 *   GitLab                 POST {api}/projects/{id or path}/statuses/{sha}   {state, ref, name, target_url, description}
 * with the pipeline status mapped per forge (§B.5) and one stable context, `baton/pipeline`
 * (`baton/pipeline/<name>` for a named pipeline), so every update replaces the last one.
 */
import type { Project } from '../../db/schema';

export const FORGE_KINDS = ['gitea', 'forgejo', 'github', 'gitlab'] as const;
export type ForgeKind = (typeof FORGE_KINDS)[number];

/** What the outbox row of a commit status carries (the latest state only: coalesced). */
export interface StatusPayload {
  pipelineId: number;
  status: string;
  sha: string;
  ref: string;
  /** `workflow:name`, when the pipeline has one */
  name?: string | null;
}

const PENDING = new Set(['created', 'waiting_for_resource', 'preparing', 'pending', 'manual', 'scheduled']);

/** GitLab pipeline status → the state each forge knows (§B.5). */
export function forgeState(kind: ForgeKind, status: string): string {
  if (kind === 'gitlab') {
    if (status === 'running' || status === 'canceling') return 'running';
    if (['success', 'failed', 'canceled', 'skipped'].includes(status)) return status;
    return 'pending';
  }
  if (status === 'success' || status === 'skipped') return 'success';
  if (status === 'failed') return 'failure';
  // Gitea Actions shows a canceled run as a failure; GitHub has `error` for it.
  if (status === 'canceled') return kind === 'github' ? 'error' : 'failure';
  return 'pending';
}

/** GitLab's wording for the detailed status ("passed", not "success"). */
const DETAILED: Record<string, string> = { success: 'passed', failed: 'failed', canceled: 'canceled', skipped: 'skipped', running: 'running', pending: 'pending', created: 'created', manual: 'manual action' };

export function statusContext(name?: string | null): string {
  return name ? `baton/pipeline/${name}` : 'baton/pipeline';
}

export function statusDescription(status: string): string {
  return `Pipeline ${DETAILED[status] ?? (PENDING.has(status) ? 'pending' : status)} on Baton`;
}

/** The URL and request of one status post. `token` is the decrypted forge token. */
export function statusRequest(project: Pick<Project, 'forgeKind' | 'forgeApiUrl' | 'forgeRepo'>, token: string | null, p: StatusPayload, targetUrl: string): { url: string; init: RequestInit } {
  const kind = project.forgeKind as ForgeKind;
  const api = (project.forgeApiUrl ?? '').replace(/\/+$/, '');
  const repo = project.forgeRepo ?? '';
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'Baton' };
  const context = statusContext(p.name);
  const description = statusDescription(p.status);
  if (kind === 'gitlab') {
    if (token) headers['PRIVATE-TOKEN'] = token;
    return {
      url: `${api}/projects/${encodeURIComponent(repo)}/statuses/${p.sha}`,
      init: { method: 'POST', headers, body: JSON.stringify({ state: forgeState(kind, p.status), ref: p.ref, name: context, target_url: targetUrl, description: description.slice(0, 255) }) },
    };
  }
  const [owner, name] = repo.split('/');
  if (kind === 'github') {
    if (token) headers.authorization = `Bearer ${token}`;
    headers.accept = 'application/vnd.github+json';
    headers['x-github-api-version'] = '2022-11-28';
  } else if (token) {
    // Gitea only knows the lower-case scheme word
    headers.authorization = `token ${token}`;
  }
  return {
    url: `${api}/repos/${encodeURIComponent(owner ?? '')}/${encodeURIComponent(name ?? '')}/statuses/${p.sha}`,
    init: { method: 'POST', headers, body: JSON.stringify({ state: forgeState(kind, p.status), target_url: targetUrl, description: description.slice(0, kind === 'github' ? 140 : 255), context }) },
  };
}
