/**
 * Webhook deliveries as each forge sends them — headers and bodies written from the shapes
 * documented in the spec (forges-and-rest.md §A.1–A.6), not copied from any forge:
 *   Gitea    X-Gitea-*, X-Gogs-*, X-GitHub-* compatibility headers; hex HMAC of the JSON payload
 *   Forgejo  the same plus X-Forgejo-*
 *   GitHub   X-GitHub-Event/-Delivery, X-Hub-Signature-256 = sha256 HMAC of the raw body
 *   GitLab   X-Gitlab-Event, X-Gitlab-Token (the secret in clear), Idempotency-Key, X-Gitlab-Event-UUID
 * `signature: 'good' | 'bad' | 'none'` says how the delivery is signed; `form: true` sends
 * Gitea/GitHub's form encoding (`payload=<json>`).
 */
import { createHmac, randomUUID } from 'node:crypto';

export type Forge = 'gitea' | 'forgejo' | 'github' | 'gitlab';
export const FORGES: Forge[] = ['gitea', 'forgejo', 'github', 'gitlab'];
export const ZERO = '0'.repeat(40);

export interface PushSpec {
  ref: string;
  before: string;
  after: string;
  /** the commit to build (annotated tag: dereferenced); defaults to after */
  commit?: string;
  message?: string;
  author?: { name: string; email: string };
  timestamp?: string;
}

export interface Delivery { headers: Record<string, string>; body: string }
export type Signature = 'good' | 'bad' | 'none';

const hmac = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest('hex');
const sha1 = (secret: string, data: string) => createHmac('sha1', secret).update(data).digest('hex');

function giteaRepo(forge: Forge) {
  const owner = { id: 1, login: 'octo', login_name: '', full_name: 'Octo Cat', email: 'octo@example.com', username: 'octo' };
  return { id: 7, owner, name: 'app', full_name: 'octo/app', html_url: `https://${forge}.example.com/octo/app`, clone_url: `https://${forge}.example.com/octo/app.git`, ssh_url: `git@${forge}.example.com:octo/app.git`, default_branch: 'main', private: false };
}

function commitBody(forge: Forge, s: PushSpec) {
  const id = s.commit ?? s.after;
  const author = s.author ?? { name: 'Ada Lovelace', email: 'ada@example.com' };
  const message = s.message ?? 'fix the build\n';
  const timestamp = s.timestamp ?? '2026-01-01T10:00:00+01:00';
  if (forge === 'gitlab') return { id, message, title: message.split('\n')[0], timestamp, url: `https://gitlab.example.com/grp/app/-/commit/${id}`, author, added: [], modified: ['README.md'], removed: [] };
  if (forge === 'github') return { id, tree_id: 'f'.repeat(40), distinct: true, message, timestamp, url: `https://github.com/octo/app/commit/${id}`, author: { ...author, username: 'ada' }, committer: { ...author, username: 'ada' }, added: [], removed: [], modified: ['README.md'] };
  return { id, message, url: `https://${forge}.example.com/octo/app/commit/${id}`, author: { ...author, username: 'ada' }, committer: { ...author, username: 'ada' }, verification: null, timestamp, added: [], removed: [], modified: ['README.md'] };
}

/** The JSON a forge sends for a push (deletions included, each forge its own way). */
export function pushPayload(forge: Forge, s: PushSpec): Record<string, unknown> {
  const deleted = /^0+$/.test(s.after);
  const tag = s.ref.startsWith('refs/tags/');
  const head = deleted ? null : commitBody(forge, s);
  if (forge === 'gitlab') {
    return {
      object_kind: tag ? 'tag_push' : 'push', event_name: tag ? 'tag_push' : 'push', before: s.before, after: s.after, ref: s.ref, ref_protected: false,
      checkout_sha: deleted ? null : (s.commit ?? s.after), message: tag ? 'release' : null, user_id: 4, user_name: 'John Smith', user_username: 'jsmith', user_email: '[REDACTED]', user_avatar: null,
      project_id: 15, project: { id: 15, name: 'app', description: '', web_url: 'https://gitlab.example.com/grp/app', avatar_url: null, git_ssh_url: 'git@gitlab.example.com:grp/app.git', git_http_url: 'https://gitlab.example.com/grp/app.git', namespace: 'grp', visibility_level: 0, path_with_namespace: 'grp/app', default_branch: 'main', ci_config_path: '' },
      commits: head ? [head] : [], total_commits_count: head ? 1 : 0, push_options: {},
      repository: { name: 'app', url: 'git@gitlab.example.com:grp/app.git', description: '', homepage: 'https://gitlab.example.com/grp/app', git_http_url: 'https://gitlab.example.com/grp/app.git', git_ssh_url: 'git@gitlab.example.com:grp/app.git', visibility_level: 0 },
    };
  }
  if (forge === 'github') {
    return {
      ref: s.ref, before: s.before, after: s.after, created: /^0+$/.test(s.before), deleted, forced: false, base_ref: null,
      compare: `https://github.com/octo/app/compare/${s.before.slice(0, 12)}...${s.after.slice(0, 12)}`,
      commits: head && !tag ? [head] : [], head_commit: head,
      // GitHub push payloads carry these two as Unix integers
      repository: { id: 7, name: 'app', full_name: 'octo/app', private: false, owner: { login: 'octo', id: 1 }, html_url: 'https://github.com/octo/app', clone_url: 'https://github.com/octo/app.git', default_branch: 'main', created_at: 1_700_000_000, pushed_at: 1_767_261_600 },
      pusher: { name: 'ada', email: 'ada@example.com' }, sender: { login: 'ada', id: 99, type: 'User' },
    };
  }
  const repo = giteaRepo(forge);
  return {
    ref: s.ref, before: s.before, after: s.after, compare_url: `${repo.html_url}/compare/${s.before}...${s.after}`,
    commits: head && !tag ? [head] : [], total_commits: head && !tag ? 1 : 0, head_commit: head,
    repository: repo, pusher: repo.owner, sender: repo.owner,
  };
}

interface Options { signature?: Signature; form?: boolean; deliveryId?: string; event?: string }

/** Headers and body of one delivery of `payload` as `forge` sends an `event`. */
export function deliver(forge: Forge, secret: string, payload: unknown, opts: Options = {}): Delivery {
  const sig = opts.signature ?? 'good';
  const json = JSON.stringify(payload);
  const key = sig === 'bad' ? `${secret}-not` : secret;
  const id = opts.deliveryId ?? randomUUID();
  if (forge === 'gitlab') {
    const event = opts.event ?? ((payload as { object_kind?: string }).object_kind === 'tag_push' ? 'Tag Push Hook' : 'Push Hook');
    return {
      headers: {
        'content-type': 'application/json', 'user-agent': 'GitLab/17.5.0', 'X-Gitlab-Event': event, 'X-Gitlab-Instance': 'https://gitlab.example.com',
        'X-Gitlab-Webhook-UUID': randomUUID(), 'X-Gitlab-Event-UUID': randomUUID(), 'Idempotency-Key': id,
        ...(sig === 'none' ? {} : { 'X-Gitlab-Token': key }),
      },
      body: json,
    };
  }
  const event = opts.event ?? 'push';
  if (forge === 'github') {
    const body = opts.form ? `payload=${encodeURIComponent(json)}` : json;
    return {
      headers: {
        'content-type': opts.form ? 'application/x-www-form-urlencoded' : 'application/json', 'user-agent': 'GitHub-Hookshot/6d8f2b1',
        'X-GitHub-Event': event, 'X-GitHub-Delivery': id, 'X-GitHub-Hook-ID': '4711',
        'X-GitHub-Hook-Installation-Target-Type': 'repository', 'X-GitHub-Hook-Installation-Target-ID': '7',
        // GitHub signs the raw body; with no secret configured it sends no signature headers
        ...(sig === 'none' ? {} : { 'X-Hub-Signature-256': `sha256=${hmac(key, body)}`, 'X-Hub-Signature': `sha1=${sha1(key, body)}` }),
      },
      body,
    };
  }
  // Gitea/Forgejo sign the JSON payload (also when it travels form-encoded); no secret = EMPTY signature headers
  const hex = sig === 'none' ? '' : hmac(key, json);
  const headers: Record<string, string> = {
    'content-type': opts.form ? 'application/x-www-form-urlencoded' : 'application/json',
    'X-Gitea-Event': event, 'X-Gitea-Event-Type': event, 'X-Gitea-Delivery': id, 'X-Gitea-Signature': hex,
    'X-Gogs-Event': event, 'X-Gogs-Event-Type': event, 'X-Gogs-Delivery': id, 'X-Gogs-Signature': hex,
    'X-GitHub-Event': event, 'X-GitHub-Event-Type': event, 'X-GitHub-Delivery': id,
    'X-Hub-Signature': `sha1=${sig === 'none' ? '' : sha1(key, json)}`, 'X-Hub-Signature-256': `sha256=${hex}`,
  };
  if (forge === 'forgejo') Object.assign(headers, { 'X-Forgejo-Event': event, 'X-Forgejo-Event-Type': event, 'X-Forgejo-Delivery': id, 'X-Forgejo-Signature': hex });
  return { headers, body: opts.form ? `payload=${encodeURIComponent(json)}` : json };
}

/** Gitea/Forgejo's `delete` event (they send no push for a deleted branch); short ref, as Gitea does. */
export function deleteEvent(forge: Forge, branch: string): Record<string, unknown> {
  const repo = giteaRepo(forge);
  return { ref: forge === 'forgejo' ? `refs/heads/${branch}` : branch, ref_type: 'branch', pusher_type: 'user', repository: repo, sender: repo.owner };
}

/** GitHub's ping, sent when the hook is created. */
export function pingPayload(): Record<string, unknown> {
  return { zen: 'Keep it logically awesome.', hook_id: 4711, hook: { type: 'Repository', id: 4711, name: 'web', active: true, events: ['push'], config: { content_type: 'json', url: 'https://baton.example.com/api/v4/projects/1/webhook', insecure_ssl: '0' } }, repository: { id: 7, full_name: 'octo/app' }, sender: { login: 'octo', id: 1 } };
}
