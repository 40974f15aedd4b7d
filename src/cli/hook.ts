/**
 * `baton hook post-receive` — for a plain git server: installed as (or called from) a bare
 * repository's `hooks/post-receive`, it reads git's `<old> <new> <ref>` lines from stdin and
 * sends each ref to the project's webhook URL as a push delivery (GitLab's push body, with
 * `X-Baton-Event: push` and the project's webhook secret in `X-Baton-Token`). So the push
 * takes the same road as a forge's: deduplication, `[skip ci]`, deletions, a background
 * pipeline, the deliveries list. The head commit's message, author and time are read from
 * the repository the hook runs in. --token is the project's WEBHOOK SECRET, not an admin
 * token (env BATON_WEBHOOK_SECRET), so the git server holds no admin credential.
 */
import { ClientError } from './errors';
import type { Command } from './command';
import { write } from './output';

const ZERO = /^0+$/;

function git(args: string[]): string | null {
  const r = Bun.spawnSync(['git', ...args], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  return r.exitCode === 0 ? r.stdout.toString() : null;
}

/** The body for one updated ref. */
export function pushBody(oldSha: string, newSha: string, ref: string): Record<string, unknown> {
  const tag = ref.startsWith('refs/tags/');
  const deleted = ZERO.test(newSha);
  const checkout = deleted ? null : git(['rev-parse', '--verify', '--quiet', `${newSha}^{commit}`])?.trim() ?? newSha;
  const commits: unknown[] = [];
  if (checkout) {
    const out = git(['log', '-1', '--format=%B%x00%an%x00%ae%x00%aI', checkout]);
    if (out !== null) {
      const [message, name, email, timestamp] = out.split('\x00');
      commits.push({ id: checkout, message: message.replace(/\n+$/, '\n'), title: message.split('\n')[0], timestamp: timestamp?.trim(), author: { name, email } });
    }
  }
  return {
    object_kind: tag ? 'tag_push' : 'push', event_name: tag ? 'tag_push' : 'push', ref, before: oldSha, after: newSha, checkout_sha: checkout,
    user_username: process.env.GL_USERNAME ?? process.env.USER ?? null, commits, total_commits_count: commits.length,
  };
}

const postReceive: Command = {
  summary: "a bare repository's post-receive hook: pushes start pipelines",
  usage: 'hook post-receive --url URL --project ID --token WEBHOOK_SECRET',
  help: `Reads the post-receive lines git gives a hook ("<old-sha> <new-sha> <ref>", one per
updated ref) from stdin and sends each to POST /api/v4/projects/:id/webhook, which creates
the pipelines (source "push") in the background. Prints one line per ref. Install it in a
bare repository as hooks/post-receive (executable):

  #!/bin/sh
  exec baton hook post-receive --url https://baton.example.com --project 1 \\
    --token "$(cat /etc/baton/webhook-secret)"

  --url URL           the Baton server (env BATON_URL)
  --project ID        the project (required)
  --token SECRET      the project's webhook secret (\`baton project webhook-secret\`;
                      env BATON_WEBHOOK_SECRET) — not the admin token`,
  options: { project: { type: 'string' } },
  tokenEnv: 'BATON_WEBHOOK_SECRET',
  async run(args, client) {
    const project = args.id('project');
    if (project === undefined) throw new ClientError('--project is required (see baton hook post-receive --help)');
    const input = await new Response(Bun.stdin.stream()).text();
    const lines = input.split('\n').map((l) => l.trim()).filter(Boolean);
    let failed = 0;
    for (const line of lines) {
      const [oldSha, newSha, ref] = line.split(/\s+/);
      if (!oldSha || !newSha || !ref) throw new ClientError(`post-receive: expected "<old> <new> <ref>", got "${line}"`);
      const res = await client.raw('POST', `/projects/${project}/webhook`, {
        'content-type': 'application/json', 'X-Baton-Event': 'push', 'X-Baton-Token': client.token,
      }, JSON.stringify(pushBody(oldSha, newSha, ref)));
      const answer = await res.json().catch(() => ({})) as { message?: string };
      if (!res.ok) failed++;
      await write(`baton: ${ref}: ${res.status === 202 ? 'pipeline queued' : res.ok ? answer.message ?? 'ok' : `HTTP ${res.status} ${answer.message ?? ''}`.trim()}\n`);
    }
    if (failed) throw new ClientError(`${failed} of ${lines.length} ref(s) were refused`);
  },
};

export const hookCommands = { 'post-receive': postReceive };
