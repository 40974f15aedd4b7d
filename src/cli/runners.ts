/** `baton runner list` — GET /api/v4/runners (an admin's: every runner). */
import { JSON_HELP, JSON_OPTION, type Command } from './command';
import { printJson, table, time, write } from './output';
import type { Runner } from './resources';

const list: Command = {
  summary: 'list runners',
  usage: 'runner list [--json]',
  help: `Lists runners (all pages of GET /api/v4/runners): every runner, shared and
project-specific, for an admin; the runners of the projects you maintain otherwise.

${JSON_HELP}`,
  options: { ...JSON_OPTION },
  async run(args, client) {
    const runners = await client.list<Runner>('/runners');
    if (args.flag('json')) return printJson(runners);
    if (runners.length === 0) return write('No runners yet (register one with `gitlab-runner register` and the registration token).\n');
    await write(table(['ID', 'DESCRIPTION', 'TYPE', 'STATUS', 'TAGS', 'VERSION', 'CONTACTED'], runners.map((r) => [
      r.id, r.description || '-', r.runner_type ?? (r.is_shared ? 'instance_type' : 'project_type'),
      r.paused || r.active === false ? 'paused' : r.status ?? (r.online ? 'online' : 'offline'),
      r.tag_list?.length ? r.tag_list.join(',') : '-', r.version || '-', time(r.contacted_at) ?? 'never',
    ])));
  },
};

export const runnerCommands = { list };
