#!/usr/bin/env bun
/**
 * The yardstick the P1 target was set by (issue 14: "a trivial Elysia route with a TypeBox
 * body and one SQLite lookup reaches about 0.5×"): one Elysia POST route on the v4 job
 * request path, its body checked against a TypeBox model, the runner looked up by token in
 * an in-memory SQLite table, 204 with `X-GitLab-Last-Update`. It is measured beside Baton in
 * the same run, so a P1 figure can be read against what that much framework costs here.
 *
 * Usage: elysia-route.ts [--runners N] [--token-prefix P]   (runner tokens P0 … P<N-1>)
 * Prints "serving on http://…" like Baton.
 */
import { Database } from 'bun:sqlite';
import { parseArgs } from 'node:util';
import { Elysia, t } from 'elysia';

const { values } = parseArgs({ args: process.argv.slice(2), options: { runners: { type: 'string', default: '64' }, 'token-prefix': { type: 'string', default: 'ref-' } } });

const db = new Database(':memory:');
db.run('CREATE TABLE runners (id INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE, epoch TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO runners (token, epoch) VALUES (?, ?)');
for (let i = 0; i < Number(values.runners); i++) insert.run(`${values['token-prefix']}${i}`, '1');
const byToken = db.query<{ id: number; epoch: string }, [string]>('SELECT id, epoch FROM runners WHERE token = ?');

const Body = t.Object({
  token: t.Optional(t.String()),
  info: t.Optional(t.Object({}, { additionalProperties: true })),
  last_update: t.Optional(t.String()),
});

const app = new Elysia().post('/api/v4/jobs/request', ({ body, set }) => {
  const runner = byToken.get(body.token ?? '');
  if (!runner) { set.status = 403; return { message: '403 Forbidden' }; }
  set.status = 204;
  set.headers['x-gitlab-last-update'] = runner.epoch;
  return null;
}, { body: Body });
app.listen({ hostname: '127.0.0.1', port: 0 });
console.log(`serving on http://127.0.0.1:${app.server!.port}`);
