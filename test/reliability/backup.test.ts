/**
 * `baton backup` under load and `baton restore`, as real processes:
 * - a Baton process serves 4 simulated v4 runners draining 48 jobs (logs streamed line by
 *   line, archives of 64 KiB–2 MiB and junit reports uploaded) and one upload trickling in over seconds, while
 *   `baton backup` runs; the archive is restored into a fresh dir and a Baton started on it
 *   serves every job that had finished at the snapshot with its whole log and its archive,
 *   byte for byte, and its test report; jobs still running then have a prefix of their log; the half-uploaded
 *   archive is not there; the database passes its integrity check;
 * - the consistency rules: an archive or report file replaced or deleted after the snapshot is
 *   left out and its row cleared in the copy; a trace of a job created after the snapshot is
 *   left out; the key of sealed tokens comes along (0600); format-1 archives still restore;
 * - restore refuses a non-empty dir, an archive with a foreign or climbing entry name, a
 *   damaged or truncated archive — each with one line, leaving nothing behind.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backup, restore } from '../../src/core/backup';
import { TarWriter } from '../../src/core/backup/tar';
import { SecretBox } from '../../src/core/secret-box';
import { FakeRunnerV4, multipartStream, type RunResult } from '../support/fake-runner-v4';
import { makePipeline, makeProject, startTestServer } from '../support/harness';
import { integrityCheck } from './support/data';
import { ADMIN_TOKEN, REGISTRATION_TOKEN, spawnBaton, tempDataDir, type BatonProcess } from './support/process';

const ROOT = join(import.meta.dir, '../..');
const MiB = 1024 * 1024;
const temps: string[] = [];
const processes: BatonProcess[] = [];
afterAll(async () => {
  for (const p of processes) await p.stop().catch(() => {});
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});
const temp = (tag: string) => { const d = tempDataDir(tag); temps.push(d); return d; };

async function baton(args: string[]) {
  const proc = Bun.spawn([process.execPath, 'run', join(ROOT, 'src/main.ts'), ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const archiveOf = (i: number) => new Uint8Array(64 * 1024 + ((i * 131_071) % (2 * MiB))).map((_, k) => (k * 7 + i) % 251);
const api = (b: BatonProcess, path: string, init: RequestInit = {}) =>
  fetch(b.url + path, { ...init, headers: { 'PRIVATE-TOKEN': ADMIN_TOKEN, 'content-type': 'application/json', ...(init.headers as Record<string, string> ?? {}) } });

describe('backup while Baton serves runners, restore, serve again', () => {
  test('every job finished at the snapshot comes back with its whole log and its archive', async () => {
    const dataDir = temp('bk-live');
    const live = await spawnBaton(dataDir, { 'poll-timeout': '1' });
    processes.push(live);
    const JOBS = 48;
    const project = await (await api(live, '/api/v4/projects', { method: 'POST', body: JSON.stringify({ name: 'load', repo_url: 'https://git.example.invalid/load.git' }) })).json() as { id: number };
    for (let i = 1; i <= JOBS; i++) {
      const yaml = `job_${i}:\n  script: [make]\n  artifacts:\n    paths: [out/]\n    reports:\n      junit: junit.xml\n`;
      const res = await api(live, `/api/v4/projects/${project.id}/pipeline`, { method: 'POST', body: JSON.stringify({ ref: 'main', sha: 'b'.repeat(40), content: yaml }) });
      expect(res.status).toBe(201);
    }
    const behaviours = Object.fromEntries(Array.from({ length: JOBS }, (_, k) => [`job_${k + 1}`, {
      output: Array.from({ length: 24 }, (_, n) => `job_${k + 1} line ${n} ${'.'.repeat(n * 3)}`), artifacts: archiveOf(k + 1),
      reports: { junit: `<testsuite name="s"><testcase classname="job_${k + 1}" name="case_${k + 1}"/></testsuite>` },
    }]));

    // a second project whose one job uploads its archive slowly, across the backup
    const slowProject = await (await api(live, '/api/v4/projects', { method: 'POST', body: JSON.stringify({ name: 'slow', repo_url: 'https://git.example.invalid/slow.git' }) })).json() as { id: number; runners_token: string };
    await api(live, `/api/v4/projects/${slowProject.id}/pipeline`, { method: 'POST', body: JSON.stringify({ ref: 'main', sha: 'c'.repeat(40), content: 'slow:\n  script: [x]\n' }) });
    const slowRunner = await FakeRunnerV4.register(live.url, slowProject.runners_token);
    const slowJob = (await slowRunner.poll())!;
    expect(slowJob.job_info.name).toBe('slow');

    const results = new Map<number, RunResult>();
    let stop = false;
    const runners = await Promise.all(Array.from({ length: 4 }, (_, k) => FakeRunnerV4.register(live.url, REGISTRATION_TOKEN, { description: `load-${k}`, updateIntervalMs: 10 })));
    const loops = runners.map(async (r) => {
      while (!stop) {
        const done = await r.runNext(behaviours, { maxPolls: 1 });
        if (done) results.set(done.jobId, done);
        else await Bun.sleep(20);
      }
    });
    while (results.size < 12) await Bun.sleep(20);

    // the trickle: 3 MiB in 48 slices, 80 ms apart (about 4 s), started before the backup
    const boundary = 'trickle-boundary';
    const slices = multipartStream(boundary, 'slow.zip', new Uint8Array(3 * MiB).fill(3), 64 * 1024).getReader();
    const trickle = fetch(`${live.url}/api/v4/jobs/${slowJob.id}/artifacts`, {
      method: 'POST', headers: { 'JOB-TOKEN': slowJob.token, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: new ReadableStream<Uint8Array>({ async pull(c) { await Bun.sleep(80); const { done, value } = await slices.read(); if (done) c.close(); else c.enqueue(value); } }),
    }).then((r) => r.status);
    await Bun.sleep(300);

    const finishedBefore = new Set(results.keys());
    const file = join(temp('bk-file'), 'baton.tar');
    const started = performance.now();
    const made = await baton(['backup', '--data-dir', dataDir, '--to', file]);
    const took = performance.now() - started;
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^Backup of .* written to .*baton\.tar: \d+ jobs, \d+ traces, \d+ artifacts, .* in [\d.]+ s/);
    const finishedDuring = results.size - finishedBefore.size;
    console.log(`backup under load: ${(took / 1000).toFixed(2)} s (process included), ${(statSync(file).size / MiB).toFixed(1)} MiB; ${finishedDuring} jobs finished meanwhile — ${made.stdout.trim()}`);
    expect(await trickle).toBe(201); // the upload went on undisturbed
    stop = true;
    await Promise.all(loops);
    expect(await live.stop()).toBe(0);

    const restored = join(temp('bk-restored'), 'data');
    const r = await baton(['restore', '--from', file, '--data-dir', restored]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`into ${restored}`);
    expect(integrityCheck(restored)).toBe('ok');

    const again = await spawnBaton(restored);
    processes.push(again);
    const jobs = await (await api(again, `/api/v4/projects/${project.id}/jobs?per_page=100`)).json() as { id: number; name: string; status: string; artifacts_file?: { filename: string } | null }[];
    const byId = new Map(jobs.map((j) => [j.id, j]));
    let checkedLogs = 0;
    let checkedArchives = 0;
    for (const id of finishedBefore) {
      const j = byId.get(id);
      expect({ id, status: j?.status }).toEqual({ id, status: 'success' });
    }
    for (const j of jobs) {
      const sent = results.get(j.id);
      const trace = await (await api(again, `/api/v4/projects/${project.id}/jobs/${j.id}/trace`)).text();
      if (j.status === 'success') {
        expect({ id: j.id, trace }).toEqual({ id: j.id, trace: sent!.trace });
        const a = await api(again, `/api/v4/projects/${project.id}/jobs/${j.id}/artifacts`);
        expect(a.status).toBe(200);
        const bytes = new Uint8Array(await a.arrayBuffer());
        expect({ id: j.id, same: Buffer.from(bytes).equals(Buffer.from(behaviours[j.name].artifacts)) }).toEqual({ id: j.id, same: true });
        // its junit report came along: the pipeline's test report names its one case
        const pipelineId = (await (await api(again, `/api/v4/projects/${project.id}/jobs/${j.id}`)).json() as { pipeline: { id: number } }).pipeline.id;
        const report = await (await api(again, `/api/v4/projects/${project.id}/pipelines/${pipelineId}/test_report`)).json() as { total_count: number; test_suites: { test_cases: { name: string }[] }[] };
        expect({ id: j.id, cases: report.test_suites.flatMap((x) => x.test_cases.map((c) => c.name)) }).toEqual({ id: j.id, cases: [`case_${j.name.slice(4)}`] });
        checkedLogs++;
        checkedArchives++;
      } else if (j.status === 'running' && sent) {
        // still running at the snapshot: what is there is the start of what the runner sent
        expect(sent.trace.startsWith(trace)).toBe(true);
      }
    }
    expect(checkedLogs).toBeGreaterThanOrEqual(finishedBefore.size);
    // the archive that was still arriving is not in the backup
    const slowArtifacts = await api(again, `/api/v4/projects/${slowProject.id}/jobs/${slowJob.id}/artifacts`);
    expect(slowArtifacts.status).toBe(404);
    // the restored instance serves runners: the same registration token, a new job runs
    await api(again, `/api/v4/projects/${project.id}/pipeline`, { method: 'POST', body: JSON.stringify({ ref: 'main', sha: 'd'.repeat(40), content: 'after_restore:\n  script: [x]\n' }) });
    const runner = await FakeRunnerV4.register(again.url, REGISTRATION_TOKEN, { tags: ['nothing-else'], runUntagged: true });
    let after: RunResult | null = null;
    for (let i = 0; i < 100 && after?.name !== 'after_restore'; i++) after = await runner.runNext({ ...behaviours, after_restore: { output: ['fine'] } }, { maxPolls: 1 });
    expect(after?.state).toBe('success');
    console.log(`restored: ${checkedLogs} finished jobs with log and archive checked (${finishedBefore.size} finished before the backup started)`);
    expect(checkedArchives).toBe(checkedLogs);
    expect(await again.stop()).toBe(0);
  }, 180_000);
});

describe('what a backup holds', () => {
  test('an archive replaced or deleted after the snapshot is left out and cleared; traces of unknown jobs are left out', async () => {
    const s = await startTestServer();
    try {
      const project = makeProject(s.core);
      await makePipeline(s.core, project.id, 'a:\n  script: [x]\nb:\n  script: [x]\nc:\n  script: [x]\n');
      const { runner } = s.core.runners.create({ description: 'r', protocol: 'v4' });
      const claimed = [1, 2, 3].map(() => s.core.jobs.claim(s.core.runners.get(runner.id)));
      const jobs = claimed.map((c) => (c.outcome === 'job' ? c.context : null)!);
      for (const c of jobs) {
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(1000).fill(c.job.id)]), 'a.zip');
        expect((await fetch(`${s.url}/api/v4/jobs/${c.job.id}/artifacts`, { method: 'POST', headers: { 'JOB-TOKEN': c.token }, body: form })).status).toBe(201);
        s.core.jobs.appendTrace(c.job, 0, new TextEncoder().encode(`log of ${c.job.id}\n`));
      }
      const [kept, replaced, deleted] = jobs.map((c) => c.job.id);
      // a second upload renamed into place whose row is not updated yet; an archive deleted by hand
      writeFileSync(join(s.dataDir, 'artifacts', `${replaced}.zip`), new Uint8Array(2000));
      rmSync(join(s.dataDir, 'artifacts', `${deleted}.zip`));
      // a trace file of a job the database does not know
      writeFileSync(join(s.dataDir, 'traces', '999999.log'), 'stray\n');
      const file = join(temp('bk-rules'), 'b.tar');
      const m = backup(s.dataDir, file, { version: 'test' });
      expect({ artifacts: m.artifacts, dropped: m.artifactsDropped, traces: m.traces, jobs: m.jobs }).toEqual({ artifacts: 1, dropped: 2, traces: 3, jobs: 3 });
      expect(Object.keys(m.files).sort()).toEqual(['artifacts/' + kept + '.zip', 'baton.db', ...jobs.map((c) => `traces/${c.job.id}.log`)].sort());
      const into = join(temp('bk-rules-out'), 'data');
      restore(file, into);
      expect(readdirSync(into).sort()).toEqual(['artifacts', 'baton.db', 'tmp', 'traces']);
      const db = new Database(join(into, 'baton.db'), { readonly: true });
      const rows = db.query('SELECT id, artifacts_file, artifacts_size FROM jobs ORDER BY id').all() as { id: number; artifacts_file: string | null; artifacts_size: number | null }[];
      db.close();
      expect(rows).toEqual([
        { id: kept, artifacts_file: 'a.zip', artifacts_size: 1000 },
        { id: replaced, artifacts_file: null, artifacts_size: null },
        { id: deleted, artifacts_file: null, artifacts_size: null },
      ]);
      expect(readFileSync(join(into, 'traces', `${kept}.log`), 'utf8')).toBe(`log of ${kept}\n`);
      expect(existsSync(join(into, 'traces', '999999.log'))).toBe(false);
    } finally {
      await s.stop();
    }
  });
});

describe('a job still pending at the snapshot', () => {
  test('comes back pending with an empty log, even if a runner took it before its trace was copied; its next runner starts clean', async () => {
    const s = await startTestServer();
    const into = join(temp('bk-pending-out'), 'data');
    let jobId = 0;
    try {
      const project = makeProject(s.core);
      const pipeline = await makePipeline(s.core, project.id, 'later:\n  script: [x]\n');
      const job = s.core.pipelines.latestJobs(pipeline.id)[0];
      jobId = job.id;
      expect(job.status).toBe('pending');
      // What the copy meets when a live runner took the job between the database snapshot
      // and the copy of the traces: the snapshot says pending, the disk has that runner's log.
      writeFileSync(join(s.dataDir, 'traces', `${job.id}.log`), 'Running with gitlab-runner 11.11.4 on the old instance\n'.repeat(12));
      const file = join(temp('bk-pending'), 'b.tar');
      const m = backup(s.dataDir, file, { version: 'test' });
      expect(m.files[`traces/${job.id}.log`]).toBeUndefined();
      restore(file, into);
    } finally {
      await s.stop();
    }
    const again = await startTestServer({}, { dataDir: into });
    try {
      expect(again.core.jobs.get(jobId).status).toBe('pending');
      expect(again.core.jobs.traceLength(jobId)).toBe(0);
      const runner = await FakeRunnerV4.register(again.url, again.core.projects.get(again.core.jobs.get(jobId).projectId).runnersToken);
      const done = await runner.runNext({ later: { output: ['fresh start'] } }, { maxPolls: 1 });
      expect(done?.state).toBe('success');
      expect(again.core.jobs.readTrace(jobId)).toEqual(new TextEncoder().encode(done!.trace));
    } finally {
      await again.stop();
    }
  });
});

describe('report files and the secrets key travel with the database', () => {
  const JUNIT = '<testsuite name="s"><testcase classname="c" name="ok"/><testcase classname="c" name="bad"><failure>no</failure></testcase></testsuite>';
  test('reports, derived test cases and secret.key are carried; one replaced, deleted or missing is left out and its row cleared', async () => {
    const s = await startTestServer();
    const into = join(temp('bk-reports-out'), 'data');
    try {
      const project = makeProject(s.core);
      const yaml = ['kept', 'replaced', 'deleted', 'cases_lost'].map((n) => `${n}:
  script: [x]
  artifacts:
    reports:
      junit: junit.xml
      dotenv: build.env
`).join('');
      const pipeline = await makePipeline(s.core, project.id, yaml);
      const runner = await FakeRunnerV4.register(s.url, project.runnersToken);
      // each job's runner uploads its two reports (gzip, as modern runners do)
      const behaviours = Object.fromEntries(['kept', 'replaced', 'deleted', 'cases_lost'].map((n) => [n, { reports: { junit: JUNIT, dotenv: `FROM_${n.toUpperCase()}=yes\n` } }]));
      for (let i = 0; i < 4; i++) expect(await runner.runNext(behaviours, { maxPolls: 1 })).not.toBeNull();
      const jobs = s.core.pipelines.latestJobs(pipeline.id);
      expect(jobs.map((j) => [j.status, s.core.artifacts.reports(j.id).length])).toEqual([['success', 2], ['success', 2], ['success', 2], ['success', 2]]);
      const id = Object.fromEntries(jobs.map((j) => [j.name, j.id]));
      // a hook token sealed with the data dir's key
      const hook = await s.api(`/api/v4/projects/${project.id}/hooks`, { method: 'POST', json: { url: 'https://hooks.example.com/x', token: 'hook-secret-1', job_events: true } });
      expect(hook.status).toBe(201);
      writeFileSync(join(s.dataDir, 'artifacts', `${id.replaced}.junit`), new Uint8Array(7)); // another size than its row says
      rmSync(join(s.dataDir, 'artifacts', `${id.deleted}.dotenv`));
      rmSync(join(s.dataDir, 'artifacts', `${id.cases_lost}.junit.json`));
      const file = join(temp('bk-reports'), 'b.tar');
      const m = backup(s.dataDir, file, { version: 'test' });
      expect({ reports: m.reports, dropped: m.reportsDropped, format: m.format }).toEqual({ reports: 4 * 2 + 4 - 3, dropped: 3, format: 'baton-backup/2' });
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(Object.keys(m.files).filter((n) => n.startsWith('artifacts/')).sort()).toEqual([
        `artifacts/${id.kept}.dotenv`, `artifacts/${id.kept}.junit`, `artifacts/${id.kept}.junit.json`,
        `artifacts/${id.replaced}.dotenv`, `artifacts/${id.replaced}.junit.json`,
        `artifacts/${id.deleted}.junit`, `artifacts/${id.deleted}.junit.json`,
        `artifacts/${id.cases_lost}.dotenv`, `artifacts/${id.cases_lost}.junit`,
      ].sort());
      expect(m.files['secret.key']).toBeDefined();

      restore(file, into);
      expect(statSync(join(into, 'secret.key')).mode & 0o777).toBe(0o600);
      const db = new Database(join(into, 'baton.db'), { readonly: true });
      const rows = db.query('SELECT job_id, file_type FROM job_artifacts ORDER BY job_id, file_type').values();
      const tests = db.query('SELECT job_id FROM test_reports ORDER BY job_id').values();
      const sealed = (db.query('SELECT token_enc FROM project_hooks').values() as [string][])[0][0];
      db.close();
      expect(rows).toEqual([[id.kept, 'dotenv'], [id.kept, 'junit'], [id.replaced, 'dotenv'], [id.deleted, 'junit'], [id.cases_lost, 'dotenv'], [id.cases_lost, 'junit']]);
      expect(tests).toEqual([[id.kept], [id.replaced], [id.deleted]]);
      // every row names a file that is there, byte for byte
      for (const [job, type] of rows as [number, string][]) {
        expect(readFileSync(join(into, 'artifacts', `${job}.${type}`)).equals(readFileSync(join(s.dataDir, 'artifacts', `${job}.${type}`)))).toBe(true);
      }
      expect(new SecretBox(into).open(sealed)).toBe('hook-secret-1');
      // kept apart on request
      const keyless = backup(s.dataDir, join(temp('bk-keyless'), 'k.tar'), { version: 'test', withoutSecretKey: true });
      expect(keyless.files['secret.key']).toBeUndefined();
    } finally {
      await s.stop();
    }
    // the restored dir serves the test report (cases from the derived file) and the dotenv variables
    const again = await startTestServer({}, { dataDir: into });
    try {
      const [project] = again.core.projects.list(0, 1).rows;
      const p = again.core.pipelines.list(project.id, { offset: 0, limit: 1 }).rows[0];
      const report = await (await again.api(`/api/v4/projects/${p.projectId}/pipelines/${p.id}/test_report`)).json() as { total_count: number; test_suites: { name: string; test_cases: unknown[] }[] };
      expect(report.total_count).toBe(6);
      expect(report.test_suites.map((x) => x.test_cases.length)).toEqual([2, 2, 2]);
    } finally {
      await again.stop();
    }
  });

  test('an archive of format 1 (no reports, no key) still restores', async () => {
    const s = await startTestServer();
    try {
      await makePipeline(s.core, makeProject(s.core).id, 'a:\n  script: [x]\n');
      const db = new Uint8Array(readFileSync(join(s.dataDir, 'baton.db')));
      const { createHash } = await import('node:crypto');
      const manifest = { format: 'baton-backup/1', createdAt: new Date().toISOString(), version: 'old', jobs: 1, traces: 0, artifacts: 0, artifactsDropped: 0,
        files: { 'baton.db': { size: db.length, sha256: createHash('sha256').update(db).digest('hex') } } };
      const path = join(temp('bk-v1'), 'old.tar');
      const fd = openSync(path, 'w');
      const tar = new TarWriter(fd);
      tar.folder('artifacts'); tar.folder('traces');
      tar.bytes('baton.db', db);
      tar.bytes('backup.json', new TextEncoder().encode(JSON.stringify(manifest)));
      tar.end();
      closeSync(fd);
      const into = join(temp('bk-v1-out'), 'data');
      expect(restore(path, into).format).toBe('baton-backup/1');
      expect(integrityCheck(into)).toBe('ok');
    } finally {
      await s.stop();
    }
  });
});

describe('restore refuses what it cannot trust, in one line, leaving nothing', () => {
  let good = '';
  const setup = async () => {
    if (good) return good;
    const s = await startTestServer();
    await makePipeline(s.core, makeProject(s.core).id, 'a:\n  script: [x]\n');
    good = join(temp('bk-good'), 'good.tar');
    backup(s.dataDir, good, { version: 'test' });
    await s.stop();
    return good;
  };
  const forged = (entries: [string, Uint8Array][]) => {
    const path = join(temp('bk-forged'), 'f.tar');
    const fd = openSync(path, 'w');
    const tar = new TarWriter(fd);
    for (const [name, data] of entries) tar.bytes(name, data);
    tar.end();
    closeSync(fd);
    return path;
  };

  test.each([
    ['a non-empty data dir', async (target: string) => { mkdirSync(target, { recursive: true }); writeFileSync(join(target, 'x'), 'x'); return setup(); }, /is not empty; restore makes a new data dir and never overwrites one/],
    ['an entry that climbs out', async () => forged([['../evil', new Uint8Array(1)]]), /unexpected entry "\.\.\/evil"/],
    ['a foreign entry', async () => forged([['etc/passwd', new Uint8Array(1)]]), /unexpected entry "etc\/passwd"/],
    ['no manifest', async () => forged([['baton.db', new Uint8Array(1)]]), /no backup\.json/],
    ['a damaged entry', async () => {
      const bytes = readFileSync(await setup());
      // the database's first content byte (after the two folders' and its own header)
      bytes[512 * 3 + 100] ^= 0xff;
      const path = join(temp('bk-bad'), 'bad.tar');
      writeFileSync(path, bytes);
      return path;
    }, /1 entry does not match backup\.json \(baton\.db\)/],
    ['a truncated archive', async () => {
      const bytes = readFileSync(await setup());
      const path = join(temp('bk-cut'), 'cut.tar');
      writeFileSync(path, bytes.subarray(0, bytes.length - 5000));
      return path;
    }, /truncated|without its end marker|no backup\.json/],
    ['not a tar file', async () => { const p = join(temp('bk-txt'), 'x.tar'); writeFileSync(p, 'hello '.repeat(200)); return p; }, /checksum mismatch/],
  ] as const)('%s', async (_what, make, message) => {
    const parent = temp('bk-target');
    const target = join(parent, 'data');
    const from = await make(target);
    const r = await baton(['restore', '--from', from, '--data-dir', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // no staging folder left beside the target, and no half data dir
    expect(readdirSync(parent).filter((n) => n.includes('restoring'))).toEqual([]);
    if (!_what.startsWith('a non-empty')) expect(existsSync(target)).toBe(false);
  });

  test('backup: a dir without a database, an existing --to, and a missing --to are one line each', async () => {
    const empty = temp('bk-empty');
    expect((await baton(['backup', '--data-dir', empty, '--to', join(empty, 'x.tar')])).stderr).toMatch(/^baton: --data-dir .* holds no Baton database \(baton\.db\)\n$/);
    const file = await setup();
    const s = await startTestServer();
    try {
      expect((await baton(['backup', '--data-dir', s.dataDir, '--to', file])).stderr).toMatch(/^baton: --to .* exists already; give a new file name\n$/);
      expect((await baton(['backup', '--data-dir', s.dataDir])).stderr).toBe('baton: --to: expected the file to write the backup to\n');
    } finally {
      await s.stop();
    }
  });
});
