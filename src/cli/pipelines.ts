/** `baton pipeline create|show` — POST /projects/:id/pipeline, GET …/pipelines/:id (+ its jobs). */
import { readFileSync } from 'node:fs';
import { JSON_HELP, JSON_OPTION, locate, type Args, type Command } from './command';
import { ClientError } from './errors';
import { duration, fields, printJson, table, time, write } from './output';
import type { Job, Pipeline } from './resources';

function readCiFile(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new ClientError(`--file: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function variables(args: Args) {
  return args.list('variable').map((kv) => {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new ClientError(`--variable: expected KEY=VALUE, got "${kv}"`);
    return { key: kv.slice(0, eq), value: kv.slice(eq + 1) };
  });
}

const create: Command = {
  summary: 'start a pipeline (--project, --ref, [--sha], [--file])',
  usage: 'pipeline create --project ID --ref REF [--sha SHA] [--file PATH] [--variable KEY=VALUE]... [--json]',
  help: `Creates a pipeline (POST /api/v4/projects/:id/pipeline) and prints its id and status.
Without --file the server reads .gitlab-ci.yml at --sha (or the tip of --ref) from the
project's repository. A configuration error prints the server's message lines; no
pipeline is created then.

  --project ID        the project (required)
  --ref REF           branch or tag to build (required)
  --sha SHA           the commit (default: the tip of --ref, which the server asks the
                      repository for — give --sha when it cannot reach it)
  --file PATH         send this file's text as the pipeline configuration ("-" = stdin)
  --variable K=V      a pipeline variable; repeat for more
${JSON_HELP}`,
  options: { project: { type: 'string' }, ref: { type: 'string' }, sha: { type: 'string' }, file: { type: 'string' }, variable: { type: 'string', multiple: true }, ...JSON_OPTION },
  async run(args, client) {
    const projectId = args.id('project');
    if (projectId === undefined) throw new ClientError(`--project is required (see baton ${args.command} --help)`);
    const ref = args.required('ref');
    const file = args.string('file');
    const vars = variables(args);
    const body = {
      ref, sha: args.string('sha'),
      content: file === undefined ? undefined : readCiFile(file),
      variables: vars.length ? vars : undefined,
    };
    let pipeline: Pipeline;
    try {
      pipeline = await client.post<Pipeline>(`/projects/${projectId}/pipeline`, body);
    } catch (e) {
      if (e instanceof ClientError && e.status === 400 && e.lines.length) {
        const [first, ...more] = e.lines;
        throw new ClientError(more.length
          ? `pipeline not created, ${e.lines.length} problems:\n${e.lines.map((l) => `  ${l}`).join('\n')}`
          : `pipeline not created: ${first}`, e.status, e.lines);
      }
      throw e;
    }
    if (args.flag('json')) return printJson(pipeline);
    await write(`Created pipeline ${pipeline.id} in project ${pipeline.project_id ?? projectId}\n${fields([
      ['id', pipeline.id], ['status', pipeline.status], ['ref', pipeline.ref], ['sha', pipeline.sha], ['web_url', pipeline.web_url],
    ])}`);
  },
};

const show: Command = {
  summary: 'a pipeline and its jobs (--project ID, or found by id)',
  usage: 'pipeline show ID [--project ID] [--json]',
  help: `Shows a pipeline and its jobs.

The REST API addresses pipelines per project. With --project that project is asked
directly. Without it, the projects are asked in turn until one has pipeline ID (pipeline
ids are unique across a Baton instance) — one request per project, so give --project
on an instance with many projects.

  --project ID        the pipeline's project
  --json              print {…pipeline, jobs: […]} as the server sent them`,
  options: { project: { type: 'string' }, ...JSON_OPTION },
  positionals: ['ID'],
  async run(args, client) {
    const id = args.id('ID', 'positional')!;
    const { projectId, item: pipeline } = await locate<Pipeline>(client, 'pipeline', id, args.id('project'));
    const jobs = await client.list<Job>(`/projects/${projectId}/pipelines/${id}/jobs`);
    if (args.flag('json')) return printJson({ ...pipeline, jobs });
    jobs.sort((a, b) => a.id - b.id);
    await write(`Pipeline ${pipeline.id} (project ${projectId}): ${pipeline.status}\n${fields([
      ['ref', pipeline.tag ? `${pipeline.ref} (tag)` : pipeline.ref], ['sha', pipeline.sha], ['source', pipeline.source],
      ['created', time(pipeline.created_at)], ['started', time(pipeline.started_at)], ['finished', time(pipeline.finished_at)],
      ['duration', duration(pipeline.duration)], ['web_url', pipeline.web_url],
    ])}\n`);
    if (jobs.length === 0) return write('No jobs.\n');
    await write(table(['JOB', 'STAGE', 'NAME', 'STATUS', 'RUNNER', 'DURATION'], jobs.map((j) => [
      j.id, j.stage, j.name,
      j.status + (j.allow_failure && j.status === 'failed' ? ' (allowed)' : '') + (j.failure_reason ? ` (${j.failure_reason})` : ''),
      j.runner ? `#${j.runner.id}${j.runner.description ? ` ${j.runner.description}` : ''}` : '-',
      duration(j.duration) ?? '-',
    ])));
  },
};

export const pipelineCommands = { create, show };
