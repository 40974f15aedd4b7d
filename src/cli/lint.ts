/**
 * `baton lint [FILE] --project ID [--ref REF] [--dry-run]` — CI Lint before pushing:
 * POST /api/v4/projects/:id/ci/lint with FILE's text, or without FILE the project's own
 * .gitlab-ci.yml (GET …/ci/lint at --ref). Exit 0 when valid, 1 when not; each error on
 * its own line (stderr), warnings too.
 */
import { readFileSync } from 'node:fs';
import { JSON_HELP, JSON_OPTION, type Command } from './command';
import { ClientError } from './errors';
import { printJson, write } from './output';

interface LintAnswer { valid: boolean; errors: string[]; warnings: string[]; jobs?: Array<{ name: string; stage: string; when: string }> }

export const lintCommand: Command = {
  summary: 'check a .gitlab-ci.yml (FILE, or the project\'s own at --ref)',
  usage: 'lint [FILE] --project ID [--ref REF] [--dry-run] [--jobs] [--json]',
  help: `Checks a CI/CD configuration with the server's CI Lint (POST /api/v4/projects/:id/ci/lint)
and prints "valid" or each error on its own line; exits 0 when valid, 1 when not. Local
includes are read from the project's repository.

  FILE                the file to check ("-" = stdin); without it the server checks the
                      project's own .gitlab-ci.yml at --ref (default: the default branch)
  --project ID        the project (required)
  --ref REF           branch or tag: for --dry-run, and for the project's own file
  --dry-run           simulate the pipeline a push to REF would create (rules evaluated)
  --jobs              list the jobs (name, stage, when)
${JSON_HELP}`,
  options: { project: { type: 'string' }, ref: { type: 'string' }, 'dry-run': { type: 'boolean' }, jobs: { type: 'boolean' }, ...JSON_OPTION },
  positionals: [],
  async run(args, client) {
    const projectId = args.id('project');
    if (projectId === undefined) throw new ClientError(`--project is required (see baton ${args.command} --help)`);
    const [file, ...extra] = args.positionals;
    if (extra.length) throw new ClientError(`${args.command}: unexpected argument "${extra[0]}" (see baton ${args.command} --help)`);
    const ref = args.string('ref');
    const dryRun = args.flag('dry-run');
    const includeJobs = args.flag('jobs');
    let answer: LintAnswer;
    if (file !== undefined) {
      let content: string;
      try {
        content = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (e) {
        throw new ClientError(`cannot read "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      answer = await client.post<LintAnswer>(`/projects/${projectId}/ci/lint`, { content, ref, dry_run: dryRun, include_jobs: includeJobs });
    } else {
      answer = await client.get<LintAnswer>(`/projects/${projectId}/ci/lint`, { sha: ref, dry_run: String(dryRun), dry_run_ref: ref, include_jobs: String(includeJobs) });
    }
    if (args.flag('json')) await printJson(answer);
    else {
      const lines = [answer.valid ? 'valid' : 'invalid'];
      for (const w of answer.warnings) lines.push(`warning: ${w}`);
      for (const j of answer.jobs ?? []) lines.push(`job: ${j.name} (stage ${j.stage}, when ${j.when})`);
      await write(`${lines.join('\n')}\n`);
    }
    if (!answer.valid) {
      process.stderr.write(answer.errors.map((e) => `${e}\n`).join(''));
      throw new ClientError(`the configuration is invalid (${answer.errors.length} error${answer.errors.length === 1 ? '' : 's'})`);
    }
  },
};
