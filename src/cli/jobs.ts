/** `baton job trace ID [--follow]` — GET /projects/:id/jobs/:job_id/trace, polled with --follow. */
import { locate, type Command } from './command';
import type { BatonClient } from './client';
import { ClientError } from './errors';
import { write } from './output';
import type { Job } from './resources';

/** A job in one of these never changes again (core/jobs.ts FINAL_STATUSES). */
const FINAL = new Set(['success', 'failed', 'canceled', 'skipped']);

const trace: Command = {
  summary: 'print a job\'s log; --follow streams it until the job ends',
  usage: 'job trace ID [--project ID] [--follow [--interval SECONDS]]',
  help: `Prints a job's log as stored so far (GET /api/v4/projects/:id/jobs/:job_id/trace).

  --project ID        the job's project; without it the projects are asked in turn until
                      one has job ID (job ids are unique across a Baton instance)
  --follow, -f        keep printing new output as it arrives, until the job ends
  --interval SECONDS  how often --follow polls (default 1)

Exit status: 0 when the log was printed. With --follow it reflects the job, as
GitLab users expect: 0 when the job ends in success, 1 when it ends failed, canceled
or skipped (the reason is printed on stderr).`,
  options: { project: { type: 'string' }, follow: { type: 'boolean', short: 'f' }, interval: { type: 'string' } },
  positionals: ['ID'],
  async run(args, client) {
    const id = args.id('ID', 'positional')!;
    const intervalMs = args.seconds('interval', 1) * 1000;
    const { projectId, item } = await locate<Job>(client, 'job', id, args.id('project'));
    const path = `/projects/${projectId}/jobs/${id}`;
    if (!args.flag('follow')) return write(await client.bytes(`${path}/trace`));
    const job = await follow(client, path, item, intervalMs);
    if (job.status !== 'success') {
      throw new ClientError(`job ${id} ${job.status}${job.failure_reason ? ` (${job.failure_reason})` : ''}`);
    }
  },
};

/**
 * Prints only the bytes not printed yet, each poll. The status is read BEFORE the log, so
 * once a final status is seen the log read after it is complete and nothing is missed.
 */
async function follow(client: BatonClient, path: string, first: Job, intervalMs: number): Promise<Job> {
  let printed = 0;
  let job = first;
  for (;;) {
    const log = await client.bytes(`${path}/trace`);
    if (log.length > printed) {
      await write(log.subarray(printed));
      printed = log.length;
    }
    // A log replaced by a shorter one (v1 runners send the whole log at the end) is not re-printed.
    else printed = log.length;
    if (FINAL.has(job.status)) return job;
    await Bun.sleep(intervalMs);
    job = await client.get<Job>(path);
  }
}

export const jobCommands = { trace };
