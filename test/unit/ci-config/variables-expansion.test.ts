/** Predefined variables (spec ci-yaml.md §5.1), GitLab-side expansion (§5.4) and path globs (§3.2). */
import { describe, expect, test } from 'bun:test';
import { expand, expandCollection, expandExisting } from '../../../src/core/ci-config/expand';
import { fnmatch, wildcardMatch } from '../../../src/core/ci-config/globs';
import { commitTitleAndDescription, prePipelineVariables, slugify } from '../../../src/core/predefined-variables';

describe('predefined variables', () => {
  const base = {
    server: { url: 'https://ci.example.com:8443', version: '1.2.3', revision: 'abc' },
    project: { id: 7, name: 'My App', namespace: 'baton', path: 'my-app', defaultBranch: 'main' }, sha: 'f'.repeat(40), source: 'push' as const,
  };
  test('a branch pipeline', () => {
    const v = prePipelineVariables({ ...base, ref: 'feature/Login_Page', tag: false, commit: { message: 'Add login\n\nWith tests\n', authorName: 'Ann', authorEmail: 'a@x', timestamp: '2024-05-01T10:00:00+02:00' } });
    expect(v).toMatchObject({
      CI: 'true', GITLAB_CI: 'true', CI_SERVER_URL: 'https://ci.example.com:8443', CI_SERVER_HOST: 'ci.example.com', CI_SERVER_PORT: '8443',
      CI_SERVER_PROTOCOL: 'https', CI_SERVER_FQDN: 'ci.example.com:8443', CI_SERVER_VERSION_MAJOR: '1', CI_API_V4_URL: 'https://ci.example.com:8443/api/v4',
      CI_PROJECT_ID: '7', CI_PROJECT_NAME: 'my-app', CI_PROJECT_TITLE: 'My App', CI_PROJECT_PATH: 'baton/my-app', CI_PROJECT_PATH_SLUG: 'baton-my-app',
      CI_PROJECT_NAMESPACE: 'baton', CI_PROJECT_URL: 'https://ci.example.com:8443/baton/my-app', CI_DEFAULT_BRANCH: 'main', CI_PIPELINE_SOURCE: 'push',
      CI_COMMIT_SHA: 'f'.repeat(40), CI_COMMIT_SHORT_SHA: 'ffffffff', CI_COMMIT_BEFORE_SHA: '0'.repeat(40), CI_COMMIT_REF_NAME: 'feature/Login_Page',
      CI_COMMIT_REF_SLUG: 'feature-login-page', CI_COMMIT_BRANCH: 'feature/Login_Page', CI_COMMIT_MESSAGE: 'Add login\n\nWith tests\n',
      CI_COMMIT_TITLE: 'Add login', CI_COMMIT_DESCRIPTION: '\nWith tests', CI_COMMIT_AUTHOR: 'Ann <a@x>', CI_COMMIT_TIMESTAMP: '2024-05-01T10:00:00+02:00',
    });
    expect(v.CI_COMMIT_TAG).toBeUndefined();
    for (const persisted of ['CI_PIPELINE_ID', 'CI_JOB_ID', 'CI_JOB_TOKEN', 'CI_PIPELINE_URL']) expect(v[persisted]).toBeUndefined();
  });
  test('a tag pipeline has CI_COMMIT_TAG and no CI_COMMIT_BRANCH', () => {
    const v = prePipelineVariables({ ...base, ref: 'v1.0.0', tag: true });
    expect([v.CI_COMMIT_TAG, v.CI_COMMIT_BRANCH, v.CI_COMMIT_MESSAGE] as unknown[]).toEqual(['v1.0.0', undefined, undefined]);
  });
  test('slugs are per character, cut to 63, trimmed', () => {
    expect(['x/-y', 'Ünïcode/branch', `-${'a'.repeat(70)}`, 'release/1.2']).toEqual(['x/-y', 'Ünïcode/branch', `-${'a'.repeat(70)}`, 'release/1.2']);
    expect(['x/-y', 'Ünïcode/branch', `-${'a'.repeat(70)}`, 'release/1.2'].map(slugify)).toEqual(['x--y', 'n-code-branch', 'a'.repeat(62), 'release-1-2']);
  });
  test('commit title and description', () => {
    expect(commitTitleAndDescription('one line')).toEqual({ title: 'one line', description: '' });
    expect(commitTitleAndDescription('')).toEqual({ title: 'No commit message', description: '' });
    expect(commitTitleAndDescription(`${'t'.repeat(100)}\nbody`)).toEqual({ title: 't'.repeat(100), description: `${'t'.repeat(100)}\nbody` });
  });
});

describe('expansion', () => {
  const vars: Record<string, string> = { A: 'a', B: '$A-b', EMPTY: '' };
  const lookup = (n: string) => vars[n];
  test('$X, ${X}, %X%; $$ and %% untouched; expand vs expand-existing', () => {
    expect(expand('$A ${A} %A% $$A %%A %NOPE% $NOPE ${} $1', lookup)).toBe('a a a $$A %%A   ${} $1');
    expect(expandExisting('$A/$NOPE/${NOPE}', lookup)).toBe('a/$NOPE/${NOPE}');
  });
  test('a collection expands by its references; raw values stay; cycles are reported', () => {
    const { values } = expandCollection([{ key: 'A', value: 'a' }, { key: 'B', value: '$A-b' }, { key: 'C', value: '${B}-c' }, { key: 'R', value: '$A', raw: true }]);
    expect(Object.fromEntries(values)).toEqual({ A: 'a', B: 'a-b', C: 'a-b-c', R: '$A' });
    expect(expandCollection([{ key: 'X', value: '$Y' }, { key: 'Y', value: '$X' }]).cycle).toEqual(['X', 'Y']);
    expect(expandCollection([{ key: 'X', value: 'pre-$X' }]).cycle).toBeNull();
  });
});

describe('globs', () => {
  const cases: [string, string, boolean][] = [
    ['**/*.md', 'README.md', true], ['**/*.md', 'docs/a/b.md', true], ['docs/**', 'docs/a/b.md', false], ['docs/**/*', 'docs/a/b.md', true],
    ['*', '.gitignore', true], ['*', 'a/b', false], ['src/*.{js,ts}', 'src/a.ts', true], ['src/*.{js,ts}', 'src/a/b.ts', false],
    ['a?c', 'abc', true], ['a?c', 'a/c', false], ['[a-c]x', 'bx', true], ['[!a-c]x', 'bx', false], ['./x', 'x', false], ['/x', 'x', false],
    ['Dockerfile', 'Dockerfile', true], ['src/**/*.go', 'src/main.go', true], ['\\*.txt', '*.txt', true], ['\\*.txt', 'a.txt', false],
  ];
  test.each(cases)('fnmatch(%p, %p) = %p', (p, s, want) => expect(fnmatch(p, s)).toBe(want));
  test('include:local wildcards', () => {
    expect([['c/*.yml', 'c/a.yml'], ['c/*.yml', 'c/x/a.yml'], ['c/**.yml', 'c/x/a.yml'], ['c/**/*.yml', 'c/a.yml'], ['c/**/*.yml', 'c/x/a.yml']].map(([p, s]) => wildcardMatch(p, s)))
      .toEqual([true, false, true, false, true]);
  });
  test('a hostile pattern stays fast', () => {
    const t0 = performance.now();
    expect(fnmatch('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
