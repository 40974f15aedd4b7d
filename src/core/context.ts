/** What every core service is built from; tests build one with test/support/harness.ts. */
import type { Db } from '../db/client';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { LocalBlobStore } from './storage';
import type { Notifier } from './notifier';
import type { CoreMetrics } from './metrics';
import type { DiskSpace } from './disk';

export interface Limits {
  /** bytes; an artifact of this size or more is refused */
  maxArtifactSize: number;
  /** seconds; 0 = never */
  artifactsExpireIn: number;
  /** seconds */
  defaultJobTimeout: number;
  /** bytes */
  maxTraceSize: number;
  /** seconds */
  stuckTimeout: number;
  /** seconds */
  pendingTimeout: number;
}

/** How jobs see this server (CI_SERVER_* variables); the URL is known once listening. */
export interface ServerInfo {
  url: string;
  version: string;
  revision: string;
}

/** Requests Baton makes to URLs users chose (outbound.ts). */
export interface OutboundSettings {
  /** --allow-local-requests */
  allowLocal: boolean;
}

export interface CoreDeps {
  server: ServerInfo;
  outbound: OutboundSettings;
  db: Db;
  clock: Clock;
  store: LocalBlobStore;
  notifier: Notifier;
  log: Logger;
  limits: Limits;
  /** counters and histograms the core increments; its registry is what GET /metrics renders */
  metrics: CoreMetrics;
  /** free space under the data dir and the --min-free-disk floor */
  disk: DiskSpace;
}
