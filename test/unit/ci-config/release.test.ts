/** `release:` (GitLab's Entry::Release, Release::Assets, ::Links, ::Link): the stored spec, and exact errors. */
import { describe, expect, test } from 'bun:test';
import { compile, expectErrors, expectJob } from './helpers';

const j = (release: string, extra = '  script: echo release\n') => `j:\n${extra}  release:\n${release}`;

describe('release', () => {
  test('the forms GitLab documents are kept as written (variables for the runner\'s shell)', async () => {
    await expectJob([
      [j('    tag_name: $CI_COMMIT_TAG\n    description: Release $CI_COMMIT_TAG\n'),
        { release: { tag_name: '$CI_COMMIT_TAG', description: 'Release $CI_COMMIT_TAG' }, script: ['echo release'] }],
      [j([
        "    name: 'Release $CI_COMMIT_TAG'",
        "    description: './path/to/CHANGELOG.md'",
        "    tag_name: '$CI_COMMIT_TAG'",
        "    tag_message: 'Annotated $CI_COMMIT_TAG'",
        "    ref: '$CI_COMMIT_SHA'",
        '    milestones: [m1, m2, m3]',
        "    released_at: '2020-07-15T08:00:00Z'",
        '    assets:',
        '      links:',
        "        - name: 'asset1'",
        "          url: 'https://example.com/assets/1'",
        "        - name: 'asset2'",
        "          url: 'https://example.com/assets/2'",
        "          filepath: '/pretty/url/1'",
        "          link_type: 'other'",
        '        - name: bin',
        '          url: "${CI_PROJECT_URL}/-/jobs/${CI_JOB_ID}/artifacts/raw/bin"',
        '          direct_asset_path: /bin',
        '          link_type: package',
        '',
      ].join('\n')), {
        release: {
          name: 'Release $CI_COMMIT_TAG', description: './path/to/CHANGELOG.md', tag_name: '$CI_COMMIT_TAG', tag_message: 'Annotated $CI_COMMIT_TAG',
          ref: '$CI_COMMIT_SHA', milestones: ['m1', 'm2', 'm3'], released_at: '2020-07-15T08:00:00Z',
          assets: { links: [
            { name: 'asset1', url: 'https://example.com/assets/1' },
            { name: 'asset2', url: 'https://example.com/assets/2', filepath: '/pretty/url/1', link_type: 'other' },
            { name: 'bin', url: '${CI_PROJECT_URL}/-/jobs/${CI_JOB_ID}/artifacts/raw/bin', direct_asset_path: '/bin', link_type: 'package' },
          ] },
        },
      }],
      [j('    tag_name: v1.0.0\n    description: d\n    milestones: m1\n    ref: main\n    released_at: "2021-03-15"\n'),
        { release: { tag_name: 'v1.0.0', description: 'd', milestones: ['m1'], ref: 'main', released_at: '2021-03-15' } }],
      [j('    tag_name: v1\n    description: d\n    ref: a9738e26eea81eb998fab5ed3f808875eaec5196\n    released_at: "2021-03-15T08:00:00+02:00"\n'),
        { release: { tag_name: 'v1', description: 'd', ref: 'a9738e26eea81eb998fab5ed3f808875eaec5196', released_at: '2021-03-15T08:00:00+02:00' } }],
    ]);
  });

  test('the typical tag-pipeline release job (release-cli image, rules on the tag)', async () => {
    const r = await compile([
      'release_job:',
      '  stage: deploy',
      '  image: registry.gitlab.com/gitlab-org/release-cli:latest',
      '  rules:',
      '    - if: $CI_COMMIT_TAG',
      '  script: echo "running release_job"',
      '  release:',
      '    tag_name: $CI_COMMIT_TAG',
      '    description: $CI_COMMIT_TAG',
      '',
    ].join('\n'), { ref: 'v1.2.0', tag: true });
    expect(r.errors).toEqual([]);
    expect(r.plan!.jobs[0]).toMatchObject({ name: 'release_job', image: { name: 'registry.gitlab.com/gitlab-org/release-cli:latest' }, release: { tag_name: '$CI_COMMIT_TAG', description: '$CI_COMMIT_TAG' } });
    const branch = await compile('release_job:\n  rules:\n    - if: $CI_COMMIT_TAG\n  script: x\n  release: {tag_name: $CI_COMMIT_TAG, description: d}\nother:\n  script: x\n');
    expect(branch.plan!.jobs.map((x) => x.name)).toEqual(['other']);
  });

  test('errors, as GitLab words them', async () => {
    const at = 'jobs:j:release';
    await expectErrors([
      [j('    tag_name: v1\n    description: d\n    foo: 1\n    bar: 2\n'), [`${at} config contains unknown keys: foo, bar`]],
      [j('    description: d\n'), [`${at} tag name can't be blank`]],
      [j('    tag_name: ""\n    description: d\n'), [`${at} tag name can't be blank`]],
      [j('    tag_name: [v1]\n    description: d\n'), [`${at} tag name should be a string`]],
      [j('    tag_name: v1\n'), [`${at} description can't be blank`]],
      [j('    tag_name: v1\n    description: {a: b}\n'), [`${at} description should be a string`]],
      [j('    tag_name: v1\n    description: d\n    name: [a]\n'), [`${at} name should be a string`]],
      [j('    tag_name: v1\n    description: d\n    tag_message: 3\n'), [`${at} tag message should be a string`]],
      [j('    tag_name: v1\n    description: d\n    milestones: [m1, 2]\n'), [`${at} milestones should be an array of strings or a string`]],
      [j('    tag_name: v1\n    description: d\n    released_at: tomorrow\n'), [`${at} released at must be a valid datetime`]],
      [j('    tag_name: v1\n    description: d\n    released_at: "2021-02-30T08:00:00Z"\n'), [`${at} released at must be a valid datetime`]],
      [j('    tag_name: v1\n    description: d\n    ref: "a..b"\n'), [`${at} ref must be a valid ref`]],
      [j('    tag_name: v1\n    description: d\n    ref: "feature branch"\n'), [`${at} ref must be a valid ref`]],
      [j('    tag_name: v1\n    description: d\n    assets: [a]\n'), [`${at}:assets config should be a hash`]],
      [j('    tag_name: v1\n    description: d\n    assets: {files: [a]}\n'), [`${at}:assets config contains unknown keys: files`]],
      [j('    tag_name: v1\n    description: d\n    assets: {links: []}\n'), [`${at}:assets links can't be blank`]],
      [j('    tag_name: v1\n    description: d\n    assets: {links: [a]}\n'), [`${at}:assets links should be an array of hashes`]],
      [j('    tag_name: v1\n    description: d\n    assets:\n      links:\n        - {name: a, url: "https://x", size: 1}\n'), [`${at}:assets:links:link config contains unknown keys: size`]],
      [j('    tag_name: v1\n    description: d\n    assets:\n      links:\n        - {url: "https://x"}\n'), [`${at}:assets:links:link name can't be blank`]],
      [j('    tag_name: v1\n    description: d\n    assets:\n      links:\n        - {name: a}\n'), [`${at}:assets:links:link url can't be blank`]],
      [j('    tag_name: v1\n    description: d\n    assets:\n      links:\n        - {name: a, url: "ftp://x/y"}\n'), [`${at}:assets:links:link url must be a valid url`]],
      [j('    tag_name: v1\n    description: d\n    assets:\n      links:\n        - {name: a, url: "https://x", link_type: binary}\n'), [`${at}:assets:links:link link type should be one of: other, runbook, image, package`]],
      [j('    tag_name: v1\n    description: d\n    assets:\n      links:\n        - {name: a, url: "https://x", filepath: /a, direct_asset_path: /b}\n'), [`${at}:assets:links:link config these keys cannot be used together: filepath, direct_asset_path`]],
      [j('    tag_name: v1\n    description: d\n    assets:\n      links:\n        - {name: a, url: "https://x", filepath: a}\n'), [`${at}:assets:links:link filepath should be a string that starts with '/'`]],
      ['j:\n  script: x\n  release: v1\n', [`${at} config should be a hash`]],
    ]);
  });

  test('a release job needs a script, as GitLab (issue 223856 is open: `script` is not optional there)', async () => {
    await expectErrors([
      ['j:\n  stage: deploy\n  release: {tag_name: v1, description: d}\nk:\n  script: x\n', ['jobs j config should implement the script:, run:, or trigger: keyword']],
      ['j:\n  script: []\n  release: {tag_name: v1, description: d}\n', ["jobs:j script can't be blank"]],
    ]);
  });

  test('a bridge cannot carry a release; the default section has no release', async () => {
    await expectErrors([
      ['b:\n  trigger: {include: a.yml}\n  release: {tag_name: v1, description: d}\n', ['jobs:b config contains unknown keys: release']],
      ['default:\n  release: {tag_name: v1, description: d}\nj:\n  script: x\n', ['default config contains unknown keys: release']],
    ]);
  });
});
