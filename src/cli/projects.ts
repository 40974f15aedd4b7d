/** `baton project create|list` — POST/GET /api/v4/projects. */
import { JSON_HELP, JSON_OPTION, type Command } from './command';
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

export const projectCommands = { create, list };
