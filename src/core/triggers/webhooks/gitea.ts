/**
 * Gitea and Forgejo (forges-and-rest.md §A): `X-Gitea-Event` / `X-Forgejo-Event`, the
 * delivery id in `X-Gitea-Delivery` / `X-Forgejo-Delivery`, and an HMAC-SHA256 (hex, no
 * prefix) of the JSON payload in `X-Gitea-Signature` / `X-Forgejo-Signature` (also sent as
 * `X-Hub-Signature-256: sha256=…`). The JSON payload is the body of a JSON delivery and
 * the decoded `payload` field of a form delivery. Without a secret they send the
 * signature headers EMPTY: that is "no signature", never a match.
 *
 * A branch deletion arrives as a `delete` event only (older Gitea: a push with after = 0);
 * a new branch as `create` AND `push` — only the push is built.
 */
import { badRequest } from '../../errors';
import { isZeroSha, splitRef, type Normalised, type PushSource } from '../push-event';
import { commitInfo, fullRef, header, hmacMatches, optArr, optNum, optObj, optStr, payloadText, sha, type ForgeModule, type Verdict } from './shared';

function make(source: Extract<PushSource, 'gitea' | 'forgejo'>): ForgeModule {
  const own = source === 'forgejo' ? 'X-Forgejo' : 'X-Gitea';
  return {
    source,
    matches: (h) => h.has(`${own}-Event`),
    event: (h) => h.get(`${own}-Event`) ?? h.get('X-Gitea-Event') ?? '',
    verify(h, raw, secret): Verdict {
      const hex = header(h, `${own}-Signature`) ?? header(h, 'X-Gitea-Signature');
      const hub = header(h, 'X-Hub-Signature-256');
      const presented = hex ?? (hub && hub !== 'sha256=' ? hub.replace(/^sha256=/, '') : null);
      if (presented === null) return 'missing';
      if (secret === '') return 'mismatch';
      return hmacMatches(secret, payloadText(h, raw), presented) ? 'ok' : 'mismatch';
    },
    normalise(h, doc): Normalised {
      const event = this.event(h);
      if (event === 'delete') {
        const ref = optStr(doc, 'ref') ?? '';
        return { ignore: `${optStr(doc, 'ref_type') ?? 'ref'} ${ref.replace(/^refs\/(heads|tags)\//, '')} was deleted: no pipeline` };
      }
      if (event === 'create') return { ignore: 'a create event starts nothing (the push event sent with it does)' };
      if (event !== 'push') return { ignore: `a ${event || 'unnamed'} event starts no pipeline (only push does)` };
      const ref = fullRef(doc);
      const parts = splitRef(ref);
      if (!parts) return { ignore: `${ref} is neither a branch nor a tag: no pipeline` };
      const before = sha(doc, 'before');
      const after = sha(doc, 'after');
      const head = optObj(doc, 'head_commit');
      const checkout = isZeroSha(after) ? null : (head ? (optStr(head, 'id', 'head_commit.id') ?? after) : after);
      if (checkout !== null && !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(checkout)) throw badRequest('400 Bad request - head_commit.id is invalid: expected a full commit sha');
      optArr(doc, 'commits');
      const pusher = optObj(doc, 'pusher');
      return {
        push: {
          forge: source, ref, ...parts, before, after, checkoutSha: checkout?.toLowerCase() ?? null,
          commit: head ? commitInfo(head, 'head_commit') : null,
          totalCommits: optNum(doc, 'total_commits'),
          pusher: pusher ? (optStr(pusher, 'login', 'pusher.login') ?? optStr(pusher, 'username', 'pusher.username')) : null,
        },
      };
    },
    deliveryId: (h) => header(h, `${own}-Delivery`) ?? header(h, 'X-Gitea-Delivery'),
  };
}

export const gitea = make('gitea');
export const forgejo = make('forgejo');
