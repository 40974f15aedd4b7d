/**
 * GitLab-side variable expansion (spec ci-yaml.md §5.3/5.4): `$NAME`, `${NAME}` and `%NAME%`;
 * `$$` and `%%` are left alone. Two flavours: `expand` turns an unknown name into "" (include
 * locations, `expand_vars`), `expandExisting` leaves it as written (rules:changes/exists paths,
 * environment names, variable values). Written as a scanner, not a RegExp over user text.
 */

export type Lookup = (name: string) => string | undefined;

const isStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isPart = (c: string) => isStart(c) || (c >= '0' && c <= '9');

/** Calls `fn` for every reference in `text`; `fn` returns the replacement or null to keep it. */
function scan(text: string, fn: (name: string, written: string) => string | null): string {
  if (!text.includes('$') && !text.includes('%')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if ((c === '$' && text[i + 1] === '$') || (c === '%' && text[i + 1] === '%')) { out += c + c; i += 2; continue; }
    if (c === '$' && text[i + 1] === '{') {
      let j = i + 2;
      while (j < text.length && isPart(text[j])) j++;
      if (text[j] === '}' && (j === i + 2 || isStart(text[i + 2]))) {
        const name = text.slice(i + 2, j);
        const written = text.slice(i, j + 1);
        out += name === '' ? written : fn(name, written) ?? written;
        i = j + 1;
        continue;
      }
    } else if (c === '$' && i + 1 < text.length && isStart(text[i + 1])) {
      let j = i + 1;
      while (j < text.length && isPart(text[j])) j++;
      const name = text.slice(i + 1, j);
      out += fn(name, text.slice(i, j)) ?? text.slice(i, j);
      i = j;
      continue;
    } else if (c === '%' && i + 1 < text.length && isStart(text[i + 1])) {
      let j = i + 1;
      while (j < text.length && isPart(text[j])) j++;
      if (text[j] === '%') {
        const name = text.slice(i + 1, j);
        out += fn(name, text.slice(i, j + 1)) ?? text.slice(i, j + 1);
        i = j + 1;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}

export function expand(text: string, lookup: Lookup): string {
  return scan(text, (name) => lookup(name) ?? '');
}

export function expandExisting(text: string, lookup: Lookup): string {
  return scan(text, (name) => lookup(name) ?? null);
}

/** The names a value refers to. */
export function references(text: string): string[] {
  const names: string[] = [];
  scan(text, (name) => { names.push(name); return null; });
  return names;
}

export interface CollectionItem { key: string; value: string; raw?: boolean }

/**
 * A variables collection with every value expanded by the others (GitLab sorts by references
 * and expands in that order). Raw (`expand: false`) values stay as written; names in a cycle
 * keep their values and are returned in `cycle`.
 */
export function expandCollection(items: readonly CollectionItem[]): { values: Map<string, string>; cycle: string[] | null } {
  const byKey = new Map<string, CollectionItem>();
  for (const it of items) byKey.set(it.key, it);
  const values = new Map<string, string>();
  const state = new Map<string, 'visiting' | 'done'>();
  let cycle: string[] | null = null;
  const visit = (key: string, stack: string[]): string | undefined => {
    const item = byKey.get(key);
    if (!item) return undefined;
    const s = state.get(key);
    if (s === 'done') return values.get(key);
    if (s === 'visiting') {
      const from = stack.indexOf(key);
      const loop = stack.slice(from);
      if (loop.length > 1 && cycle === null) cycle = loop;
      return item.value;
    }
    if (item.raw) { state.set(key, 'done'); values.set(key, item.value); return item.value; }
    state.set(key, 'visiting');
    const v = expandExisting(item.value, (name) => (name === key ? undefined : visit(name, [...stack, key])));
    state.set(key, 'done');
    values.set(key, v);
    return v;
  };
  for (const it of byKey.values()) visit(it.key, []);
  return { values, cycle };
}
