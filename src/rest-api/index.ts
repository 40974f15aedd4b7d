/**
 * The GitLab-shaped REST API for people (`/api/v4`, admin token): consumer-api.md §2.
 * One Elysia instance per route group; every route carries the `admin` macro itself, so
 * the runner-facing v4 routes that share the `/api/v4` prefix stay untouched.
 */
import { Elysia } from 'elysia';
import { join } from 'node:path';
import type { Core } from '../core';
import { GitReader } from '../core/git';
import { jobRoutes } from './jobs';
import { pipelineRoutes } from './pipelines';
import { projectRoutes } from './projects';
import { runnerRoutes } from './runners';
import { variableRoutes } from './variables';

export function restApi(core: Core) {
  // The repository caches live in the data dir, next to traces and artifacts.
  const git = new GitReader(join(core.deps.store.root, 'git-cache'));
  return new Elysia({ name: 'rest-api' })
    .use(projectRoutes(core, git))
    .use(variableRoutes(core))
    .use(pipelineRoutes(core, git))
    .use(jobRoutes(core))
    .use(runnerRoutes(core));
}
