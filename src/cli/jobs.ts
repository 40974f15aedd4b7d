/** `baton job trace ID [--follow]` — GET /projects/:id/jobs/:job_id/trace, followed live with --follow. */
import { locate, type Command } from './command';
import type { BatonClient } from './client';
import { ClientError } from './errors';
import { write } from './output';
import type { Job } from './resources';
import { readEvents } from './sse';

/** A job in one of these never changes again (core/jobs.ts FINAL_STATUSES). */
const FINAL = new Set(['success', 'failed', 'canceled', 'skipped']);
/** The server sends a keep-alive every 15 s; this long without a byte means the connection is dead. */
const SILENCE_MS = 45_000;
/** Reconnection attempts in a row before giving up (server gone for good). */
const MAX_RECONNECTS = 30;

const trace: Command = {
  summary: 'print a job\'s log; --follow streams it until the job ends',
  usage: 'job trace ID [--project ID] [--follow [--interval SECONDS]]',
  help: `Prints a job's log as stored so far (GET /api/v4/projects/:id/jobs/:job_id/trace).

  --project ID        the job's project; without it the projects are asked in turn until
                      one has job ID (job ids are unique across a Baton instance)
  --follow, -f        keep printing new output as it arrives, until the job ends (a live
                      stream: GET …/jobs/:job_id/trace/stream; a dropped connection is
                      resumed where it stopped, nothing is printed twice)
  --interval SECONDS  with --follow, how long to wait before reconnecting (default 1)

Exit status: 0 when the log was printed. With --follow it reflects the job, as
GitLab users expect: 0 when the job ends in success, 1 when it ends failed, canceled
or skipped (the reason is printed on stderr).`,
  options: { project: { type: 'string' }, follow: { type: 'boolean', short: 'f' }, interval: { type: 'string' } },
  positionals: ['ID'],
  async run(args, client) {
    const id = args.id('ID', 'positional')!;
    const intervalMs = args.seconds('interval', 1) * 1000;
    const { projectId } = await locate<Job>(client, 'job', id, args.id('project'));
    const path = `/projects/${projectId}/jobs/${id}`;
    if (!args.flag('follow')) return write(await client.bytes(`${path}/trace`));
    const job = await follow(client, path, intervalMs);
    if (job.status !== 'success') {
      throw new ClientError(`job ${id} ${job.status}${job.failure_reason ? ` (${job.failure_reason})` : ''}`);
    }
  },
};

/**
 * Prints the log stream's slices as they come. Event ids are byte offsets, so after a dropped
 * connection the stream is resumed with Last-Event-ID and nothing is printed twice or missed.
 * The stream's `end` comes after the last byte; the job is then read once for its outcome.
 */
async function follow(client: BatonClient, path: string, reconnectMs: number): Promise<Job> {
  let lastId: string | undefined;
  let printed = 0;
  let skip = 0;
  for (let attempt = 0; ; attempt++) {
    const controller = new AbortController();
    let watchdog: Timer | undefined;
    const alive = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(), SILENCE_MS);
    };
    try {
      alive();
      const res = await client.stream(`${path}/trace/stream`, { lastEventId: lastId, signal: controller.signal });
      attempt = 0;
      for await (const e of readEvents(tap(res.body!, alive))) {
        if (e.event === 'trace') {
          const bytes = Buffer.from(JSON.parse(e.data) as string);
          const shown = Math.min(skip, bytes.length);
          skip -= shown;
          printed += bytes.length - shown;
          await write(bytes.subarray(shown));
          lastId = e.id;
        } else if (e.event === 'reset') {
          // The log was replaced by a shorter one: what was printed is not printed again.
          skip = printed;
          printed = 0;
          lastId = e.id;
        } else if (e.event === 'end') {
          return await client.get<Job>(path);
        }
      }
    } catch (e) {
      // Answers of the server (401, 404…) end here; a dropped or dead connection is retried.
      if (e instanceof ClientError && e.status !== undefined) throw e;
      if (attempt >= MAX_RECONNECTS) throw e instanceof ClientError ? e : new ClientError(`the log stream broke: ${(e as Error).message}`);
    } finally {
      clearTimeout(watchdog);
      controller.abort();
    }
    await Bun.sleep(reconnectMs);
  }
}

/** The body, calling `onData` for every chunk (keep-alives included). */
async function* tap(body: ReadableStream<Uint8Array>, onData: () => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    onData();
    yield chunk;
  }
}

export const jobCommands = { trace };
