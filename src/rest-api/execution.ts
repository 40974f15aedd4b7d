/**
 * What pipeline execution shows people, in GitLab's REST shapes: test reports
 * (forges-and-rest.md §C.11), bridges (`trigger:` jobs), resource groups, environments and
 * deployments (§C.9).
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { projectWebUrl } from '../core/projects';
import { STATUS_ORDER } from '../core/reports';
import type { Deployment, Environment, Pipeline, Project, ResourceGroup } from '../db/schema';
import { peopleAuth } from '../http/auth';
import { json } from '../http/respond';
import { Errors, PipelineParams, ProjectParams, restDoc, ScopeQuery, scopeOf } from './common';
import { numericId, pipelineIn } from './lookup';
import { PageQuery, pageOf, paginated, slice } from './pagination';
import { Presenter } from './presenters';

const round = (n: number) => Math.round(n * 1e6) / 1e6;
const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function executionRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = (tag: string) => restDoc(tag);
  const projectUrl = (p: Project) => projectWebUrl(core.deps.server.url, p);

  const testReport = (project: Project, pipeline: Pipeline) => {
    const suites = core.artifacts.testSuites(pipeline.id, true).map(({ suite, cases }) => ({
      name: suite.name, total_time: round(suite.totalTime), total_count: suite.total, success_count: suite.success,
      failed_count: suite.failed, skipped_count: suite.skipped, error_count: suite.error, suite_error: suite.suiteError,
      test_cases: suite.suiteError ? [] : [...cases].sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status)).map((c) => ({
        status: c.status, name: c.name, classname: c.classname, file: c.file, execution_time: c.execution_time,
        system_output: c.system_output, stack_trace: c.stack_trace, recent_failures: null,
        ...(c.attachment ? { attachment_url: `${projectUrl(project)}/-/jobs/${(c as { jobId?: number }).jobId}/artifacts/file/${c.attachment}` } : {}),
      })),
    }));
    const sum = (k: 'total_time' | 'total_count' | 'success_count' | 'failed_count' | 'skipped_count' | 'error_count') => suites.reduce((n, s) => n + s[k], 0);
    return {
      total_time: round(sum('total_time')), total_count: sum('total_count'), success_count: sum('success_count'), failed_count: sum('failed_count'),
      skipped_count: sum('skipped_count'), error_count: sum('error_count'), test_suites: suites,
    };
  };

  const testReportSummary = (pipeline: Pipeline) => {
    const suites = core.artifacts.testSuites(pipeline.id, false).map(({ suite }) => suite);
    const total = suites.reduce((a, s) => ({
      time: a.time + s.totalTime, count: a.count + s.total, success: a.success + s.success, failed: a.failed + s.failed,
      skipped: a.skipped + s.skipped, error: a.error + s.error, suite_error: a.suite_error ?? s.suiteError,
    }), { time: 0, count: 0, success: 0, failed: 0, skipped: 0, error: 0, suite_error: null as string | null });
    return {
      total: { ...total, time: round(total.time) },
      test_suites: suites.map((s) => ({
        name: s.name, total_time: round(s.totalTime), total_count: s.total, success_count: s.success, failed_count: s.failed,
        skipped_count: s.skipped, error_count: s.error, build_ids: s.jobIds, suite_error: s.suiteError,
      })),
    };
  };

  const resourceGroup = (g: ResourceGroup) => ({ id: g.id, key: g.key, process_mode: g.processMode, created_at: iso(g.createdAt), updated_at: iso(g.updatedAt) });

  const environmentBasic = (e: Environment) => ({
    id: e.id, name: e.name, slug: e.slug, external_url: e.externalUrl, created_at: iso(e.createdAt), updated_at: iso(e.updatedAt),
  });
  const environment = (e: Environment, project: Project) => ({
    ...environmentBasic(e), tier: e.tier, state: e.state, auto_stop_at: iso(e.autoStopAt), auto_stop_setting: 'always', description: null,
    project: show.project(project),
  });
  const deployment = (d: Deployment, project: Project, cache: Map<number, Pipeline>) => {
    const env = core.environments.byId(d.environmentId);
    const job = d.jobId !== null ? core.jobs.find(d.jobId) : null;
    return {
      id: d.id, iid: d.iid, ref: d.ref, sha: d.sha, created_at: iso(d.createdAt), updated_at: iso(d.updatedAt), status: d.status,
      user: null, environment: env ? environmentBasic(env) : null, deployable: job ? show.job(job, project, cache) : null,
    };
  };

  const KeyParams = t.Object({ id: t.String({ description: 'project id' }), key: t.String({ description: 'resource group key' }) });
  const EnvParams = t.Object({ id: t.String({ description: 'project id' }), environment_id: t.String() });

  return new Elysia({ name: 'rest-api.execution', prefix: '/api/v4/projects/:id' })
    .use(peopleAuth(core))
    // ---------------------------------------------------------------- test reports
    .get('/pipelines/:pipeline_id/test_report', ({ project, params }) => json(testReport(project, pipelineIn(core, project, params.pipeline_id))),
      { can: 'read_pipeline', params: PipelineParams, response: { 200: t.Any(), ...Errors }, ...doc('pipelines')('Get a pipeline\'s test report', 'From the `artifacts:reports:junit` files of its jobs (latest attempts), one suite per job name (per group for `parallel: N`).') })
    .get('/pipelines/:pipeline_id/test_report_summary', ({ project, params }) => json(testReportSummary(pipelineIn(core, project, params.pipeline_id))),
      { can: 'read_pipeline', params: PipelineParams, response: { 200: t.Any(), ...Errors }, ...doc('pipelines')('Get a pipeline\'s test report summary') })
    // ---------------------------------------------------------------- bridges
    .get('/pipelines/:pipeline_id/bridges', ({ project, params, query, request }) => {
      const pipeline = pipelineIn(core, project, params.pipeline_id);
      const scope = scopeOf(query);
      const page = pageOf(query);
      const { rows, total } = slice(core.pipelines.latestJobs(pipeline.id, 'bridge').filter((j) => !scope || scope.includes(j.status)).sort((a, b) => b.id - a.id), page);
      const cache = new Map([[pipeline.id, pipeline]]);
      return paginated(request, core.deps.server.url, page, total, rows.map((j) => show.bridge(j, project, cache)));
    }, { can: 'read_job', params: PipelineParams, query: t.Object({ ...PageQuery, ...ScopeQuery }), response: { 200: t.Any(), ...Errors }, ...doc('pipelines')('List a pipeline\'s bridge (trigger) jobs', 'With `downstream_pipeline`; `…/jobs` lists only the jobs runners run, as GitLab.') })
    // ---------------------------------------------------------------- resource groups
    .get('/resource_groups', ({ project }) => json(core.resourceGroups.list(project.id).map(resourceGroup)),
      { can: 'read_pipeline', params: ProjectParams, response: { 200: t.Any(), ...Errors }, ...doc('resource_groups')('List resource groups') })
    .get('/resource_groups/:key', ({ project, params }) => json(resourceGroup(core.resourceGroups.get(project.id, params.key))),
      { can: 'read_pipeline', params: KeyParams, response: { 200: t.Any(), ...Errors }, ...doc('resource_groups')('Get a resource group') })
    .get('/resource_groups/:key/upcoming_jobs', ({ project, params }) => {
      const cache = new Map<number, Pipeline>();
      return json(core.resourceGroups.upcoming(project.id, params.key).map((id) => show.job(core.jobs.get(id), project, cache)));
    }, { can: 'read_pipeline', params: KeyParams, response: { 200: t.Any(), ...Errors }, ...doc('resource_groups')('List the jobs that will get the resource, in order') })
    .put('/resource_groups/:key', ({ project, params, body }) => {
      const { group, pipelineIds } = core.resourceGroups.update(project.id, params.key, body.process_mode);
      for (const id of pipelineIds) core.pipelines.refreshStatus(id);
      if (pipelineIds.length) core.pipelines.announceWork();
      return json(resourceGroup(group));
    }, {
      can: 'admin_project', params: KeyParams,
      body: t.Object({ process_mode: t.Optional(t.String({ description: 'unordered, oldest_first, newest_first, newest_ready_first' })) }),
      response: { 200: t.Any(), ...Errors }, ...doc('resource_groups')('Edit a resource group (process_mode)'),
    })
    // ---------------------------------------------------------------- environments
    .get('/environments', ({ project, query, request }) => {
      const page = pageOf(query);
      const { rows, total } = core.environments.list(project.id, { name: query.name, search: query.search, states: query.states, offset: page.offset, limit: page.limit });
      return paginated(request, core.deps.server.url, page, total, rows.map((e) => environment(e, project)));
    }, {
      can: 'read_environment', params: ProjectParams,
      query: t.Object({ ...PageQuery, name: t.Optional(t.String()), search: t.Optional(t.String()), states: t.Optional(t.String({ description: 'available, stopping, stopped' })) }),
      response: { 200: t.Any(), ...Errors }, ...doc('environments')('List environments'),
    })
    .get('/environments/:environment_id', ({ project, params }) => {
      const e = core.environments.get(project.id, numericId(params.environment_id));
      const last = core.environments.lastDeployment(e.id);
      return json({ ...environment(e, project), last_deployment: last ? deployment(last, project, new Map()) : null });
    }, { can: 'read_environment', params: EnvParams, response: { 200: t.Any(), ...Errors }, ...doc('environments')('Get an environment (with last_deployment)') })
    .get('/deployments', ({ project, query, request }) => {
      const page = pageOf(query);
      const { rows, total } = core.environments.deployments(project.id, {
        environment: query.environment, status: query.status, orderBy: query.order_by, sort: query.sort, offset: page.offset, limit: page.limit,
      });
      const cache = new Map<number, Pipeline>();
      return paginated(request, core.deps.server.url, page, total, rows.map((d) => deployment(d, project, cache)));
    }, {
      can: 'read_environment', params: ProjectParams,
      query: t.Object({
        ...PageQuery, environment: t.Optional(t.String()), status: t.Optional(t.String()),
        order_by: t.Optional(t.String({ description: 'id, iid, created_at, updated_at, finished_at, ref' })), sort: t.Optional(t.String({ description: 'asc or desc' })),
      }),
      response: { 200: t.Any(), ...Errors }, ...doc('environments')('List deployments'),
    });
}
