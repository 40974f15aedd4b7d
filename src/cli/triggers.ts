/** `baton trigger create|list` — POST/GET /api/v4/projects/:id/triggers. */
import { JSON_HELP, JSON_OPTION, type Args, type Command } from './command';
import { ClientError } from './errors';
import { fields, printJson, table, time, write } from './output';

interface Trigger { id: number; token: string; description: string; created_at: string; last_used: string | null }

export function projectOf(args: Args): number {
  const id = args.id('project');
  if (id === undefined) throw new ClientError(`--project is required (see baton ${args.command} --help)`);
  return id;
}

const create: Command = {
  summary: 'make a pipeline trigger token (shown once)',
  usage: 'trigger create --project ID [--description TEXT] [--json]',
  help: `Creates a trigger token (POST /api/v4/projects/:id/triggers) and prints it. The token is
shown only now: Baton keeps its hash. Start a pipeline with it:

  curl -X POST -F token=TOKEN -F ref=main -F "variables[DEPLOY]=yes" \\
    https://baton.example.com/api/v4/projects/ID/trigger/pipeline

  --project ID        the project (required)
  --description TEXT  what the token is for
${JSON_HELP}`,
  options: { project: { type: 'string' }, description: { type: 'string' }, ...JSON_OPTION },
  async run(args, client) {
    const project = projectOf(args);
    const tr = await client.post<Trigger>(`/projects/${project}/triggers`, { description: args.string('description') ?? '' });
    if (args.flag('json')) return printJson(tr);
    await write(`Created trigger ${tr.id} in project ${project} (the token is shown only now)\n${fields([
      ['id', tr.id], ['token', tr.token], ['description', tr.description],
      ['url', `${client.url}/api/v4/projects/${project}/trigger/pipeline`],
    ])}`);
  },
};

const list: Command = {
  summary: "list a project's trigger tokens",
  usage: 'trigger list --project ID [--json]',
  help: `Lists the trigger tokens of a project (GET /api/v4/projects/:id/triggers); a token shows
only its first characters.

  --project ID        the project (required)
${JSON_HELP}`,
  options: { project: { type: 'string' }, ...JSON_OPTION },
  async run(args, client) {
    const triggers = await client.list<Trigger>(`/projects/${projectOf(args)}/triggers`);
    if (args.flag('json')) return printJson(triggers);
    if (triggers.length === 0) return write('No trigger tokens (make one with `baton trigger create`).\n');
    await write(table(['ID', 'TOKEN', 'DESCRIPTION', 'CREATED', 'LAST USED'],
      triggers.map((tr) => [tr.id, `${tr.token}…`, tr.description || '-', time(tr.created_at), time(tr.last_used) ?? 'never'])));
  },
};

export const triggerCommands = { create, list };
