/**
 * GitHub (forges-and-rest.md §A): `X-GitHub-Event` (`push`, `ping`, `create`, `delete`, …),
 * `X-GitHub-Delivery` (kept on redelivery), and `X-Hub-Signature-256: sha256=<hex>` — an
 * HMAC-SHA256 of the RAW body as received (for a form delivery that is the whole
 * `payload=…` body, not the decoded JSON). A deletion is a push with `deleted: true`.
 */
import { badRequest } from '../../errors';
import { isZeroSha, splitRef, type Normalised } from '../push-event';
import { commitInfo, fullRef, header, hmacMatches, optArr, optObj, optStr, sha, type ForgeModule, type Verdict } from './shared';

export const github: ForgeModule = {
  source: 'github',
  matches: (h) => h.has('X-GitHub-Event'),
  event: (h) => h.get('X-GitHub-Event') ?? '',
  verify(h, raw, secret): Verdict {
    const sig = header(h, 'X-Hub-Signature-256');
    if (sig === null || sig === 'sha256=') return 'missing';
    if (secret === '' || !sig.startsWith('sha256=')) return 'mismatch';
    return hmacMatches(secret, raw, sig.slice('sha256='.length)) ? 'ok' : 'mismatch';
  },
  normalise(h, doc): Normalised {
    const event = this.event(h);
    if (event === 'ping') return { ignore: 'ping: the hook works (a ping starts no pipeline)' };
    if (event === 'delete') return { ignore: `${optStr(doc, 'ref_type') ?? 'ref'} ${optStr(doc, 'ref') ?? ''} was deleted: no pipeline` };
    if (event === 'create') return { ignore: 'a create event starts nothing (the push event sent with it does)' };
    if (event !== 'push') return { ignore: `a ${event || 'unnamed'} event starts no pipeline (only push does)` };
    const ref = fullRef(doc);
    const parts = splitRef(ref);
    if (!parts) return { ignore: `${ref} is neither a branch nor a tag: no pipeline` };
    const before = sha(doc, 'before');
    const after = sha(doc, 'after');
    const deleted = doc.deleted === true || isZeroSha(after);
    const head = optObj(doc, 'head_commit');
    const checkout = deleted ? null : (head ? optStr(head, 'id', 'head_commit.id') : null) ?? after;
    if (checkout !== null && !/^[0-9a-f]{40}$/i.test(checkout)) throw badRequest('400 Bad request - head_commit.id is invalid: expected a full commit sha');
    optArr(doc, 'commits');
    const pusher = optObj(doc, 'pusher');
    const sender = optObj(doc, 'sender');
    return {
      push: {
        forge: 'github', ref, ...parts, before, after: deleted ? '0'.repeat(40) : after, checkoutSha: checkout?.toLowerCase() ?? null,
        commit: head ? commitInfo(head, 'head_commit') : null,
        pusher: (sender && optStr(sender, 'login', 'sender.login')) ?? (pusher && optStr(pusher, 'name', 'pusher.name')) ?? null,
      },
    };
  },
  deliveryId: (h) => header(h, 'X-GitHub-Delivery'),
};
