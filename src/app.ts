/**
 * Composition root: mounts every route group on one Elysia app and maps errors once.
 * Builds no services and never listens (server.ts does both).
 */
import { Elysia } from 'elysia';
import type { Core } from './core';
import type { Logger } from './log';
import { docs } from './http/docs';
import { errorHandler } from './http/errors';
import { health } from './http/health';
import { metricsRoute, routeRecorder } from './http/metrics';
import type { StreamLimits } from './http/sse';
import type { HotRoute } from './http/hot-routes';
import { runnerApiV1, runnerApiV1HotRoutes } from './runner-api/v1/routes';
import { runnerApiV4, runnerApiV4HotRoutes } from './runner-api/v4/routes';
import { restApi } from './rest-api';
import { VERSION } from './version';
import { dashboard } from './web';

export interface AppOptions {
  pollTimeoutMs: number;
  /** GET /metrics wants this Bearer token when set */
  metricsToken?: string;
  /** open Server-Sent Event streams allowed (default DEFAULT_STREAM_LIMITS) */
  streams?: StreamLimits;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { perUser: 20, total: 1000 };

export function createApp(core: Core, log: Logger, opts: AppOptions) {
  return new Elysia({ name: 'baton' })
    .use(routeRecorder())
    .use(errorHandler(log))
    .use(docs(VERSION))
    .use(health(core))
    .use(metricsRoute(core, opts))
    .use(runnerApiV1(core, opts))
    .use(runnerApiV4(core, opts))
    .use(restApi(core, { streams: opts.streams ?? DEFAULT_STREAM_LIMITS }))
    .use(dashboard(core));
}

export type App = ReturnType<typeof createApp>;

/** The routes served ahead of the app by Bun's router (the runners' polls; src/http/hot-routes.ts). */
export function createHotRoutes(core: Core, opts: AppOptions): HotRoute[] {
  return [...runnerApiV1HotRoutes(core, opts), ...runnerApiV4HotRoutes(core, opts)];
}
