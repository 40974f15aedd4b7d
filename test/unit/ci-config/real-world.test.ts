/**
 * Files in the image of real projects' `.gitlab-ci.yml` (written for these tests after
 * studying public ones: Node, Python, Go, Rust, Java, Docker, Terraform, Helm, monorepos,
 * docs sites, release flows). Each case: the file, the pipeline it is compiled for, and the
 * jobs GitLab would create (name → stage, when), or GitLab's errors.
 */
import { describe, expect, test } from 'bun:test';
import type { ContextOptions } from '../../support/compile';
import { compile } from './helpers';

interface Case {
  name: string;
  yaml: string;
  ctx?: ContextOptions;
  /** name → "stage when" (+ " needs:a,b" for DAG jobs) */
  jobs?: Record<string, string>;
  errors?: string[];
  /** the pipeline's own variables, when the case is about them */
  variables?: Record<string, string>;
}

const cases: Case[] = [
  {
    name: 'Node app: default image and cache, lint/test/build/deploy, deploy only on the default branch',
    yaml: `
default:
  image: node:20-alpine
  cache:
    key:
      files: [package-lock.json]
    paths: [.npm/]
  before_script:
    - npm ci --cache .npm --prefer-offline
stages: [lint, test, build, deploy]
lint:
  stage: lint
  script: npm run lint
test:
  stage: test
  script: npm test -- --coverage
  coverage: '/All files[^|]*\\|[^|]*\\s+([\\d\\.]+)/'
  artifacts:
    when: always
    reports:
      junit: junit.xml
      coverage_report:
        coverage_format: cobertura
        path: coverage/cobertura-coverage.xml
build:
  stage: build
  script: npm run build
  artifacts:
    paths: [dist/]
    expire_in: 1 week
deploy:
  stage: deploy
  script: ./deploy.sh
  environment: {name: production, url: https://example.com}
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
`,
    ctx: { files: { 'package-lock.json': '{"lockfileVersion": 3}' } },
    jobs: { lint: 'lint on_success', test: 'test on_success', build: 'build on_success', deploy: 'deploy on_success' },
  },
  {
    name: 'Python library: matrix of versions, docs on tags only, publish manual',
    yaml: `
stages: [test, docs, publish]
variables:
  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"
.python:
  image: python:$PYTHON_VERSION
  cache: {paths: [.cache/pip]}
test:
  extends: .python
  parallel:
    matrix:
      - PYTHON_VERSION: ["3.9", "3.10", "3.11", "3.12"]
  script:
    - pip install -e .[test]
    - pytest --junitxml=report.xml
  artifacts: {reports: {junit: report.xml}}
docs:
  stage: docs
  image: python:3.12
  script: mkdocs build
  only: [tags]
publish:
  stage: publish
  image: python:3.12
  script: twine upload dist/*
  when: manual
  only: [tags]
`,
    jobs: { 'test: [3.9]': 'test on_success', 'test: [3.10]': 'test on_success', 'test: [3.11]': 'test on_success', 'test: [3.12]': 'test on_success' },
  },
  {
    name: 'the same Python file on a tag',
    yaml: 'stages: [test, docs]\ntest:\n  script: pytest\ndocs:\n  stage: docs\n  script: mkdocs build\n  only: [tags]\n',
    ctx: { ref: 'v1.2.0', tag: true },
    jobs: { test: 'test on_success', docs: 'docs on_success' },
  },
  {
    name: 'Go service with a DAG: needs across stages',
    yaml: `
stages: [build, test, package, deploy]
build:linux:
  stage: build
  image: golang:1.22
  script: GOOS=linux go build -o bin/app-linux ./cmd/app
  artifacts: {paths: [bin/]}
build:darwin:
  stage: build
  image: golang:1.22
  script: GOOS=darwin go build -o bin/app-darwin ./cmd/app
  artifacts: {paths: [bin/]}
unit:
  stage: test
  image: golang:1.22
  needs: []
  script: go test ./...
docker:
  stage: package
  image: docker:24
  services: [docker:24-dind]
  variables: {DOCKER_TLS_CERTDIR: "/certs"}
  needs: [build:linux]
  script:
    - docker build -t $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA .
deploy:
  stage: deploy
  needs: [docker, unit]
  script: kubectl apply -f k8s/
  when: manual
  environment: staging
`,
    jobs: {
      'build:linux': 'build on_success', 'build:darwin': 'build on_success', unit: 'test on_success needs:',
      docker: 'package on_success needs:build:linux', deploy: 'deploy manual needs:docker,unit',
    },
  },
  {
    name: 'workflow rules of the usual template: branch pipelines, no duplicate MR pipelines',
    yaml: `
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS
      when: never
    - if: $CI_COMMIT_BRANCH
    - if: $CI_COMMIT_TAG
test:
  script: make test
release:
  script: make release
  rules:
    - if: $CI_COMMIT_TAG =~ /^v\\d+\\.\\d+\\.\\d+$/
`,
    jobs: { test: 'test on_success' },
  },
  {
    name: 'release on a semver tag',
    yaml: 'test:\n  script: make test\nrelease:\n  script: make release\n  rules:\n    - if: $CI_COMMIT_TAG =~ /^v\\d+\\.\\d+\\.\\d+$/\n',
    ctx: { ref: 'v2.0.1', tag: true },
    jobs: { test: 'test on_success', release: 'test on_success' },
  },
  {
    name: 'monorepo: include per component, rules:changes',
    yaml: `
include:
  - local: services/api/.gitlab-ci.yml
  - local: services/web/.gitlab-ci.yml
stages: [build, test]
`,
    ctx: {
      changedPaths: ['services/web/src/App.tsx'],
      files: {
        'services/api/.gitlab-ci.yml': 'api:build:\n  stage: build\n  script: make -C services/api\n  rules:\n    - changes: [services/api/**/*]\n',
        'services/web/.gitlab-ci.yml': 'web:build:\n  stage: build\n  script: npm --prefix services/web run build\n  rules:\n    - changes: [services/web/**/*]\nweb:test:\n  stage: test\n  needs: [web:build]\n  script: npm --prefix services/web test\n  rules:\n    - changes: [services/web/**/*]\n',
      },
    },
    jobs: { 'web:build': 'build on_success', 'web:test': 'test on_success needs:web:build' },
  },
  {
    name: 'Terraform: plan, manual apply with resource group, destroy on stop',
    yaml: `
image: hashicorp/terraform:1.7
variables:
  TF_ROOT: "\${CI_PROJECT_DIR}/infra"
  TF_STATE_NAME: default
cache:
  key: "\${TF_ROOT}"
  paths: ["\${TF_ROOT}/.terraform/"]
stages: [validate, plan, apply]
fmt:
  stage: validate
  script: terraform fmt -check -recursive
  allow_failure: true
validate:
  stage: validate
  script: [cd $TF_ROOT, terraform init -backend=false, terraform validate]
plan:
  stage: plan
  script: [cd $TF_ROOT, terraform plan -out=plan.cache]
  artifacts:
    paths: [infra/plan.cache]
    reports: {terraform: infra/plan.json}
apply:
  stage: apply
  script: [cd $TF_ROOT, terraform apply plan.cache]
  resource_group: terraform-$TF_STATE_NAME
  environment: {name: production, on_stop: destroy}
  when: manual
  dependencies: [plan]
  only: [main]
destroy:
  stage: apply
  script: terraform destroy -auto-approve
  environment: {name: production, action: stop}
  when: manual
  only: [main]
`,
    jobs: { fmt: 'validate on_success', validate: 'validate on_success', plan: 'plan on_success', apply: 'apply manual', destroy: 'apply manual' },
  },
  {
    name: 'Java/Maven with !reference and anchors',
    yaml: `
.maven_opts: &maven
  MAVEN_OPTS: "-Dmaven.repo.local=.m2/repository"
.setup:
  before_script:
    - java -version
    - mvn -v
variables:
  <<: *maven
  MAVEN_CLI_OPTS: "--batch-mode"
build:
  stage: build
  image: maven:3-eclipse-temurin-21
  before_script:
    - !reference [.setup, before_script]
    - echo ready
  script: mvn $MAVEN_CLI_OPTS package
  cache: {key: maven, paths: [.m2/repository]}
verify:
  stage: test
  image: maven:3-eclipse-temurin-21
  script: mvn $MAVEN_CLI_OPTS verify
  artifacts:
    reports: {junit: [target/surefire-reports/TEST-*.xml, target/failsafe-reports/TEST-*.xml]}
`,
    jobs: { build: 'build on_success', verify: 'test on_success' },
  },
  {
    name: 'Rust with .pre and .post stages and retry on runner failures',
    yaml: `
check-toolchain:
  stage: .pre
  script: rustc --version
build:
  image: rust:1.77
  script: cargo build --release
  retry:
    max: 2
    when: [runner_system_failure, stuck_or_timeout_failure]
notify:
  stage: .post
  script: ./notify.sh
  when: always
`,
    jobs: { 'check-toolchain': '.pre on_success', build: 'test on_success', notify: '.post always' },
  },
  {
    name: 'parent/child pipelines: trigger include with strategy depend',
    yaml: `
stages: [triggers]
frontend:
  stage: triggers
  trigger:
    include: frontend/.gitlab-ci.yml
    strategy: depend
  rules:
    - changes: [frontend/**/*]
backend:
  stage: triggers
  trigger:
    include: [{local: backend/.gitlab-ci.yml}]
`,
    jobs: { frontend: 'triggers on_success', backend: 'triggers on_success' },
  },
  {
    name: 'old style: types-free, only/except with variables and refs, global before_script',
    yaml: `
before_script:
  - apt-get update -qq
stages: [build, test, deploy]
build:
  stage: build
  script: make
  except: [tags]
test:
  stage: test
  script: make check
deploy_staging:
  stage: deploy
  script: ./deploy staging
  only:
    refs: [main]
    variables: [$DEPLOY_ENABLED == "true"]
deploy_prod:
  stage: deploy
  script: ./deploy prod
  only: [/^release\\/.*$/]
`,
    ctx: { variables: { DEPLOY_ENABLED: 'true' } },
    jobs: { build: 'build on_success', test: 'test on_success', deploy_staging: 'deploy on_success' },
  },
  {
    name: 'schedules and web pipelines: only by source keyword and rules on CI_PIPELINE_SOURCE',
    yaml: `
nightly:
  script: ./nightly.sh
  only: [schedules]
manual_run:
  script: ./adhoc.sh
  rules:
    - if: $CI_PIPELINE_SOURCE == "web"
regular:
  script: make
  except: [schedules]
`,
    ctx: { source: 'schedule' },
    jobs: { nightly: 'test on_success' },
  },
  {
    name: 'delayed deploy and manual gate with allow_failure: false',
    yaml: `
stages: [deploy, verify]
gate:
  stage: deploy
  script: echo approve
  when: manual
  allow_failure: false
canary:
  stage: deploy
  script: ./canary
  when: delayed
  start_in: 5 minutes
verify:
  stage: verify
  script: ./smoke
`,
    jobs: { gate: 'deploy manual', canary: 'deploy delayed', verify: 'verify on_success' },
  },
  {
    name: 'docs site: a job named pages and a link checker',
    yaml: 'image: ruby:3.2\npages:\n  script: [bundle exec jekyll build -d public]\n  artifacts: {paths: [public]}\n  only: [main]\nlinks:\n  script: htmlproofer public\n  allow_failure: {exit_codes: [1]}\n',
    jobs: { pages: 'test on_success', links: 'test on_success' },
  },
  {
    name: 'Helm chart with matrix needs and rules variables',
    yaml: `
stages: [lint, deploy]
lint:
  stage: lint
  parallel:
    matrix:
      - CHART: [api, worker]
  script: helm lint charts/$CHART
deploy:
  stage: deploy
  parallel:
    matrix:
      - CHART: [api, worker]
  needs:
    - job: lint
      parallel:
        matrix:
          - CHART: [api, worker]
  script: helm upgrade --install $CHART charts/$CHART -f values-$ENV.yaml
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      variables: {ENV: prod}
    - variables: {ENV: dev}
`,
    jobs: {
      'lint: [api]': 'lint on_success', 'lint: [worker]': 'lint on_success',
      'deploy: [api]': 'deploy on_success needs:lint: [api],lint: [worker]', 'deploy: [worker]': 'deploy on_success needs:lint: [api],lint: [worker]',
    },
  },
  {
    name: 'interruptible jobs with workflow auto_cancel',
    yaml: 'workflow:\n  auto_cancel:\n    on_new_commit: interruptible\ndefault:\n  interruptible: true\ntest:\n  script: make test\ndeploy:\n  stage: deploy\n  script: make deploy\n  interruptible: false\n',
    jobs: { test: 'test on_success', deploy: 'deploy on_success' },
  },
  {
    name: 'YAML 1.1 traps: a float and a boolean as variable values are stored as Ruby writes them (GNOME\'s Flatpak template sets LIBGL_ALWAYS_SOFTWARE: true)',
    yaml: 'variables:\n  PYTHON_VERSION: 3.10\n  DEBUG: yes\n  LIBGL_ALWAYS_SOFTWARE: true\ntest:\n  script: python --version\n',
    jobs: { test: 'test on_success' },
    variables: { PYTHON_VERSION: '3.1', DEBUG: 'true', LIBGL_ALWAYS_SOFTWARE: 'true' },
  },
  {
    name: 'removed keywords fail as GitLab fails them',
    yaml: 'types: [build, test]\njob:\n  type: build\n  script: make\n',
    errors: ['jobs types config should implement the script:, run:, or trigger: keyword', 'jobs:job config contains unknown keys: type'],
  },
  {
    name: 'the old artifacts:reports:cobertura is gone',
    yaml: 'test:\n  script: pytest --cov\n  artifacts:\n    reports:\n      cobertura: coverage.xml\n',
    errors: ['jobs:test:artifacts:reports config contains unknown keys: cobertura'],
  },
  {
    name: 'GitLab templates are refused by name',
    yaml: 'include:\n  - template: Security/SAST.gitlab-ci.yml\ntest:\n  script: make\n',
    errors: ["Template file `Security/SAST.gitlab-ci.yml` cannot be included: Baton does not have GitLab's CI/CD template library"],
  },
  {
    name: 'hidden jobs, anchors for scripts, and services with aliases (integration tests)',
    yaml: `
.db: &db
  services:
    - name: postgres:16
      alias: db
    - name: redis:7
  variables:
    POSTGRES_PASSWORD: secret
    DATABASE_URL: postgres://postgres:secret@db/postgres
.script: &script
  - bundle exec rake db:setup
  - bundle exec rspec
rspec:
  <<: *db
  image: ruby:3.3
  script: *script
`,
    jobs: { rspec: 'test on_success' },
  },
  {
    name: 'exists-driven jobs',
    yaml: 'docker:\n  script: docker build .\n  rules:\n    - exists: [Dockerfile]\nnpm:\n  script: npm ci\n  rules:\n    - exists: [package.json]\nmaven:\n  script: mvn verify\n  rules:\n    - exists: ["**/pom.xml"]\n',
    ctx: { files: { Dockerfile: 'FROM alpine', 'backend/pom.xml': '<project/>' } },
    jobs: { docker: 'test on_success', maven: 'test on_success' },
  },
  {
    name: 'a merge-request-only job stays out of a branch pipeline',
    yaml: 'mr-check:\n  script: make check\n  only: [merge_requests]\nbuild:\n  script: make\n',
    jobs: { build: 'test on_success' },
  },
  {
    name: 'desktop C library, 2019 style: scalar anchors as script lines, multi-line quoted shell closed at the item\'s indentation, repeated merge keys, refs@project',
    yaml: `
services:
  - docker
stages: [check, test, manual, deploy]
.header: &header  'echo;
       echo "=== CI ===";
    '
.logs: &logs [config.log, "_build/*.log"]
.build: &build
  artifacts:
    when: always
    paths: *logs
  script:
    - *header
    - 'if [ -n "\${LINT}" ]; then
         ./ci.sh lint;
       else
         ./ci.sh build;
       fi
    '
.cov: &cov
  artifacts:
    name: coverage
    paths: [coverage/]
quick:
  <<: *build
  stage: check
  image: registry.example.org/lib/ci:fedora
  except: [schedules]
coverage:
  <<: *build
  <<: *cov
  stage: test
  variables:
    coverage: '/^Lines:.\\d+.\\d+.(\\d+\\.\\d+\\%)/'
  only:
    refs:
      - main@libs/thing
valgrind:
  <<: *build
  stage: manual
  when: manual
  except:
    variables:
      - $CI_COMMIT_MESSAGE =~ /\\[skip valgrind\\]/
pages:
  stage: deploy
  dependencies: [coverage]
  script: [mv coverage public]
  artifacts: {paths: [public]}
  only: [main]
`,
    jobs: { quick: 'check on_success', valgrind: 'manual manual', pages: 'deploy on_success' },
  },
  {
    name: 'runner-style Go project, 2019: jobs that are bare aliases, dependencies with no value, regexps@project with \\\\A, parallel N',
    yaml: `
stages: [prebuild, test, build, release]
.except_docs: &except_docs
  except:
    - /(^docs[\\/-].*|.*-docs$)/
.docker: &docker
  <<: *except_docs
  services: [docker:dind]
  variables: &docker_variables
    DOCKER_HOST: tcp://docker:2376
    DOCKER_TLS_VERIFY: 1
deps:
  <<: *except_docs
  stage: prebuild
  cache: {}
  dependencies:
  script: [make deps]
unit test: &unit
  <<: *docker
  stage: test
  parallel: 3
  script: [make test]
unit test race:
  <<: *unit
  allow_failure: true
  variables:
    <<: *docker_variables
    CGO_ENABLED: "1"
.binaries: &binaries
  <<: *except_docs
  stage: build
  script: [make build BUILD_PLATFORMS=$CI_JOB_NAME]
binaries linux/amd64 linux/arm64: *binaries
binaries windows/amd64: *binaries
stable S3:
  <<: *except_docs
  stage: release
  script: [make release]
  only:
    - /\\Av[0-9]+\\.[0-9]+\\.[0-9]+\\z/@tools/runner
`,
    jobs: {
      deps: 'prebuild on_success', 'unit test 1/3': 'test on_success', 'unit test 2/3': 'test on_success', 'unit test 3/3': 'test on_success',
      'unit test race 1/3': 'test on_success', 'unit test race 2/3': 'test on_success', 'unit test race 3/3': 'test on_success',
      'binaries linux/amd64 linux/arm64': 'build on_success', 'binaries windows/amd64': 'build on_success',
    },
  },
  {
    name: 'Android app, F-Droid style: merge keys from two templates in one job, a dependency of the same stage, allow_failure exit codes',
    yaml: `
stages: [lint, test, deploy]
.apt: &apt
  variables:
    DEBIAN_FRONTEND: noninteractive
  before_script:
    - echo 'APT::Install-Recommends "0";'
         'APT::Get::Assume-Yes "true";'
      >> /etc/apt/apt.conf.d/99ci
.py-changes: &py-changes
  rules:
    - changes: [setup.py, "app/*.py"]
pylint:
  stage: lint
  <<: *py-changes
  <<: *apt
  script: [pylint app]
build image:
  stage: test
  script: [docker build .]
publish image:
  stage: test
  dependencies: [build image]
  script: [docker push]
windows:
  script: [./test.ps1]
  allow_failure:
    exit_codes: 1
pages:
  stage: deploy
  needs: ["build image"]
  script: [cp -r docs public]
  artifacts: {paths: [public]}
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
`,
    jobs: { pylint: 'lint on_success', 'build image': 'test on_success', 'publish image': 'test on_success', windows: 'test on_success', pages: 'deploy on_success needs:build image' },
  },
  {
    name: 'PHP CMS with its CI split into local files: rules kept as hashes and spliced with !reference, cache key prefix + files, matrix, a trigger on tags',
    yaml: `
stages: [build, install, test, release, trigger]
include:
  - local: .ci/rules.yml
  - local: .ci/jobs.yml
`,
    ctx: {
      files: {
        '.ci/rules.yml': '.ci-changes:\n  rules:\n    changes: [".ci/*.yml"]\n.php-changes:\n  rules:\n    changes: ["**/*.php", composer.lock]\n',
        '.ci/jobs.yml': `
composer:
  stage: install
  cache:
    key: {prefix: $CI_JOB_NAME, files: [composer.lock]}
    paths: [vendor]
  script: [composer install]
  rules:
    - !reference [.ci-changes, rules]
    - !reference [.php-changes, rules]
phpunit:
  stage: test
  image: php:\${PHP}
  needs: [composer]
  script: [vendor/bin/phpunit]
  parallel:
    matrix:
      - PHP: ["8.2", "8.3"]
  rules:
    - !reference [.php-changes, rules]
notify:
  stage: trigger
  trigger: cms/update-check
  rules:
    - if: "$CI_COMMIT_TAG"
`,
        'composer.lock': '{}',
      },
    },
    jobs: { composer: 'install on_success', 'phpunit: [8.2]': 'test on_success needs:composer', 'phpunit: [8.3]': 'test on_success needs:composer' },
  },
  {
    name: 'static site with pages: publish (GitLab 16.1+), optional needs on jobs that only run for merge requests',
    yaml: `
stages: [format, test, deploy]
install:
  stage: .pre
  needs: []
  script: [npm ci]
  rules:
    - if: $CI_COMMIT_REF_NAME == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
format code:
  stage: format
  needs: [install]
  script: [npm run format]
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
pages:
  stage: deploy
  needs:
    - job: install
    - job: format code
      optional: true
  script: [npm run generate]
  artifacts: {paths: [.output/public]}
  publish: .output/public
  environment: {name: production, url: "https://example.org", deployment_tier: production}
  rules:
    - if: $CI_COMMIT_REF_NAME == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"
`,
    jobs: { install: '.pre on_success needs:', pages: 'deploy on_success needs:install' },
  },
  {
    name: 'Debian packaging (salsa-ci): everything comes from a remote include, so the pipeline cannot be planned',
    yaml: 'include:\n  - https://salsa.example.org/ci-team/pipeline/raw/master/recipes/debian.yml\nvariables:\n  DEB_BUILD_OPTIONS: nocheck\n',
    errors: ['Remote file `https://salsa.example.org/ci-team/pipeline/raw/master/recipes/debian.yml` could not be fetched because of HTTP code `404` error!'],
  },
  {
    name: 'container images, CNG style: a hidden key holding a list of anchored conditions reused in except:variables and except:refs',
    yaml: `
stages: [build, push]
.conditions:
  - &ce_tag_var $CI_COMMIT_TAG =~ /^v\\d+\\.\\d+\\.\\d+$/
  - &ee_tag_ref /^v\\d+\\.\\d+\\.\\d+-ee$/@images/cng 
  - &auto_deploy_var $CI_COMMIT_REF_NAME =~ /^\\d+-\\d+-auto-deploy-\\d+$/
.job-base: &job-base
  services: [docker:dind]
  dependencies: []
  except:
    refs: [*ee_tag_ref]
    variables: [$DEPS_PIPELINE, *auto_deploy_var]
.except-ce: &except-ce
  except:
    variables: [*ce_tag_var]
ruby:
  <<: *job-base
  stage: build
  script: [build ruby]
rails-ee:
  <<: *job-base
  <<: *except-ce
  stage: push
  dependencies: [ruby]
  script: [build rails]
`,
    ctx: { ref: 'v1.2.3', tag: true },
    jobs: { ruby: 'build on_success' },
  },
];

function summary(jobs: NonNullable<Awaited<ReturnType<typeof compile>>['plan']>['jobs']): Record<string, string> {
  return Object.fromEntries(jobs.map((j) => [j.name, `${j.stage} ${j.when}${j.needs ? ` needs:${j.needs.map((n) => n.job).join(',')}` : ''}`]));
}

describe('real-world style files', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const r = await compile(c.yaml, c.ctx);
      if (c.errors) expect({ errors: r.errors, plan: r.plan }).toEqual({ errors: c.errors, plan: null });
      else {
        expect(r.errors).toEqual([]);
        expect(summary(r.plan!.jobs)).toEqual(c.jobs!);
        if (c.variables) expect(r.plan!.variables).toEqual(c.variables);
        expect(JSON.parse(JSON.stringify(r.plan))).toEqual(r.plan);
      }
    });
  }
});
