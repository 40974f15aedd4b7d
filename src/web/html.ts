/**
 * HTML built from template literals, escaped by construction: every interpolated value is
 * escaped unless it is already Html (made by `html` itself or by `raw`, which is kept for
 * markup a trusted renderer produced). Shared by the server pages and the browser code, so a
 * view renders the same on first paint and on a live update.
 */
export class Html {
  constructor(readonly value: string) {}
  toString() { return this.value; }
}

type Part = Html | string | number | boolean | null | undefined | Part[];

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]);
}

function render(p: Part): string {
  if (p === null || p === undefined || p === false || p === true) return '';
  if (p instanceof Html) return p.value;
  if (Array.isArray(p)) return p.map(render).join('');
  return esc(String(p));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Markup that is already safe (a renderer's own output). */
export const raw = (s: string) => new Html(s);

/** `a=1&b=2` from the defined entries, for links that keep filters. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
