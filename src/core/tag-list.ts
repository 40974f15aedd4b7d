/**
 * Tag lists as GitLab reads them (Gitlab::Ci::Tags::Parser and TagList), for a job's `tags`
 * after variable expansion and for a runner's `tag_list`: the items are joined with ", " and
 * split again on commas — so "a,b" is two tags — except that a tag in double or single quotes
 * keeps its commas; then blank tags are dropped ("Empty tags are ignored by gitlab", as
 * QEMU's and Mesa's files count on when a tag variable is ""), each is trimmed, repeats go.
 */

const DOUBLE_QUOTED = /(^|,)\s*"(.*?)"\s*(?=,\s*|$)/g;
const SINGLE_QUOTED = /(^|,)\s*'(.*?)'\s*(?=,\s*|$)/g;

export function normalizeTags(input: string | readonly string[] | undefined): string[] {
  if (input === undefined) return [];
  let text = typeof input === 'string' ? input : input.join(', ');
  const found: string[] = [];
  text = text.replace(DOUBLE_QUOTED, (_m, _start, tag: string) => { found.push(tag); return ''; });
  text = text.replace(SINGLE_QUOTED, (_m, _start, tag: string) => { found.push(tag); return ''; });
  found.push(...text.split(','));
  return [...new Set(found.filter((t) => t.trim() !== '').map((t) => t.trim()))];
}
