/**
 * Metrics in the Prometheus text format (exposition format 0.0.4), written by hand: the
 * format is small, and prom-client, which works in the compiled binary too, added ~10 ms
 * to every start-up (start-up is benchmarked, P6) for features Baton does not use.
 *
 * A MetricsRegistry holds counters and histograms (kept in this process, incremented where
 * the thing happens — on hot paths a single `value += n`) and gauges (read when scraped,
 * through a function). Any part of Baton adds its own in one line, e.g. the outbox:
 *
 *   core.deps.metrics.registry.gauge('baton_outbox_pending', 'Deliveries not yet made', () => outbox.pendingCount());
 *
 * Counters and histograms count what THIS process did (two Baton processes on one data dir
 * are two scrape targets, summed by PromQL); gauges read from the database describe the
 * whole instance. Reading them must stay cheap with a million jobs: no count over `jobs`
 * (job_counts is kept by triggers), index seeks only, no walk of the data dir per scrape.
 */
import { sql } from 'drizzle-orm';
import { statSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../db/client';
import type { Notifier } from './notifier';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type Labels = Record<string, string>;
export interface Sample { labels?: Labels; value: number }

export class Counter {
  value = 0;
  inc(n = 1) { this.value += n; }
}

/** Counters keyed by label values, in the order of the label names. */
export class CounterVec {
  readonly series = new Map<string, { values: string[]; value: number }>();
  constructor(readonly labelNames: string[]) {}
  inc(values: string[], n = 1) {
    this.child(values).value += n;
  }

  /** The series of these label values (keep it to count without a lookup). */
  child(values: string[]): { value: number } {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { values, value: 0 }));
    return s;
  }
}

export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  /** upper bounds, ascending; +Inf is implied */
  constructor(readonly buckets: readonly number[]) { this.counts = new Array(buckets.length).fill(0); }
  observe(v: number) {
    this.sum += v;
    this.count++;
    // per-bucket counts (not cumulative) keep observe() to one increment
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) if (v <= b[i]) { this.counts[i]++; return; }
  }
}

export class HistogramVec {
  readonly series = new Map<string, { values: string[]; histogram: Histogram }>();
  constructor(readonly labelNames: string[], readonly buckets: readonly number[]) {}
  observe(values: string[], v: number) {
    this.child(values).observe(v);
  }

  /** The histogram of these label values (keep it to observe without a lookup). */
  child(values: string[]): Histogram {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { values, histogram: new Histogram(this.buckets) }));
    return s.histogram;
  }
}

type Metric =
  | { type: 'counter'; help: string; metric: Counter | CounterVec }
  | { type: 'histogram'; help: string; metric: Histogram | HistogramVec }
  | { type: 'gauge'; help: string; read: () => number | Sample[] | null };

export class MetricsRegistry {
  private metrics = new Map<string, Metric>();

  private add(name: string, m: Metric, labelNames: string[] = []) {
    if (!NAME.test(name)) throw new Error(`metric name "${name}" is not a Prometheus name`);
    for (const l of labelNames) if (!LABEL.test(l) || l === 'le') throw new Error(`metric ${name}: label "${l}" is not allowed`);
    if (this.metrics.has(name)) throw new Error(`metric ${name} is registered twice`);
    this.metrics.set(name, m);
  }

  counter(name: string, help: string): Counter {
    const metric = new Counter();
    this.add(name, { type: 'counter', help, metric });
    return metric;
  }

  counterVec(name: string, help: string, labelNames: string[]): CounterVec {
    const metric = new CounterVec(labelNames);
    this.add(name, { type: 'counter', help, metric }, labelNames);
    return metric;
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    const metric = new Histogram(buckets);
    this.add(name, { type: 'histogram', help, metric });
    return metric;
  }

  histogramVec(name: string, help: string, labelNames: string[], buckets: readonly number[]): HistogramVec {
    const metric = new HistogramVec(labelNames, buckets);
    this.add(name, { type: 'histogram', help, metric }, labelNames);
    return metric;
  }

  /** A value read at scrape time: one number, labelled samples, or null (no sample now). */
  gauge(name: string, help: string, read: () => number | Sample[] | null): void {
    this.add(name, { type: 'gauge', help, read });
  }

  names(): string[] { return [...this.metrics.keys()]; }

  /** The whole exposition, HELP and TYPE lines included. A failing gauge reads as no sample. */
  render(): string {
    const out: string[] = [];
    for (const [name, m] of this.metrics) {
      out.push(`# HELP ${name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${m.type}`);
      if (m.type === 'gauge') {
        let v: number | Sample[] | null = null;
        try { v = m.read(); } catch { /* e.g. the database is gone: leave the gauge empty */ }
        if (typeof v === 'number') out.push(`${name} ${num(v)}`);
        else if (v) for (const s of v) out.push(`${name}${labels(s.labels ?? {})} ${num(s.value)}`);
      } else if (m.metric instanceof Counter) {
        out.push(`${name} ${num(m.metric.value)}`);
      } else if (m.metric instanceof CounterVec) {
        for (const s of m.metric.series.values()) out.push(`${name}${labels(zip(m.metric.labelNames, s.values))} ${num(s.value)}`);
      } else if (m.metric instanceof Histogram) {
        renderHistogram(out, name, {}, m.metric);
      } else {
        for (const s of m.metric.series.values()) renderHistogram(out, name, zip(m.metric.labelNames, s.values), s.histogram);
      }
    }
    return out.join('\n') + '\n';
  }
}

function renderHistogram(out: string[], name: string, base: Labels, h: Histogram) {
  let cumulative = 0;
  h.buckets.forEach((le, i) => {
    cumulative += h.counts[i];
    out.push(`${name}_bucket${labels({ ...base, le: num(le) })} ${cumulative}`);
  });
  out.push(`${name}_bucket${labels({ ...base, le: '+Inf' })} ${h.count}`, `${name}_sum${labels(base)} ${num(h.sum)}`, `${name}_count${labels(base)} ${h.count}`);
}

const zip = (names: string[], values: string[]): Labels => Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));

function labels(l: Labels): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

// ---------------------------------------------------------------- what the core counts

const SECONDS_BUCKETS = [0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];

/** The counters and histograms the core increments (src/core/jobs.ts, artifacts.ts, …). */
export function coreMetrics(registry = new MetricsRegistry()) {
  return {
    registry,
    claims: registry.counter('baton_claims_total', 'Jobs handed to runners'),
    claimConflicts: registry.counter('baton_claim_conflicts_total', 'Claim writes that lost the job to another runner (each lost candidate counts)'),
    traceBytes: registry.counter('baton_trace_bytes_total', 'Job log bytes written'),
    artifactBytes: registry.counter('baton_artifact_bytes_total', 'Artifact archive bytes stored'),
    artifactsEvicted: registry.counter('baton_artifacts_evicted_total', 'Artifact archives deleted early because free disk space fell below --min-free-disk'),
    artifactBytesEvicted: registry.counter('baton_artifact_bytes_evicted_total', 'Bytes of artifact archives deleted early for free disk space'),
    uploadsRefused: registry.counter('baton_uploads_refused_low_disk_total', 'Artifact uploads answered 507 because they would cross --min-free-disk'),
    jobQueued: registry.histogram('baton_job_queued_seconds', 'Time from pending to claimed by a runner', SECONDS_BUCKETS),
    jobDuration: registry.histogram('baton_job_duration_seconds', 'Time from claimed to finished (success or failed)', SECONDS_BUCKETS),
  };
}
export type CoreMetrics = ReturnType<typeof coreMetrics>;

/** Statuses always present in baton_jobs (0 when none), so dashboards see every series. */
export const JOB_STATUSES = ['created', 'pending', 'running', 'success', 'failed', 'canceled', 'skipped', 'manual'];

/**
 * The instance gauges read from the database and the data dir. `onlineWindowMs` is how
 * recently a runner must have called to count as online (as in the runner API).
 */
export function registerInstanceGauges(m: CoreMetrics, deps: { db: Db; notifier: Notifier; dataDir: string; clock: { now(): number }; onlineWindowMs: number }) {
  const { db, registry } = { db: deps.db, registry: m.registry };
  const counts = () => {
    const rows = db.all<{ status: string; n: number }>(sql`SELECT status, n FROM job_counts`);
    return new Map(rows.map((r) => [r.status, r.n]));
  };
  registry.gauge('baton_jobs', 'Jobs by status (all projects)', () => {
    const c = counts();
    const statuses = [...new Set([...JOB_STATUSES, ...c.keys()])];
    return statuses.map((status) => ({ labels: { status }, value: c.get(status) ?? 0 }));
  });
  registry.gauge('baton_queue_pending_jobs', 'Jobs waiting for a runner', () => counts().get('pending') ?? 0);
  registry.gauge('baton_queue_oldest_pending_seconds', 'How long the longest-waiting pending job has waited (0 when none)', () => {
    // one seek in the partial index jobs_pending_queued
    const row = db.all<{ t: number | null }>(sql`SELECT min(queued_at) AS t FROM jobs WHERE status = 'pending'`)[0];
    return row?.t == null ? 0 : Math.max(0, (deps.clock.now() - row.t) / 1000);
  });
  registry.gauge('baton_runners_online', 'Runners that called within the online window, by runner protocol', () => {
    const rows = db.all<{ protocol: string; n: number }>(sql`
      SELECT protocol, count(*) AS n FROM runners WHERE contacted_at > ${deps.clock.now() - deps.onlineWindowMs} GROUP BY protocol`);
    const by = new Map(rows.map((r) => [r.protocol, r.n]));
    return [...new Set(['v1', 'v4', ...by.keys()])].map((protocol) => ({ labels: { protocol }, value: by.get(protocol) ?? 0 }));
  });
  registry.gauge('baton_long_polls_held', 'Job requests held open waiting for work (this process)', () => deps.notifier.waiting);
  const file = db.$client.filename;
  registry.gauge('baton_database_bytes', 'Size of the SQLite database with its WAL', () => {
    let total = 0;
    for (const f of [file, `${file}-wal`, `${file}-shm`]) try { total += statSync(f).size; } catch { /* not there */ }
    return total;
  });
  const size = new DirSize(deps.dataDir);
  registry.gauge('baton_data_dir_bytes', 'Bytes under the data dir (from the last background walk; refreshed at most every minute)', () => size.value());
  return size;
}

/**
 * The size of a folder tree without walking it per scrape: value() answers the last walk
 * and starts a new one in the background when that is old — at least a minute, and at least
 * 30× as long as the last walk took, so a data dir of a million trace files costs a few
 * percent of one core at most while it is scraped.
 */
export class DirSize {
  private last: number | null = null;
  private at = -Infinity;
  private tookMs = 0;
  private running: Promise<void> | null = null;

  constructor(private root: string, private minAgeMs = 60_000) {}

  value(): number | null {
    if (!this.running && performance.now() - this.at > Math.max(this.minAgeMs, this.tookMs * 30)) this.running = this.walk();
    return this.last;
  }

  /** Walks now (or joins the walk under way); for the first scrape and for tests. */
  async refresh(): Promise<number | null> {
    this.running ??= this.walk();
    await this.running;
    return this.last;
  }

  private async walk() {
    const started = performance.now();
    let total = 0;
    const dirs = [this.root];
    try {
      while (dirs.length) {
        const dir = dirs.pop()!;
        let names: string[];
        try { names = await readdir(dir); } catch { continue; }
        // in batches, so the event loop keeps serving while a big folder is counted
        for (let i = 0; i < names.length; i += 256) {
          const stats = await Promise.all(names.slice(i, i + 256).map((n) => lstat(join(dir, n)).then((s) => [n, s] as const, () => null)));
          for (const e of stats) {
            if (!e) continue;
            if (e[1].isDirectory()) dirs.push(join(dir, e[0]));
            else total += e[1].size;
          }
        }
      }
      this.last = total;
    } finally {
      this.at = performance.now();
      this.tookMs = this.at - started;
      this.running = null;
    }
  }
}
