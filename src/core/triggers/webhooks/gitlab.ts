/**
 * GitLab (forges-and-rest.md §A): `X-Gitlab-Event: Push Hook | Tag Push Hook` (or
 * `System Hook` with a push body), the secret itself in `X-Gitlab-Token`, and the delivery
 * id in `Idempotency-Key` (17.4+, kept across retries). `X-Gitlab-Event-UUID` is shared
 * by every hook one request fires, so without Idempotency-Key it is combined with the ref
 * and the two tips. The commit to build is `checkout_sha` (an annotated tag dereferenced;
 * null on deletion).
 *
 * `baton hook post-receive` sends the same body with `X-Baton-Event: push` and the
 * project's webhook secret in `X-Baton-Token` (source `git`).
 */
import { badRequest } from '../../errors';
import { isZeroSha, splitRef, type Normalised, type PushSource } from '../push-event';
import { commitInfo, fullRef, header, optArr, optNum, optStr, sha, tokenVerdict, type ForgeModule } from './shared';

function normalise(source: PushSource, doc: Record<string, unknown>): Normalised {
  const kind = optStr(doc, 'object_kind') ?? optStr(doc, 'event_name');
  if (kind !== 'push' && kind !== 'tag_push') return { ignore: `a ${kind ?? 'unnamed'} event starts no pipeline (only push and tag_push do)` };
  const ref = fullRef(doc);
  const parts = splitRef(ref);
  if (!parts) return { ignore: `${ref} is neither a branch nor a tag: no pipeline` };
  const before = sha(doc, 'before');
  const after = sha(doc, 'after');
  const checkout = isZeroSha(after) ? null : optStr(doc, 'checkout_sha');
  if (checkout !== null && !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(checkout)) throw badRequest('400 Bad request - checkout_sha is invalid: expected a full commit sha');
  const commits = optArr(doc, 'commits');
  const i = commits.findIndex((c) => c.id === checkout);
  return {
    push: {
      forge: source, ref, ...parts, before, after, checkoutSha: checkout?.toLowerCase() ?? null,
      commit: i >= 0 ? commitInfo(commits[i], `commits[${i}]`) : null,
      totalCommits: optNum(doc, 'total_commits_count'),
      pusher: optStr(doc, 'user_username') ?? optStr(doc, 'user_name'),
    },
  };
}

export const gitlab: ForgeModule = {
  source: 'gitlab',
  matches: (h) => h.has('X-Gitlab-Event'),
  event: (h) => h.get('X-Gitlab-Event') ?? '',
  verify: (h, _raw, secret) => tokenVerdict(header(h, 'X-Gitlab-Token'), secret),
  normalise(h, doc) {
    const event = this.event(h);
    if (!['Push Hook', 'Tag Push Hook', 'System Hook'].includes(event)) return { ignore: `a ${event || 'unnamed'} event starts no pipeline (only Push Hook and Tag Push Hook do)` };
    return normalise('gitlab', doc);
  },
  deliveryId(h, n) {
    const key = header(h, 'Idempotency-Key');
    if (key) return key;
    const uuid = header(h, 'X-Gitlab-Event-UUID');
    if (!uuid) return null;
    return 'push' in n ? `${uuid}:${n.push.ref}:${n.push.before}:${n.push.after}` : uuid;
  },
};

export const git: ForgeModule = {
  source: 'git',
  matches: (h) => h.has('X-Baton-Event'),
  event: (h) => h.get('X-Baton-Event') ?? '',
  verify: (h, _raw, secret) => tokenVerdict(header(h, 'X-Baton-Token'), secret),
  normalise(h, doc) {
    if (this.event(h) !== 'push') return { ignore: `a ${this.event(h) || 'unnamed'} event starts no pipeline (only push does)` };
    return normalise('git', doc);
  },
  deliveryId: () => null,
};
