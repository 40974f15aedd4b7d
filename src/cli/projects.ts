/** `baton project create|list|webhook-secret|forge set` — /api/v4/projects. */
import { readFileSync } from 'node:fs';
import { JSON_HELP, JSON_OPTION, type Command } from './command';
import { ClientError } from './errors';
import { fields, printJson, table, time, write } from './output';
import type { Project } from './resources';

const create: Command = {
  summary: 'create a project; prints its id, path and runners_token',
  usage: 'project create --name NAME --repo-url URL [--namespace NS] [--path PATH] [--default-branch BRANCH] [--json]',
  help: `Creates a project (POST /api/v4/projects) and prints its id, path and runners_token
(the token a project-specific runner registers with).

  --name NAME         the project's name (required)
  --repo-url URL      what runners clone: any URL or path \`git clone\` accepts (required)
  --namespace NS      where it lives: <namespace>/<path> (default: your username)
  --path PATH         URL-safe path (default: derived from the name by the server)
  --default-branch B  default branch (default: main)
${JSON_HELP}`,
  options: { name: { type: 'string' }, 'repo-url': { type: 'string' }, namespace: { type: 'string' }, path: { type: 'string' }, 'default-branch': { type: 'string' }, ...JSON_OPTION },
  async run(args, client) {
    const project = await client.post<Project>('/projects', {
      name: args.required('name'),
      repo_url: args.required('repo-url'),
      namespace: args.string('namespace'),
      path: args.string('path'),
      default_branch: args.string('default-branch'),
    });
    if (args.flag('json')) return printJson(project);
    await write(`Created project ${project.id} (${project.name})\n${fields([
      ['id', project.id], ['path', project.path_with_namespace ?? project.path], ['repo_url', project.repo_url],
      ['default_branch', project.default_branch], ['runners_token', project.runners_token],
    ])}`);
  },
};

const list: Command = {
  summary: 'list projects',
  usage: 'project list [--json]',
  help: `Lists every project, newest first (all pages of GET /api/v4/projects).

${JSON_HELP}`,
  options: { ...JSON_OPTION },
  async run(args, client) {
    const projects = await client.list<Project>('/projects');
    if (args.flag('json')) return printJson(projects);
    if (projects.length === 0) return write('No projects yet (create one with `baton project create`).\n');
    await write(table(['ID', 'PATH', 'DEFAULT BRANCH', 'REPO URL', 'CREATED'],
      projects.map((p) => [p.id, p.path_with_namespace ?? p.path, p.default_branch, p.repo_url, time(p.created_at)])));
  },
};

function projectId(args: Parameters<Command['run']>[0]): number {
  const id = args.id('project');
  if (id === undefined) throw new ClientError(`--project is required (see baton ${args.command} --help)`);
  return id;
}

const webhookSecret: Command = {
  summary: "the project's webhook URL and secret (--rotate: a new secret)",
  usage: 'project webhook-secret --project ID [--rotate] [--json]',
  help: `Prints the URL and secret to enter in the forge's webhook settings (GET
/api/v4/projects/:id/webhook_secret). With --rotate a new secret is made first (POST
…/webhook_secret/rotate): deliveries signed with the old one are refused from then on.

  --project ID        the project (required)
  --rotate            make a new secret
${JSON_HELP}`,
  options: { project: { type: 'string' }, rotate: { type: 'boolean' }, ...JSON_OPTION },
  async run(args, client) {
    const id = projectId(args);
    const w = args.flag('rotate')
      ? await client.post<{ webhook_url: string; webhook_secret: string }>(`/projects/${id}/webhook_secret/rotate`, {})
      : await client.get<{ webhook_url: string; webhook_secret: string }>(`/projects/${id}/webhook_secret`);
    if (args.flag('json')) return printJson(w);
    await write(fields([['webhook_url', w.webhook_url], ['webhook_secret', w.webhook_secret]]));
  },
};

const forge: Command = {
  summary: 'where pipeline statuses go (--project, --kind, --api-url, --repo, [--forge-token])',
  usage: 'project forge set --project ID [--kind gitea|forgejo|github|gitlab] [--api-url URL] [--repo REPO] [--forge-token TOKEN | --forge-token-file PATH] [--json]',
  help: `Sets the forge a project's pipeline statuses are posted to (PUT /api/v4/projects/:id with
forge_kind, forge_api_url, forge_repo, forge_token). The token is write-only: it is never
shown again. \`--kind none\` removes the forge settings.

  --project ID        the project (required)
  --kind K            gitea, forgejo, github or gitlab
  --api-url URL       the API root: https://git.example.com/api/v1 (Gitea/Forgejo),
                      https://api.github.com, https://gitlab.example.com/api/v4
  --repo REPO         owner/name (GitLab: the project id or path)
  --forge-token T     a forge token that may set commit statuses ("" removes it)
  --forge-token-file PATH  read that token from a file ("-" = stdin) instead
${JSON_HELP}`,
  options: { project: { type: 'string' }, kind: { type: 'string' }, 'api-url': { type: 'string' }, repo: { type: 'string' }, 'forge-token': { type: 'string' }, 'forge-token-file': { type: 'string' }, ...JSON_OPTION },
  positionals: ['set'],
  async run(args, client) {
    if (args.positionals[0] !== 'set') throw new ClientError(`unknown command "project forge ${args.positionals[0]}", expected: set`);
    const id = projectId(args);
    const kind = args.string('kind');
    const file = args.string('forge-token-file');
    let token: string | undefined;
    if (file !== undefined) {
      try { token = readFileSync(file === '-' ? 0 : file, 'utf8').trim(); } catch (e) { throw new ClientError(`--forge-token-file: cannot read "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    }
    // (--token is the admin token of the connection, as for every client command)
    token ??= typeof args.raw('forge-token') === 'string' ? args.raw('forge-token') as string : undefined;
    const body: Record<string, unknown> = {
      ...(kind !== undefined ? { forge_kind: kind === 'none' ? '' : kind } : {}),
      ...(args.string('api-url') !== undefined ? { forge_api_url: args.string('api-url') } : {}),
      ...(args.string('repo') !== undefined ? { forge_repo: args.string('repo') } : {}),
      ...(token !== undefined ? { forge_token: token } : {}),
    };
    if (Object.keys(body).length === 0) throw new ClientError('project forge set: nothing to set (see baton project forge --help)');
    const p = await client.put<Project & { forge_kind: string | null; forge_api_url: string | null; forge_repo: string | null; forge_token_set: boolean }>(`/projects/${id}`, body);
    if (args.flag('json')) return printJson(p);
    await write(`Project ${p.id}: ${p.forge_kind ? 'statuses go to its forge' : 'no forge'}\n${fields([
      ['forge_kind', p.forge_kind], ['forge_api_url', p.forge_api_url], ['forge_repo', p.forge_repo], ['forge_token', p.forge_token_set ? 'set (write-only)' : 'not set'],
    ])}`);
  },
};

export const projectCommands = { create, list, 'webhook-secret': webhookSecret, forge };
