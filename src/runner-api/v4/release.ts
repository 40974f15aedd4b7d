/**
 * The release step of a `release:` job (GitLab's Gitlab::Ci::Build::Step.from_release and
 * Releaser): one `release-cli create` command line run by the runner after the script, with
 * the flags GitLab writes, in its order — `--name`, `--description`, `--tag-name`,
 * `--tag-message`, `--ref`, `--released-at`, one `--milestone` per milestone, one
 * `--assets-link` per link (the link as JSON, as a JSON string). Values go in double quotes,
 * as GitLab puts them, so the shell expands their variables (`$CI_COMMIT_TAG`); Baton also
 * escapes the characters that would end or break the quoting (`"`, `` ` ``, a `\` not
 * before `$`), which GitLab leaves as they are. release-cli then calls the Releases API
 * (`POST /api/v4/projects/:id/releases`) with the job's CI_JOB_TOKEN.
 */
import type { ReleaseSpec } from '../../db/job-spec';

export const RELEASE_CLI = 'release-cli create';

/** Inside "…": the shell still expands `$VAR`; quotes, backticks and lone backslashes are escaped. */
export function shellDoubleQuoted(v: string): string {
  return `"${v.replace(/\\(?!\$)/g, '\\\\').replace(/["`]/g, (c) => `\\${c}`)}"`;
}

export function releaseCommand(r: ReleaseSpec): string {
  let cmd = RELEASE_CLI;
  const single: [string, string | undefined][] = [
    ['name', r.name], ['description', r.description], ['tag-name', r.tag_name], ['tag-message', r.tag_message],
    ['ref', r.ref], ['released-at', r.released_at],
  ];
  for (const [flag, value] of single) if (value !== undefined) cmd += ` --${flag} ${shellDoubleQuoted(value)}`;
  for (const m of r.milestones ?? []) cmd += ` --milestone ${shellDoubleQuoted(m)}`;
  for (const link of r.assets?.links ?? []) cmd += ` --assets-link ${JSON.stringify(JSON.stringify(link))}`;
  return cmd;
}

export function releaseStep(r: ReleaseSpec, timeout: number) {
  return { name: 'release', script: [releaseCommand(r)], timeout, when: 'on_success', allow_failure: false };
}
