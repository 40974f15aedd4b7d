/**
 * A small, realistic state for the bad-input and security tests: one project with a masked
 * secret, a pipeline of four jobs, a v1 runner holding one job (with a trace and an
 * archive) and a v4 runner holding another (with a trace), all on a server process; with
 * `automation`, also a user, a token, a membership, a trigger, a schedule and a hook.
 */
import { rmSync } from 'node:fs';
import { seed, type Seeded } from './data';
import { ADMIN_TOKEN, REGISTRATION_TOKEN, spawnBaton, tempDataDir, type BatonProcess } from './process';
import { V1Client } from './v1';
import type { Creds } from '../scenarios/fuzz';

export const SECRET_VALUE = 'hunter2-very-secret-value';

export interface Fixture { baton: BatonProcess; dataDir: string; creds: Creds; seeded: Seeded; close(): Promise<void> }

async function must(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res;
}

/**
 * The people and automation resources whose routes take ids: a user with a token and a
 * membership, a trigger, a schedule with a variable, a hook (all inactive: nothing runs).
 */
async function seedAutomation(url: string, creds: Creds) {
  const api = async (method: string, path: string, body: unknown) => {
    const res = await fetch(url + path, { method, headers: { 'PRIVATE-TOKEN': ADMIN_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201 && res.status !== 200) throw new Error(`fixture: ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, any>>;
  };
  const P = creds.projectId;
  const user = await api('POST', '/api/v4/users', { username: 'fixture-dev', name: 'Fixture Dev', email: 'fixture@example.com', password: 'fixture-password-123' });
  const token = await api('POST', `/api/v4/users/${user.id}/personal_access_tokens`, { name: 'fixture', scopes: ['api'] });
  await api('POST', `/api/v4/projects/${P}/members`, { user_id: user.id, access_level: 30 });
  const trigger = await api('POST', `/api/v4/projects/${P}/triggers`, { description: 'fixture' });
  const schedule = await api('POST', `/api/v4/projects/${P}/pipeline_schedules`, { description: 'fixture', ref: 'main', cron: '0 3 * * *', active: false });
  await api('POST', `/api/v4/projects/${P}/pipeline_schedules/${schedule.id}/variables`, { key: 'FIXTURE_VAR', value: 'v' });
  const hook = await api('POST', `/api/v4/projects/${P}/hooks`, { url: 'https://hooks.example.com/fixture', job_events: false, pipeline_events: false, push_events: false });
  const secret = await (await fetch(`${url}/api/v4/projects/${P}/webhook_secret`, { headers: { 'PRIVATE-TOKEN': ADMIN_TOKEN } })).json() as { webhook_secret: string };
  const project = await (await fetch(`${url}/api/v4/projects/${P}`, { headers: { 'PRIVATE-TOKEN': ADMIN_TOKEN } })).json() as { path_with_namespace: string };
  Object.assign(creds, {
    userId: user.id, tokenId: token.id, triggerId: trigger.id, scheduleId: schedule.id, scheduleKey: 'FIXTURE_VAR', hookId: hook.id, runnerId: 1,
    webhookSecret: secret.webhook_secret, projectPath: project.path_with_namespace,
  });
}

export async function startFixture(flags: Record<string, string> = {}, opts: { projects?: number; automation?: boolean } = {}): Promise<Fixture> {
  const dataDir = tempDataDir('fx');
  const seeded = await seed(dataDir, { projects: opts.projects ?? 1, pipelines: 1, jobsPerPipeline: 4, variables: [{ key: 'SECRET', value: SECRET_VALUE, masked: true }] });
  const baton = await spawnBaton(dataDir, flags);
  const v1 = new V1Client(() => baton.url);
  const r1 = await v1.register(REGISTRATION_TOKEN, { description: 'fixture-v1' });
  const j1 = await v1.requestJob(r1.token!);
  if (!j1.job) throw new Error(`fixture: no v1 job (${j1.status})`);
  const t1 = await v1.patchTrace(j1.job.id, j1.job.token, 0, new TextEncoder().encode('v1 log line\n'.repeat(64) + 'end'));
  if (t1.status !== 202) throw new Error(`fixture: v1 trace ${t1.status}`);
  const a1 = await v1.uploadArtifact(j1.job.id, j1.job.token, new Uint8Array(4096).fill(7), 'fixture.zip');
  if (a1 !== 201) throw new Error(`fixture: v1 artifact ${a1}`);

  const reg4 = await (await must(await fetch(`${baton.url}/api/v4/runners`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: REGISTRATION_TOKEN, description: 'fixture-v4' }) }), 201, 'v4 register')).json() as { token: string };
  const job4 = await (await must(await fetch(`${baton.url}/api/v4/jobs/request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: reg4.token }) }), 201, 'v4 request')).json() as { id: number; token: string };
  const trace4 = 'v4 log\n'.repeat(71);
  await must(await fetch(`${baton.url}/api/v4/jobs/${job4.id}/trace`, { method: 'PATCH', headers: { 'JOB-TOKEN': job4.token, 'content-range': `0-${trace4.length - 1}` }, body: trace4 }), 202, 'v4 trace');

  const creds: Creds = {
    runnerV1: r1.token!, runnerV4: reg4.token, jobV1: j1.job.id, jobV1Token: j1.job.token, jobV1Length: t1.range!,
    jobV4: job4.id, jobV4Token: job4.token, jobV4Length: trace4.length,
    projectId: seeded.projects[0], pipelineId: seeded.pipelines[0], projectToken: seeded.runnersTokens[0],
  };
  if (opts.automation) await seedAutomation(baton.url, creds);
  return {
    baton, dataDir, creds, seeded,
    async close() {
      await baton.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
