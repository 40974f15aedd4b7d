/**
 * The one place that reads argv and the environment for the server. Flags win over
 * `BATON_*` env aliases, which win over defaults; an invalid value is one line naming the
 * flag (thrown as ConfigError, printed by main).
 */
import { t, type Static } from 'elysia';
import { Value } from '@sinclair/typebox/value';
import { parseDuration, parseExpireIn } from './core/duration';

export const ConfigSchema = t.Object({
  host: t.String(),
  port: t.Integer({ minimum: 0, maximum: 65535 }),
  dataDir: t.String({ minLength: 1 }),
  externalUrl: t.Optional(t.String()),
  adminToken: t.Optional(t.String({ minLength: 8 })),
  registrationToken: t.Optional(t.String({ minLength: 8 })),
  /** bytes; an upload of this size or more is refused */
  maxArtifactSize: t.Integer({ minimum: 0 }),
  /** seconds; 0 = never */
  artifactsExpireIn: t.Integer({ minimum: 0 }),
  logLevel: t.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => t.Literal(l))),
  /** seconds a job request may be held open waiting for work; 0 = answer at once */
  pollTimeout: t.Integer({ minimum: 0 }),
  /** seconds a running job may go without any sign of life */
  stuckTimeout: t.Integer({ minimum: 1 }),
  /** seconds a job may stay pending */
  pendingTimeout: t.Integer({ minimum: 1 }),
  /** seconds between two sweeps of the reaper (timeouts, stuck jobs, expired artifacts) */
  reaperInterval: t.Integer({ minimum: 1 }),
  /** seconds a job runs when neither the job nor its project set a timeout */
  defaultJobTimeout: t.Integer({ minimum: 1 }),
  /** bytes a job's trace may grow to */
  maxTraceSize: t.Integer({ minimum: 1 }),
  /** outbound requests (remote includes, forge statuses, hooks) may reach loopback/private addresses */
  allowLocalRequests: t.Boolean(),
  /** when set, GET /metrics wants `Authorization: Bearer <this>` */
  metricsToken: t.Optional(t.String({ minLength: 8 })),
  /** bytes that must stay free under the data dir (artifacts are evicted, uploads refused) */
  minFreeDisk: t.Integer({ minimum: 0 }),
  /** live event streams (job logs, pipeline statuses) one user may hold open at once */
  maxStreamsPerUser: t.Integer({ minimum: 1 }),
  /** live event streams the server holds open at once */
  maxStreams: t.Integer({ minimum: 1 }),
});
export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {}

/** One row per server flag: its env alias, default and how to read it. */
interface FlagSpec {
  /** what the value looks like, for --help */
  arg: string;
  env: string;
  default?: string;
  help: string;
  /** a switch: `--flag` alone means true; the env alias takes true/false/1/0 */
  boolean?: true;
  read: (v: string, flag: string) => Partial<Config>;
}

const mib = (v: string, flag: string) => {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !Number.isFinite(n)) throw new ConfigError(`--${flag}: expected a size in MiB, got "${v}"`);
  return Math.round(n * 1024 * 1024);
};
const SIZE_UNITS: Record<string, number> = { '': 2 ** 20, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30, t: 2 ** 40, tb: 2 ** 40, tib: 2 ** 40 };
/** `1GiB`, `512 MiB`, `0`; a bare number is MiB like the other size flags (units are powers of 1024). */
const size = (v: string, flag: string) => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ConfigError(`--${flag}: expected a size such as "1GiB", "500MiB" or "0", got "${v}"`);
  return Math.round(Number(m[1]) * unit);
};
const seconds = (v: string, flag: string) => {
  const s = parseDuration(v);
  if (s === null) throw new ConfigError(`--${flag}: expected a duration such as "30 days", "1h" or "3600", got "${v}"`);
  return s;
};
const bool = (v: string, flag: string) => {
  const s = v.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(s)) return true;
  if (['false', '0', 'no'].includes(s)) return false;
  throw new ConfigError(`--${flag}: expected true or false, got "${v}"`);
};
const count = (v: string, flag: string) => {
  if (!/^\d{1,9}$/.test(v.trim()) || Number(v) < 1) throw new ConfigError(`--${flag}: expected a whole number of at least 1, got "${v}"`);
  return Number(v);
};
const positive = (v: string, flag: string) => {
  const s = seconds(v, flag);
  if (s <= 0) throw new ConfigError(`--${flag}: must be more than 0, got "${v}"`);
  return s;
};

export const SERVER_FLAGS: Record<string, FlagSpec> = {
  listen: {
    arg: 'HOST:PORT',
    env: 'BATON_LISTEN', default: '0.0.0.0:8080', help: 'address to serve on (HOST:PORT; ":0" picks a free port)',
    read: (v, f) => {
      const m = /^(.*):(\d{1,5})$/.exec(v);
      const port = m ? Number(m[2]) : NaN;
      if (!m || port > 65535) throw new ConfigError(`--${f}: expected HOST:PORT such as 0.0.0.0:8080 or :0, got "${v}"`);
      return { host: m[1] === '' ? '0.0.0.0' : m[1].replace(/^\[(.*)\]$/, '$1'), port };
    },
  },
  'data-dir': { arg: 'DIR', env: 'BATON_DATA_DIR', default: './baton-data', help: 'directory holding all state', read: (v) => ({ dataDir: v }) },
  'external-url': {
    arg: 'URL',
    env: 'BATON_EXTERNAL_URL', help: 'how runners and people reach this server (default http://<listen>)',
    read: (v, f) => {
      let u: URL;
      try { u = new URL(v); } catch { throw new ConfigError(`--${f}: expected an http(s) URL, got "${v}"`); }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`--${f}: expected an http(s) URL, got "${v}"`);
      return { externalUrl: v.replace(/\/+$/, '') };
    },
  },
  'admin-token': { arg: 'TOKEN', env: 'BATON_ADMIN_TOKEN', help: 'pins the admin API token (default: generated once)', read: (v) => ({ adminToken: v }) },
  'registration-token': { arg: 'TOKEN', env: 'BATON_REGISTRATION_TOKEN', help: 'pins the instance runner registration token', read: (v) => ({ registrationToken: v }) },
  'max-artifact-size': { arg: 'MIB', env: 'BATON_MAX_ARTIFACT_SIZE', default: '100', help: 'artifact upload limit in MiB', read: (v, f) => ({ maxArtifactSize: mib(v, f) }) },
  'artifacts-expire-in': {
    arg: 'DUR',
    env: 'BATON_ARTIFACTS_EXPIRE_IN', default: '30 days', help: 'default artifact expiry ("0" or "never" = never)',
    read: (v, f) => {
      const s = parseExpireIn(v);
      if (s === null) throw new ConfigError(`--${f}: expected a duration such as "30 days", "1h", "0" or "never", got "${v}"`);
      return { artifactsExpireIn: s };
    },
  },
  'log-level': {
    arg: 'LEVEL',
    env: 'BATON_LOG_LEVEL', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent',
    read: (v, f) => {
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v)) throw new ConfigError(`--${f}: expected one of fatal, error, warn, info, debug, trace, silent, got "${v}"`);
      return { logLevel: v as Config['logLevel'] };
    },
  },
  'poll-timeout': { arg: 'DUR', env: 'BATON_POLL_TIMEOUT', default: '50', help: 'seconds a job request is held waiting for work (0 = off)', read: (v, f) => {
    // Bun closes sockets idle for 255 s; a held poll must end well before that.
    const s = seconds(v, f);
    if (s > 200) throw new ConfigError(`--${f}: at most 200 seconds, got "${v}"`);
    return { pollTimeout: s };
  } },
  'stuck-timeout': { arg: 'DUR', env: 'BATON_STUCK_TIMEOUT', default: '1h', help: 'a running job silent this long is failed as stuck', read: (v, f) => ({ stuckTimeout: positive(v, f) }) },
  'pending-timeout': { arg: 'DUR', env: 'BATON_PENDING_TIMEOUT', default: '24h', help: 'a job pending this long is failed', read: (v, f) => ({ pendingTimeout: positive(v, f) }) },
  'reaper-interval': { arg: 'DUR', env: 'BATON_REAPER_INTERVAL', default: '30s', help: 'how often timeouts, stuck jobs and expired artifacts are swept', read: (v, f) => ({ reaperInterval: positive(v, f) }) },
  'job-timeout': { arg: 'DUR', env: 'BATON_JOB_TIMEOUT', default: '1h', help: 'job timeout when neither job nor project sets one', read: (v, f) => ({ defaultJobTimeout: positive(v, f) }) },
  'max-trace-size': { arg: 'MIB', env: 'BATON_MAX_TRACE_SIZE', default: '100', help: 'per-job trace limit in MiB', read: (v, f) => ({ maxTraceSize: Math.max(1, mib(v, f)) }) },
  'max-streams-per-user': { arg: 'N', env: 'BATON_MAX_STREAMS_PER_USER', default: '20', help: 'live log/status streams one user may hold open', read: (v, f) => ({ maxStreamsPerUser: count(v, f) }) },
  'max-streams': { arg: 'N', env: 'BATON_MAX_STREAMS', default: '1000', help: 'live log/status streams the server holds open in all', read: (v, f) => ({ maxStreams: count(v, f) }) },
  'allow-local-requests': {
    arg: '', boolean: true,
    env: 'BATON_ALLOW_LOCAL_REQUESTS', default: 'false', help: 'let remote includes, forge statuses and hooks reach loopback and private addresses',
    read: (v, f) => ({ allowLocalRequests: bool(v, f) }),
  },
  'metrics-token': { arg: 'TOKEN', env: 'BATON_METRICS_TOKEN', help: 'GET /metrics then needs "Authorization: Bearer TOKEN" (default: open)', read: (v) => ({ metricsToken: v }) },
  'min-free-disk': {
    arg: 'SIZE', env: 'BATON_MIN_FREE_DISK', default: '1GiB', help: 'free space kept under the data dir: old artifacts are evicted, uploads refused (0 = off)',
    read: (v, f) => ({ minFreeDisk: size(v, f) }),
  },
};

/** parseArgs options for the server flags (switches are booleans, the rest take a value). */
export const serverFlagOptions = Object.fromEntries(Object.entries(SERVER_FLAGS)
  .map(([f, s]) => [f, { type: s.boolean ? 'boolean' as const : 'string' as const }]));

/**
 * Builds the server config from flag values (already split by parseArgs) and the environment.
 * An empty env variable counts as unset (shells and compose files leave `BATON_X=` around);
 * an empty flag is an error. The result is checked against ConfigSchema, so a rule written
 * there (say, a token's minimum length) also fails naming its flag.
 */
export function loadConfig(flags: Record<string, string | boolean | undefined>, env: Record<string, string | undefined> = process.env): Config {
  const out: Partial<Config> = {};
  const flagOf: Record<string, string> = {};
  for (const [flag, spec] of Object.entries(SERVER_FLAGS)) {
    const given = flags[flag];
    const fromFlag = typeof given === 'boolean' ? String(given) : given;
    if (fromFlag === '') throw new ConfigError(`--${flag}: expected a value, got an empty string`);
    const fromEnv = env[spec.env] === '' ? undefined : env[spec.env];
    const raw = fromFlag ?? fromEnv ?? spec.default;
    if (raw === undefined) continue;
    const origin = fromFlag === undefined && fromEnv !== undefined ? ` (from ${spec.env})` : '';
    let part: Partial<Config>;
    try {
      part = spec.read(raw, flag);
    } catch (e) {
      if (e instanceof ConfigError && origin) throw new ConfigError(e.message.replace(`--${flag}:`, `--${flag}${origin}:`));
      throw e;
    }
    for (const key of Object.keys(part)) flagOf[key] = `--${flag}${origin}`;
    Object.assign(out, part);
  }
  const first = Value.Errors(ConfigSchema, out).First();
  if (first) {
    const key = first.path.split('/')[1] ?? '';
    throw new ConfigError(`${flagOf[key] ?? key}: ${first.message.toLowerCase()}`);
  }
  return out as Config;
}

export function externalUrl(config: Config, boundPort: number): string {
  if (config.externalUrl) return config.externalUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
}

export function serverFlagsHelp(): string {
  return Object.entries(SERVER_FLAGS)
    .map(([f, s]) => `  --${`${f} ${s.arg}`.trim().padEnd(31)} ${s.help}\n${' '.repeat(36)}[${s.env}${s.default !== undefined ? `, default ${s.default}` : ''}]`)
    .join('\n');
}
