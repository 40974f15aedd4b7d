/**
 * The ONE neutral shape every push source is turned into (a forge webhook, the
 * post-receive hook), and the decisions that need nothing but it: is this a deletion, a
 * test delivery, a `[skip ci]` commit? Everything after — recording the delivery, creating
 * the pipeline — is the same code whichever forge sent it.
 */
import type { CommitInfo } from '../pipeline-creation';

export type PushSource = 'gitea' | 'forgejo' | 'github' | 'gitlab' | 'git';

export interface PushEvent {
  /** who sent it */
  forge: PushSource;
  /** the full ref: `refs/heads/main`, `refs/tags/v1.2` */
  ref: string;
  /** the branch or tag name (`main`, `v1.2`) */
  refName: string;
  tag: boolean;
  /** the old tip; all zeros for a new ref */
  before: string;
  /** the new tip (for an annotated tag: the tag object); all zeros for a deletion */
  after: string;
  /** the commit to build (an annotated tag dereferenced); null when there is none (deletion) */
  checkoutSha: string | null;
  /** the head commit as the sender described it (message, author, time), when it did */
  commit: CommitInfo | null;
  /** commits the push added, as the sender counted them */
  totalCommits?: number;
  /** the pusher's login, for the record */
  pusher: string | null;
}

/** What a delivery becomes: a push to build, or a reason it starts nothing (answered 200). */
export type Normalised = { push: PushEvent } | { ignore: string };

/** All zeros = no object (40 for SHA-1, 64 for SHA-256 repositories). */
export const isZeroSha = (sha: string | null | undefined) => !sha || /^0+$/.test(sha);

/** GitLab's rule: `[ci skip]` / `[skip ci]` with space, `_` or `-`, any case, in the head commit's message. */
const SKIP_CI = /\[(ci[ _-]skip|skip[ _-]ci)\]/i;
export const wantsSkipCi = (message: string | null | undefined) => !!message && SKIP_CI.test(message);

/** `refs/heads/x` → branch x, `refs/tags/y` → tag y; anything else is not built. */
export function splitRef(ref: string): { refName: string; tag: boolean } | null {
  if (ref.startsWith('refs/heads/')) return { refName: ref.slice('refs/heads/'.length), tag: false };
  if (ref.startsWith('refs/tags/')) return { refName: ref.slice('refs/tags/'.length), tag: true };
  return null;
}

/** Why this push starts no pipeline, or null when it should start one. */
export function whyNoPipeline(e: PushEvent): string | null {
  if (isZeroSha(e.after) || e.checkoutSha === null) return `${e.tag ? 'tag' : 'branch'} ${e.refName} was deleted: no pipeline`;
  if (isZeroSha(e.checkoutSha)) return 'a test delivery (no real commit): no pipeline';
  if (e.before === e.after) return 'before and after are the same commit (a test delivery): no pipeline';
  if (wantsSkipCi(e.commit?.message)) return 'the head commit asks for [skip ci]: no pipeline';
  return null;
}
