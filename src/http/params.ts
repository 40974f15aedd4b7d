/**
 * GitLab's Grape merges parameters from the query string and from JSON, form-urlencoded and
 * multipart bodies, with Rails-style nested keys (`info[name]=…`, `tag_list[]=a`). This
 * parser does the same for the runner APIs, and the route's TypeBox model then converts
 * and validates the merged object (`withModel`).
 */
import type { TSchema } from 'elysia';
import { Value } from '@sinclair/typebox/value';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { DomainError } from '../core/errors';

/**
 * Parameter bodies (JSON, forms) are read whole, so they are capped while reading (413
 * beyond). Generous: the final v1 `PUT builds/:id` carries the whole log, JSON-escaped.
 */
export const MAX_PARAMS_BODY = 16 * 1024 * 1024;

/** JSON is UTF-8 (RFC 8259): invalid bytes are refused, not silently replaced. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Keys that would reach Object.prototype through `a[__proto__][x]=…`. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Bag = Record<string, unknown>;

/** Sets `a[b][c]` / `a[]` keys into nested objects and arrays. */
export function setNested(target: Bag, key: string, value: unknown) {
  const parts = key.replace(/\]/g, '').split('[');
  if (parts.some((p) => UNSAFE_KEYS.has(p))) return;
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
    let raw: string;
    try { raw = UTF8.decode(await readCapped(request)); } catch (e) {
      if (e instanceof DomainError) throw e;
      throw new ParamsError('body is not valid UTF-8');
    }
    if (raw.trim() !== '') {
      let parsed: unknown;
      try { parsed = JSON.parse(raw); } catch { throw new ParamsError('body is not valid JSON'); }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ParamsError('body must be a JSON object');
      body = parsed as Bag;
    }
  } else if (ct.startsWith('application/x-www-form-urlencoded')) {
    body = fromEntries(new URLSearchParams(new TextDecoder().decode(await readCapped(request))).entries());
  } else if (ct.startsWith('multipart/form-data')) {
    const bytes = await readCapped(request);
    let form: Awaited<ReturnType<Request['formData']>>;
    // Elysia hands the parse hook the media type only; the boundary is in the header itself.
    const full = request.headers.get('content-type') ?? contentType;
    try { form = await new Response(bytes, { headers: { 'content-type': full } }).formData(); } catch { throw new ParamsError('body is not valid multipart/form-data'); }
    body = fromEntries([...form.entries()].filter(([, v]) => typeof v === 'string') as [string, string][]);
  }
  return { ...query, ...body };
}

export class ParamsError extends Error {}

/** The whole body, refused with 413 as soon as it passes MAX_PARAMS_BODY. */
async function readCapped(request: Request): Promise<Uint8Array> {
  const tooLarge = () => new DomainError('too_large', `413 Request Entity Too Large - a parameter body may be at most ${MAX_PARAMS_BODY / 1024 / 1024} MiB`);
  const declared = request.headers.get('content-length');
  if (Number(declared ?? 0) > MAX_PARAMS_BODY) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  // A declared length within the cap is read in one go (streaming costs ~5× per poll).
  if (declared !== null) return new Uint8Array(await request.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of request.body) {
    n += c.length;
    if (n > MAX_PARAMS_BODY) throw tooLarge();
    chunks.push(c);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** Problems found while converting a body, reported after authentication has run. */
const deferred = new WeakMap<Request, ParamsError>();

/** The body problem found for this request, if any (preferred over Elysia's own message). */
export function bodyProblem(request: Request): ParamsError | undefined {
  return deferred.get(request);
}

/** TypeBox's compiled check of a schema (its interpreted one where a schema cannot be compiled). */
function compiledCheck(schema: TSchema): (value: unknown) => boolean {
  try {
    const compiled = TypeCompiler.Compile(schema);
    return (value) => compiled.Check(value);
  } catch {
    return (value) => Value.Check(schema, value);
  }
}

/**
 * Route options for a model: converts strings from forms/queries to the model's types
 * before Elysia validates (so `run_untagged=false` is a boolean).
 */
export function withModel<S extends TSchema>(schema: S) {
  // A body that already fits (every runner's JSON poll) skips the interpreted conversion.
  // Compiled at the first request, not here: 37 routes compiling at start-up took ~15 ms of P6.
  let check: ((value: unknown) => boolean) | undefined;
  const fits = (value: unknown): boolean => (check ??= compiledCheck(schema))(value);
  return {
    parse: ({ request, contentType }: { request: Request; contentType: string }) => mergedParams(request, contentType),
    body: schema,
    transform(ctx: { body: unknown; request: Request }) {
      ctx.body ??= {};
      if (fits(ctx.body)) return;
      // Unknown keys are dropped (as Elysia does), not refused: runners send more than they must.
      ctx.body = Value.Clean(schema, Value.Convert(schema, ctx.body));
      // Checked here, before Elysia's own validation, which turns a non-object given for an
      // object field (`info: 12`, `info: "abc"`) into `{}` / `{"0":"a",…}` instead of refusing it.
      // (Elysia's ValidationError is not used: it renders the whole value, megabytes for a deeply nested body.)
      // The error is raised in beforeHandle, so a credential check (the admin macro's transform)
      // still answers first: a caller without the token learns nothing about the parameters.
      const first = Value.Check(schema, ctx.body) ? undefined : Value.Errors(schema, ctx.body).First();
      if (first) {
        const field = first.path.replace(/^\//, '').replace(/\//g, '.');
        const missing = first.message.startsWith('Expected required property');
        deferred.set(ctx.request, new ParamsError(field ? (missing ? `${field} is missing` : `${field} is invalid: ${first.message}`) : first.message));
      }
    },
    beforeHandle({ request }: { request: Request }) {
      const error = deferred.get(request);
      if (error) throw error;
    },
  };
}
