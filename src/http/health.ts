/**
 * Instance endpoints, no authentication: GET /-/health (the database answers),
 * GET /-/liveness (the process serves), GET /-/readiness (database, writable data dir, free
 * disk above --min-free-disk; 503 naming what failed), and GET /api/v4/version.
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { databaseCheck, readiness } from '../core/health';
import { json } from './respond';
import { REVISION, VERSION } from '../version';

const check = t.Array(t.Object({ status: t.String(), message: t.Optional(t.String()) }));

export function health(core: Core) {
  return new Elysia({ name: 'baton.health' })
    .get('/-/health', () => databaseCheck(core.deps).status === 'ok'
      ? json({ status: 'ok' })
      : json({ status: 'error', message: 'the database does not answer' }, 503),
    { detail: { tags: ['instance'], summary: 'Health check' }, response: { 200: t.Object({ status: t.String() }) } })
    .get('/-/liveness', () => json({ status: 'ok' }), {
      detail: { tags: ['instance'], summary: 'Liveness probe: the process serves requests' },
      response: { 200: t.Object({ status: t.String() }) },
    })
    .get('/-/readiness', () => {
      const r = readiness(core.deps);
      return json(r.body, r.ok ? 200 : 503);
    }, {
      detail: { tags: ['instance'], summary: 'Readiness probe: database, writable data dir, free disk above --min-free-disk' },
      response: { 200: t.Object({ status: t.String(), db_check: check, data_dir_check: check, disk_check: check }) },
    })
    .get('/api/v4/version', () => json({ version: VERSION, revision: REVISION }), {
      detail: { tags: ['instance'], summary: 'Baton version' },
      response: { 200: t.Object({ version: t.String(), revision: t.String() }) },
    });
}
