/** Instance endpoints: health (database answers) and version; no authentication. */
import { Elysia, t } from 'elysia';
import { sql } from 'drizzle-orm';
import type { Core } from '../core';
import { json } from './respond';
import { REVISION, VERSION } from '../version';

export function health(core: Core) {
  return new Elysia({ name: 'baton.health' })
    .get('/-/health', () => {
      try {
        core.deps.db.get(sql`SELECT 1`);
        return json({ status: 'ok' });
      } catch {
        return json({ status: 'error', message: 'the database does not answer' }, 503);
      }
    }, { detail: { tags: ['instance'], summary: 'Health check' }, response: { 200: t.Object({ status: t.String() }) } })
    .get('/api/v4/version', () => json({ version: VERSION, revision: REVISION }), {
      detail: { tags: ['instance'], summary: 'Baton version' },
      response: { 200: t.Object({ version: t.String(), revision: t.String() }) },
    });
}
