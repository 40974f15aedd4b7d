/** Route options shared by the REST API groups: OpenAPI detail, path models, error answers. */
import { t } from 'elysia';
import { badRequest } from '../core/errors';
import { Message, STATUSES } from './presenters';

const security: Record<string, string[]>[] = [{ privateToken: [] }, { bearer: [] }, { session: [] }];

/** The route's OpenAPI tag, summary and security (what it needs is said by its auth macro, as `x-baton-permission`). */
export function restDoc(tag: string) {
  return (summary: string, description?: string) => ({
    detail: { tags: [tag], summary, ...(description ? { description } : {}), security },
  });
}

export const ProjectParams = t.Object({ id: t.String({ description: 'project id' }) });
export const PipelineParams = t.Object({ id: t.String({ description: 'project id' }), pipeline_id: t.String() });
export const JobParams = t.Object({ id: t.String({ description: 'project id' }), job_id: t.String() });

/** The error answers every authenticated route may give. */
export const Errors = { 400: Message, 401: Message, 403: Message, 404: Message };

/** `scope[]=a&scope[]=b`, `scope=a` or `scope=a,b` → the statuses asked for (checked). */
export const ScopeQuery = {
  scope: t.Optional(t.Union([t.String(), t.Array(t.String())], { description: `job statuses: ${STATUSES.join(', ')}` })),
  'scope[]': t.Optional(t.Union([t.String(), t.Array(t.String())], { description: 'the same, Rails style' })),
};

export function scopeOf(query: { scope?: string | string[]; 'scope[]'?: string | string[] }): string[] | undefined {
  const raw = [query.scope ?? [], query['scope[]'] ?? []].flat().flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (raw.length === 0) return undefined;
  const bad = raw.find((s) => !(STATUSES as readonly string[]).includes(s));
  if (bad !== undefined) throw badRequest(`scope does not have a valid value: "${bad}" (one of ${STATUSES.join(', ')})`);
  return [...new Set(raw)];
}
