/**
 * GitLab's Grape merges parameters from the query string and from JSON, form-urlencoded and
 * multipart bodies, with Rails-style nested keys (`info[name]=…`, `tag_list[]=a`). This
 * parser does the same for the runner APIs, and the route's TypeBox model then converts
 * and validates the merged object (`withModel`).
 */
import type { TSchema } from 'elysia';
import { Value } from '@sinclair/typebox/value';

type Bag = Record<string, unknown>;

/** Sets `a[b][c]` / `a[]` keys into nested objects and arrays. */
export function setNested(target: Bag, key: string, value: unknown) {
  const parts = key.replace(/\]/g, '').split('[');
  let cur: Bag = target;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const last = i === parts.length - 1;
    const nextIsArray = parts[i + 1] === '';
    if (last) {
      if (p === '') continue;
      cur[p] = value;
    } else if (nextIsArray && i + 1 === parts.length - 1) {
      const arr = Array.isArray(cur[p]) ? (cur[p] as unknown[]) : (cur[p] = []) as unknown[];
      arr.push(value);
      return;
    } else {
      if (typeof cur[p] !== 'object' || cur[p] === null || Array.isArray(cur[p])) cur[p] = {};
      cur = cur[p] as Bag;
    }
  }
}

function fromEntries(entries: Iterable<[string, unknown]>): Bag {
  const out: Bag = {};
  for (const [k, v] of entries) setNested(out, k, v);
  return out;
}

/** Query string first, body keys win (as in Grape). */
export async function mergedParams(request: Request, contentType: string): Promise<Bag> {
  const query = fromEntries(new URL(request.url).searchParams.entries());
  const ct = contentType.toLowerCase();
  let body: Bag = {};
  if (ct.startsWith('application/json')) {
    const raw = await request.text();
    if (raw.trim() !== '') {
      let parsed: unknown;
      try { parsed = JSON.parse(raw); } catch { throw new ParamsError('body is not valid JSON'); }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ParamsError('body must be a JSON object');
      body = parsed as Bag;
    }
  } else if (ct.startsWith('application/x-www-form-urlencoded')) {
    body = fromEntries(new URLSearchParams(await request.text()).entries());
  } else if (ct.startsWith('multipart/form-data')) {
    let form: Awaited<ReturnType<Request['formData']>>;
    try { form = await request.formData(); } catch { throw new ParamsError('body is not valid multipart/form-data'); }
    body = fromEntries([...form.entries()].filter(([, v]) => typeof v === 'string') as [string, string][]);
  }
  return { ...query, ...body };
}

export class ParamsError extends Error {}

/**
 * Route options for a model: converts strings from forms/queries to the model's types
 * before Elysia validates (so `run_untagged=false` is a boolean).
 */
export function withModel<S extends TSchema>(schema: S) {
  return {
    parse: ({ request, contentType }: { request: Request; contentType: string }) => mergedParams(request, contentType),
    body: schema,
    transform(ctx: { body: unknown }) {
      ctx.body = Value.Convert(schema, ctx.body ?? {});
    },
  };
}
