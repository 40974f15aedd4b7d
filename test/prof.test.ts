import { test } from 'bun:test';
import { makeProject, startTestServer } from './support/harness';
import { createPipeline, job, plan } from './support/plan';
import { decide } from '../src/core/processing';
test('prof', async () => {
  const server = await startTestServer();
  const core = server.core;
  const project = makeProject(core, { sharedRunnersEnabled: false });
  const { runner } = core.runners.create({ protocol: 'v4', projectId: project.id, runUntagged: true });
  const jobs = [];
  for (let i = 0; i < 500; i++) jobs.push(job(`j${i}`, { stage: 'test', needs: i < 10 ? [] : [`j${i - 10}`] }));
  const p = createPipeline(core, project.id, plan(jobs));
  for (let k = 0; k < 3; k++) { const s = performance.now(); decide(core.deps.db, p.id); console.log('decide', performance.now() - s); }
  const s1 = performance.now();
  for (let i = 0; i < 100; i++) { const c = core.jobs.claim(runner); if (c.outcome !== 'job') break; core.jobs.finish(c.context.job.id, 'success', { failureReason: null, exitCode: 0 }); }
  console.log('100 jobs', performance.now() - s1);
  await server.stop();
}, 60000);
