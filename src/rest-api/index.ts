/**
 * The GitLab-shaped REST API for people (`/api/v4`, admin token): consumer-api.md §2.
 * One Elysia instance per route group; every route carries the `admin` macro itself, so
 * the runner-facing v4 routes that share the `/api/v4` prefix stay untouched.
 */
import { Elysia } from 'elysia';
import type { Core } from '../core';
import { executionRoutes } from './execution';
import { jobRoutes } from './jobs';
import { pipelineRoutes } from './pipelines';
import { projectRoutes } from './projects';
import { runnerRoutes } from './runners';
import { variableRoutes } from './variables';

export function restApi(core: Core) {
  return new Elysia({ name: 'rest-api' })
    .use(projectRoutes(core))
    .use(variableRoutes(core))
    .use(pipelineRoutes(core))
    .use(jobRoutes(core))
    .use(executionRoutes(core))
    .use(runnerRoutes(core));
}
