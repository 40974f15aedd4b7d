/** `baton schedule create|list|play` — /api/v4/projects/:id/pipeline_schedules. */
import { JSON_HELP, JSON_OPTION, type Command } from './command';
import { ClientError } from './errors';
import { fields, printJson, table, time, write } from './output';
import { projectOf } from './triggers';

interface Schedule { id: number; description: string; ref: string; cron: string; cron_timezone: string; next_run_at: string; active: boolean; last_pipeline?: { id: number; status: string } | null }

const create: Command = {
  summary: 'schedule pipelines (--project, --ref, --cron)',
  usage: 'schedule create --project ID --ref REF --cron "CRON" [--timezone TZ] [--description TEXT] [--inactive] [--variable KEY=VALUE]... [--json]',
  help: `Creates a pipeline schedule (POST /api/v4/projects/:id/pipeline_schedules). Its pipelines
have source "schedule" (rules: - if: $CI_PIPELINE_SOURCE == "schedule").

  --project ID        the project (required)
  --ref REF           branch or tag (required)
  --cron "CRON"       five fields, e.g. "0 3 * * mon-fri", or @hourly, @daily, @weekly,
                      @monthly, @yearly (required)
  --timezone TZ       an IANA time zone such as Europe/Berlin (default UTC)
  --description TEXT  (default: the cron line)
  --inactive          create it switched off
  --variable K=V      a variable for its pipelines; repeat for more
${JSON_HELP}`,
  options: { project: { type: 'string' }, ref: { type: 'string' }, cron: { type: 'string' }, timezone: { type: 'string' }, description: { type: 'string' }, inactive: { type: 'boolean' }, variable: { type: 'string', multiple: true }, ...JSON_OPTION },
  async run(args, client) {
    const project = projectOf(args);
    const vars = args.list('variable').map((kv) => {
      const eq = kv.indexOf('=');
      if (eq < 1) throw new ClientError(`--variable: expected KEY=VALUE, got "${kv}"`);
      return { key: kv.slice(0, eq), value: kv.slice(eq + 1) };
    });
    const cron = args.required('cron');
    let s = await client.post<Schedule>(`/projects/${project}/pipeline_schedules`, {
      ref: args.required('ref'), cron, cron_timezone: args.string('timezone'), description: args.string('description') ?? cron, active: !args.flag('inactive'),
    });
    for (const v of vars) await client.post(`/projects/${project}/pipeline_schedules/${s.id}/variables`, v);
    if (vars.length) s = await client.get<Schedule>(`/projects/${project}/pipeline_schedules/${s.id}`);
    if (args.flag('json')) return printJson(s);
    await write(`Created schedule ${s.id} in project ${project}\n${fields([
      ['id', s.id], ['ref', s.ref], ['cron', `${s.cron} (${s.cron_timezone})`], ['active', s.active], ['next_run_at', time(s.next_run_at)],
    ])}`);
  },
};

const list: Command = {
  summary: "list a project's schedules",
  usage: 'schedule list --project ID [--json]',
  help: `Lists the pipeline schedules of a project.

  --project ID        the project (required)
${JSON_HELP}`,
  options: { project: { type: 'string' }, ...JSON_OPTION },
  async run(args, client) {
    const all = await client.list<Schedule>(`/projects/${projectOf(args)}/pipeline_schedules`);
    if (args.flag('json')) return printJson(all);
    if (all.length === 0) return write('No schedules (make one with `baton schedule create`).\n');
    await write(table(['ID', 'DESCRIPTION', 'REF', 'CRON', 'TIME ZONE', 'ACTIVE', 'NEXT RUN'],
      all.map((s) => [s.id, s.description, s.ref, s.cron, s.cron_timezone, s.active, s.active ? time(s.next_run_at) : '-'])));
  },
};

const play: Command = {
  summary: 'run a schedule now',
  usage: 'schedule play ID --project ID',
  help: `Runs a schedule now (POST …/pipeline_schedules/:id/play). The pipeline is created in the
background; \`baton schedule list\` and the schedule's last_pipeline show it.

  --project ID        the project (required)`,
  options: { project: { type: 'string' } },
  positionals: ['ID'],
  async run(args, client) {
    const project = projectOf(args);
    const id = args.id('ID', 'positional')!;
    await client.post(`/projects/${project}/pipeline_schedules/${id}/play`, {});
    await write(`Schedule ${id} queued to run now.\n`);
  },
};

export const scheduleCommands = { create, list, play };
