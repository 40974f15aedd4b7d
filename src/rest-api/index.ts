/**
 * The GitLab-shaped REST API for people (`/api/v4`, personal access tokens or a dashboard
 * session): consumer-api.md §2, forges-and-rest.md §C. One Elysia instance per route group;
 * every route carries its permission macro itself (src/http/auth.ts), so the runner-facing
 * v4 routes that share the `/api/v4` prefix stay untouched. Also the sign-in/out endpoints.
 */
import { Elysia } from 'elysia';
import type { Core } from '../core';
import { hookRoutes } from './hooks';
import { executionRoutes } from './execution';
import { StreamSlots, type StreamLimits } from '../http/sse';
import { liveRoutes } from './live';
import { jobRoutes } from './jobs';
import { memberRoutes } from './members';
import { lintRoutes } from './lint';
import { pipelineRoutes } from './pipelines';
import { projectRoutes } from './projects';
import { releaseRoutes } from './releases';
import { runnerRoutes } from './runners';
import { sessionRoutes } from './sessions';
import { tokenRoutes } from './tokens';
import { userRoutes } from './users';
import { scheduleRoutes } from './schedules';
import { triggerRoutes } from './triggers';
import { variableRoutes } from './variables';
import { webhookRoutes } from './webhooks';

export function restApi(core: Core, opts: { streams: StreamLimits }) {
  return new Elysia({ name: 'rest-api' })
    .use(projectRoutes(core))
    .use(variableRoutes(core))
    .use(pipelineRoutes(core))
    .use(lintRoutes(core))
    .use(jobRoutes(core))
    .use(executionRoutes(core))
    .use(liveRoutes(core, new StreamSlots(opts.streams)))
    .use(runnerRoutes(core))
    .use(memberRoutes(core))
    .use(userRoutes(core))
    .use(tokenRoutes(core))
    .use(sessionRoutes(core))
    .use(webhookRoutes(core))
    .use(triggerRoutes(core))
    .use(scheduleRoutes(core))
    .use(hookRoutes(core))
    .use(releaseRoutes(core));
}
