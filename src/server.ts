/**
 * Starts Baton on a data dir: opens and migrates the database, makes sure the instance
 * tokens exist, builds the core and the app, listens, starts the reaper, and knows how to
 * stop gracefully (stop accepting, release held polls, let in-flight requests finish within
 * a bounded wait, close the database).
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, createHotRoutes } from './app';
import { systemClock, type Clock } from './clock';
import { externalUrl, type Config } from './config';
import { createCore, type Core } from './core';
import { GIT_MISSING_WARNING, gitVersionAsync } from './core/git';
import { diskCheck } from './core/health';
import { coreMetrics } from './core/metrics';
import { DiskSpace, type FreeSpaceProbe } from './core/disk';
import { DEFAULT_OUTBOX, type OutboxOptions } from './core/outbox';
import { LocalBlobStore } from './core/storage';
import { Notifier } from './core/notifier';
import { Checkpointer } from './db/checkpointer';
import { openDb } from './db/client';
import { migrate } from './db/migrate';
import { answerError } from './http/errors';
import { hotRoutes } from './http/hot-routes';
import { httpMetrics, noteRoute } from './http/metrics';
import { withRequestLog } from './http/request-log';
import { createLogger, flushLog, type Logger } from './log';
import { REVISION, VERSION } from './version';

export interface RunningServer {
  url: string;
  port: number;
  core: Core;
  /** tokens generated at this start (to be printed once) */
  generated: { admin?: string; registration?: string };
  /** problems that do not stop the server but that its operator should read (printed by main) */
  warnings: string[];
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  log?: Logger;
  /** reaper period; 0 = do not start the reaper (tests sweep by hand) */
  reaperEveryMs?: number;
  /** free space under the data dir (tests); statfs by default */
  freeSpaceProbe?: FreeSpaceProbe;
  /** outbox worker period (it is also woken by every enqueue); 0 = not started (tests drain by hand) */
  outboxEveryMs?: number;
  /** schedule tick period; 0 = not started (tests tick by hand) */
  scheduleEveryMs?: number;
  /** backoff, give-up and timeouts of deliveries (tests shorten them) */
  outbox?: Partial<OutboxOptions>;
}

export function openCore(config: Config, opts: { clock?: Clock; log?: Logger; freeSpaceProbe?: FreeSpaceProbe; outbox?: Partial<OutboxOptions> } = {}): Core {
  mkdirSync(config.dataDir, { recursive: true });
  // SQLite would only say "unable to open database file"; name the real cause.
  try { accessSync(config.dataDir, constants.W_OK); } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Error(`--data-dir ${config.dataDir} is not writable (${code === 'EROFS' ? 'read-only file system' : code})`);
  }
  const db = openDb(join(config.dataDir, 'baton.db'));
  migrate(db);
  return createCore({
    db,
    clock: opts.clock ?? systemClock,
    store: new LocalBlobStore(config.dataDir, opts.clock ?? systemClock),
    notifier: new Notifier(),
    log: opts.log ?? createLogger(config.logLevel),
    server: { url: config.externalUrl ?? '', version: VERSION, revision: REVISION },
    outbound: { allowLocal: config.allowLocalRequests },
    metrics: coreMetrics(),
    disk: new DiskSpace(config.dataDir, config.minFreeDisk, opts.freeSpaceProbe),
    limits: {
      maxArtifactSize: config.maxArtifactSize,
      artifactsExpireIn: config.artifactsExpireIn,
      defaultJobTimeout: config.defaultJobTimeout,
      maxTraceSize: config.maxTraceSize,
      stuckTimeout: config.stuckTimeout,
      pendingTimeout: config.pendingTimeout,
    },
  }, { outbox: { ...DEFAULT_OUTBOX, ...opts.outbox } });
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? createLogger(config.logLevel);
  const git = gitVersionAsync();
  const core = openCore(config, { clock: opts.clock, log, freeSpaceProbe: opts.freeSpaceProbe, outbox: opts.outbox });
  const generated = core.instance.ensureTokens({ admin: config.adminToken, registration: config.registrationToken });
  const checkpointer = new Checkpointer(core.deps.db.$client);
  // not awaited: the first requests need not wait for the thread (P6, start-up time)
  void checkpointer.start().then((ok) => { if (!ok) log.warn('WAL checkpoints run on the request path: the checkpoint thread could not start'); });
  const appOptions = {
    pollTimeoutMs: config.pollTimeout * 1000,
    metricsToken: config.metricsToken,
    streams: { perUser: config.maxStreamsPerUser, total: config.maxStreams },
  };
  const app = createApp(core, log, appOptions);
  const observe = httpMetrics(core.deps.metrics.registry).observe;
  const handle = withRequestLog(log, (req) => app.fetch(req), observe);
  const hot = hotRoutes(createHotRoutes(core, appOptions), (req) => app.fetch(req), (e, req) => answerError(log, e, req), noteRoute);
  const routes = Object.fromEntries(Object.entries(hot).map(([path, methods]) => [path, Object.fromEntries(Object.entries(methods).map(([m, h]) => [m, withRequestLog(log, h, observe, { routed: true })]))]));
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // Uploads are streamed and limited by Baton itself (--max-artifact-size).
    maxRequestBodySize: 2 ** 40,
    // Long polls are held up to --poll-timeout; the socket must outlive them.
    idleTimeout: Math.min(255, Math.max(60, config.pollTimeout + 30)),
    routes,
    fetch: handle,
    error(err) {
      log.error({ err }, 'server error');
      return new Response(JSON.stringify({ message: '500 Internal Server Error' }), { status: 500, headers: { 'content-type': 'application/json' } });
    },
  });
  const port = server.port!;
  core.deps.server.url = externalUrl(config, port);
  if (opts.reaperEveryMs !== 0) core.reaper.start(opts.reaperEveryMs ?? (config.reaperInterval ?? 30) * 1000);
  // Deliveries and schedules run in the background (durable in the database: a restart resumes them).
  if (opts.outboxEveryMs !== 0) core.outbox.start(opts.outboxEveryMs ?? 1000);
  if (opts.scheduleEveryMs !== 0) core.schedules.start(opts.scheduleEveryMs ?? 10_000);
  log.info({ url: core.deps.server.url, listen: `${config.host}:${port}`, dataDir: config.dataDir }, 'baton listening');
  const warnings: string[] = [];
  if (await git === null) warnings.push(GIT_MISSING_WARNING);
  const disk = diskCheck(core.deps);
  if (disk.status === 'failed') warnings.push(`${disk.message}: artifact uploads are refused until space is freed`);
  for (const w of warnings) log.warn(w);

  let stopping: Promise<void> | null = null;
  return {
    url: `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}`,
    port,
    core,
    generated,
    warnings,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        core.reaper.stop();
        core.schedules.stop();
        core.deps.notifier.close();
        const drained = server.stop(false);
        // Bun's graceful stop also waits for idle keep-alive sockets (one whose client left a
        // request body unread keeps it waiting): once no request is in flight, nothing is lost.
        const idle = (async () => { while (server.pendingRequests > 0) await Bun.sleep(20); })();
        const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref?.());
        await Promise.race([Promise.race([drained, idle]), core.outbox.stop(Math.min(graceMs, 5000)).then(() => Promise.race([drained, idle])), timer]);
        await server.stop(true);
        await core.outbox.stop(0);
        await checkpointer.stop();
        core.deps.db.$client.close();
        core.deps.store.close();
        // before the caller exits: the last request lines may still be in flight
        await flushLog(log);
      })();
      return stopping;
    },
  };
}
