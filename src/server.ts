/**
 * Starts Baton on a data dir: opens and migrates the database, makes sure the instance
 * tokens exist, builds the core and the app, listens, starts the reaper, and knows how to
 * stop gracefully (stop accepting, release held polls, let in-flight requests finish within
 * a bounded wait, close the database).
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from './app';
import { systemClock, type Clock } from './clock';
import { externalUrl, type Config } from './config';
import { createCore, type Core } from './core';
import { LocalBlobStore } from './core/storage';
import { Notifier } from './core/notifier';
import { openDb } from './db/client';
import { migrate } from './db/migrate';
import { withRequestLog } from './http/request-log';
import { createLogger, flushLog, type Logger } from './log';
import { REVISION, VERSION } from './version';

export interface RunningServer {
  url: string;
  port: number;
  core: Core;
  /** tokens generated at this start (to be printed once) */
  generated: { admin?: string; registration?: string };
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  log?: Logger;
  /** reaper period; 0 = do not start the reaper (tests sweep by hand) */
  reaperEveryMs?: number;
}

export function openCore(config: Config, opts: { clock?: Clock; log?: Logger } = {}): Core {
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
    store: new LocalBlobStore(config.dataDir),
    notifier: new Notifier(),
    log: opts.log ?? createLogger(config.logLevel),
    server: { url: config.externalUrl ?? '', version: VERSION, revision: REVISION },
    outbound: { allowLocal: config.allowLocalRequests },
    limits: {
      maxArtifactSize: config.maxArtifactSize,
      artifactsExpireIn: config.artifactsExpireIn,
      defaultJobTimeout: config.defaultJobTimeout,
      maxTraceSize: config.maxTraceSize,
      stuckTimeout: config.stuckTimeout,
      pendingTimeout: config.pendingTimeout,
    },
  });
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? createLogger(config.logLevel);
  const core = openCore(config, { clock: opts.clock, log });
  const generated = core.instance.ensureTokens({ admin: config.adminToken, registration: config.registrationToken });
  const app = createApp(core, log, {
    pollTimeoutMs: config.pollTimeout * 1000,
    streams: { perUser: config.maxStreamsPerUser, total: config.maxStreams },
  });
  const handle = withRequestLog(log, (req) => app.fetch(req));
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // Uploads are streamed and limited by Baton itself (--max-artifact-size).
    maxRequestBodySize: 2 ** 40,
    // Long polls are held up to --poll-timeout; the socket must outlive them.
    idleTimeout: Math.min(255, Math.max(60, config.pollTimeout + 30)),
    fetch: handle,
    error(err) {
      log.error({ err }, 'server error');
      return new Response(JSON.stringify({ message: '500 Internal Server Error' }), { status: 500, headers: { 'content-type': 'application/json' } });
    },
  });
  const port = server.port!;
  core.deps.server.url = externalUrl(config, port);
  if (opts.reaperEveryMs !== 0) core.reaper.start(opts.reaperEveryMs ?? (config.reaperInterval ?? 30) * 1000);
  log.info({ url: core.deps.server.url, listen: `${config.host}:${port}`, dataDir: config.dataDir }, 'baton listening');

  let stopping: Promise<void> | null = null;
  return {
    url: `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}`,
    port,
    core,
    generated,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        core.reaper.stop();
        core.deps.notifier.close();
        const drained = server.stop(false);
        const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref?.());
        await Promise.race([drained, timer]);
        await server.stop(true);
        core.deps.db.$client.close();
        core.deps.store.close();
        // before the caller exits: the last request lines may still be in flight
        await flushLog(log);
      })();
      return stopping;
    },
  };
}
