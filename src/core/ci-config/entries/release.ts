/**
 * `release:` — GitLab's Entry::Release and Release::Assets(::Links, ::Link): tag_name
 * (required), tag_message, name, description (required; text, or a file path release-cli
 * reads), ref (a git ref or sha), milestones (a string or strings), released_at (ISO 8601),
 * assets:links [{name, url, link_type, filepath | direct_asset_path}]. Values are kept as
 * written: the runner's shell expands their variables when it runs the release step
 * (runner-api/v4/release.ts builds the release-cli command line, as GitLab's Releaser).
 */
import type { ReleaseLinkSpec, ReleaseSpec } from '../../../db/job-spec';
import { attrError, child, configError, exclusiveKeys, hasVariable, knownKeys, type Entry } from './common';
import { isMap, isString, isStringArray } from '../values';

const KEYS = ['tag_name', 'tag_message', 'name', 'description', 'ref', 'released_at', 'milestones', 'assets'];
const LINK_KEYS = ['name', 'url', 'link_type', 'filepath', 'direct_asset_path'];
export const LINK_TYPES = ['other', 'runbook', 'image', 'package'] as const;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** `DateTime.iso8601` accepts it: the shape, and a real calendar date and time. */
export function validIso8601(v: string): boolean {
  if (!ISO_8601.test(v)) return false;
  const [y, m, d] = v.slice(0, 10).split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return false;
  const time = /[T ](\d{2}):(\d{2})(?::(\d{2}))?/.exec(v);
  return !time || (Number(time[1]) <= 23 && Number(time[2]) <= 59 && Number(time[3] ?? 0) <= 60);
}

/** git check-ref-format's rules (GitLab: Gitlab::GitRefValidator), or a commit sha. */
export function validRef(v: string): boolean {
  if (/^[0-9a-f]{7,64}$/i.test(v)) return true;
  if (v === '' || v === '@' || v.startsWith('-') || v.startsWith('/') || v.endsWith('/') || v.endsWith('.') || v.endsWith('.lock')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(v) || v.includes('..') || v.includes('//') || v.includes('@{')) return false;
  return v.split('/').every((part) => part !== '' && !part.startsWith('.'));
}

const blank = (v: unknown) => v === undefined || v === null || v === '';

export function release(e: Entry, v: unknown): ReleaseSpec | undefined {
  if (!isMap(v)) return configError(e, 'should be a hash');
  if (!knownKeys(e, v, KEYS)) return undefined;
  const before = e.errors.count;
  const { tag_name, tag_message, name, description, ref, released_at, milestones, assets } = v as Record<string, unknown>;
  if (blank(tag_name)) attrError(e, 'tag_name', "can't be blank");
  else if (!isString(tag_name)) attrError(e, 'tag_name', 'should be a string');
  if (!blank(tag_message) && !isString(tag_message)) attrError(e, 'tag_message', 'should be a string');
  if (blank(description)) attrError(e, 'description', "can't be blank");
  else if (!isString(description)) attrError(e, 'description', 'should be a string');
  if (!blank(name) && !isString(name)) attrError(e, 'name', 'should be a string');
  if (!blank(milestones) && !isString(milestones) && !isStringArray(milestones)) attrError(e, 'milestones', 'should be an array of strings or a string');
  if (!blank(released_at) && !(isString(released_at) && validIso8601(released_at))) attrError(e, 'released_at', 'must be a valid datetime');
  if (!blank(ref) && !(isString(ref) && validRef(ref))) attrError(e, 'ref', 'must be a valid ref');
  const links = assets === undefined || assets === null ? undefined : assetLinks(child(e, 'assets'), assets);
  if (e.errors.count > before) return undefined;

  const spec: ReleaseSpec = { tag_name: tag_name as string, description: description as string };
  if (isString(tag_message) && tag_message !== '') spec.tag_message = tag_message;
  if (isString(name) && name !== '') spec.name = name;
  if (isString(ref) && ref !== '') spec.ref = ref;
  if (isString(released_at) && released_at !== '') spec.released_at = released_at;
  if (isString(milestones) && milestones !== '') spec.milestones = [milestones];
  else if (isStringArray(milestones) && milestones.length) spec.milestones = [...milestones];
  if (links) spec.assets = { links };
  return spec;
}

function assetLinks(e: Entry, v: unknown): ReleaseLinkSpec[] | undefined {
  if (!isMap(v)) return configError(e, 'should be a hash');
  if (!knownKeys(e, v, ['links'])) return undefined;
  const links = v.links;
  if (links === undefined || links === null || (Array.isArray(links) && links.length === 0)) return attrError(e, 'links', "can't be blank");
  if (!Array.isArray(links) || !links.every(isMap)) return attrError(e, 'links', 'should be an array of hashes');
  const le = child(child(e, 'links'), 'link');
  const out: ReleaseLinkSpec[] = [];
  const before = e.errors.count;
  for (const l of links as Record<string, unknown>[]) {
    if (!knownKeys(le, l, LINK_KEYS)) continue;
    if (!exclusiveKeys(le, l, ['filepath', 'direct_asset_path'])) continue;
    const start = e.errors.count;
    if (blank(l.name)) attrError(le, 'name', "can't be blank");
    else if (!isString(l.name)) attrError(le, 'name', 'should be a string');
    if (blank(l.url)) attrError(le, 'url', "can't be blank");
    else if (!isString(l.url) || !(validUrl(l.url) || hasVariable(l.url))) attrError(le, 'url', 'must be a valid URL');
    if (!blank(l.link_type) && !LINK_TYPES.includes(l.link_type as (typeof LINK_TYPES)[number])) attrError(le, 'link_type', `should be one of: ${LINK_TYPES.join(', ')}`);
    for (const k of ['filepath', 'direct_asset_path'] as const) {
      if (!blank(l[k]) && !(isString(l[k]) && (l[k] as string).startsWith('/'))) attrError(le, k, "should be a string that starts with '/'");
    }
    if (e.errors.count > start) continue;
    const link: ReleaseLinkSpec = { name: l.name as string, url: l.url as string };
    if (!blank(l.link_type)) link.link_type = l.link_type as string;
    if (!blank(l.filepath)) link.filepath = l.filepath as string;
    if (!blank(l.direct_asset_path)) link.direct_asset_path = l.direct_asset_path as string;
    out.push(link);
  }
  return e.errors.count === before ? out : undefined;
}

/**
 * An http(s) URL (GitLab's addressable_url validator). A URL with a variable in it
 * (`${CI_PROJECT_URL}/-/jobs/…`) is taken as written: the runner's shell expands it and
 * the Releases API checks what arrives.
 */
function validUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
