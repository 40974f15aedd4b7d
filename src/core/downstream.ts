/**
 * Bridge jobs (`trigger:`, spec ci-yaml.md §8): never sent to a runner; when their turn comes
 * they create a downstream pipeline through the one creation path (pipeline-creation.ts):
 *   trigger:include  a child pipeline of the same project, at the parent's commit, from a
 *                    `.gitlab-ci.yml` made of the listed includes (source `parent_pipeline`);
 *   trigger:project  a pipeline of another Baton project (path or id) on `branch` or its
 *                    default branch (source `pipeline`).
 * `trigger:include:artifact` reads a file a job of the parent pipeline put in its archive.
 * Forwarded variables (`forward:yaml_variables`, default true: the bridge's YAML variables, the
 * global ones as its `inherit:variables` allows;
 * `forward:pipeline_variables`: the parent's pipeline variables) become pipeline variables
 * downstream. Without `strategy` the bridge succeeds once the pipeline exists; with
 * `strategy: depend` it runs until the downstream ends (pipelines.ts syncBridge).
 */
import { and, eq } from 'drizzle-orm';
import { jobs, pipelines, projects, type Job, type Pipeline, type Project } from '../db/schema';
import type { CoreDeps } from './context';
import { DomainError } from './errors';
import type { PipelineCreator } from './pipeline-creation';
import { inheritedYamlVariables, type PipelineService } from './pipelines';
import type { ProjectService } from './projects';
import { changes } from './tx';
import { readZipEntry, ZipError } from './zip';

/** A generated child configuration may be at most this large (GitLab's limit for included files). */
const MAX_ARTIFACT_INCLUDE = 1024 * 1024;

/** GitLab's default: a child pipeline may have a child, not a grandchild's child. */
const MAX_DEPTH = 2;

export class DownstreamService {
  constructor(private deps: CoreDeps, private pipelines: PipelineService, private creator: PipelineCreator, private projects: ProjectService) {}

  private get db() { return this.deps.db; }

  start(bridgeIds: number[]) {
    for (const id of bridgeIds) {
      void this.trigger(id).catch((e) => this.deps.log.error({ err: e, job: id }, 'bridge job failed to start'));
    }
  }

  /** Creates the downstream pipeline of one pending bridge (once: the bridge is taken with a conditional write). */
  async trigger(bridgeId: number): Promise<Pipeline | null> {
    const now = this.deps.clock.now();
    const taken = this.db.update(jobs).set({ status: 'running', startedAt: now, updatedAt: now })
      .where(and(eq(jobs.id, bridgeId), eq(jobs.status, 'pending'), eq(jobs.kind, 'bridge'))).run();
    if (changes(taken) !== 1) return null;
    const bridge = this.db.select().from(jobs).where(eq(jobs.id, bridgeId)).get()!;
    this.pipelines.refreshStatus(bridge.pipelineId);
    const parent = this.pipelines.get(bridge.pipelineId);
    const trigger = bridge.spec.trigger!;
    try {
      if (trigger.kind === 'child' && this.depth(parent) >= MAX_DEPTH) {
        return this.fail(bridge, 'reached_max_descendant_pipelines_depth');
      }
      const variables = this.forwarded(bridge, parent);
      let child: Pipeline;
      if (trigger.kind === 'child') {
        const project = this.projects.get(parent.projectId);
        // A configuration of only `include:` (JSON is YAML).
        const content = JSON.stringify({ include: trigger.include ?? [] });
        // GitLab's Ci::Bridge#child_params: the parent's before sha (so rules:changes see the
        // push's changes) and its user
        child = await this.creator.create(project, {
          ref: parent.ref, sha: parent.sha, tag: parent.tag, content, source: 'parent_pipeline', variables,
          beforeSha: parent.beforeSha, ...(parent.userId !== null ? { userId: parent.userId } : {}),
          artifacts: (job, path) => Promise.resolve(this.artifactFile(parent, job, path)),
        });
      } else {
        const target = this.findProject(trigger.project ?? '');
        if (!target) return this.fail(bridge, 'downstream_bridge_project_not_found');
        if (target.id === parent.projectId && !trigger.branch) return this.fail(bridge, 'invalid_bridge_trigger');
        child = await this.creator.create(target, { ref: trigger.branch ?? target.defaultBranch, source: 'pipeline', variables, ...(parent.userId !== null ? { userId: parent.userId } : {}) });
      }
      return this.link(bridge, child);
    } catch (e) {
      if (e instanceof DomainError) {
        this.deps.log.info({ job: bridgeId, err: e.message }, 'downstream pipeline not created');
        return this.fail(bridge, 'downstream_pipeline_creation_failed');
      }
      this.fail(bridge, 'unknown_failure');
      throw e;
    }
  }

  /**
   * `trigger:include:artifact`: a file of the archive of a job of the parent pipeline (its
   * latest attempt), as a job generated it — the dynamic child pipeline.
   */
  private artifactFile(parent: Pipeline, jobName: string, path: string): { body: string } | { error: string } {
    const job = this.db.select().from(jobs)
      .where(and(eq(jobs.pipelineId, parent.id), eq(jobs.name, jobName), eq(jobs.retried, false), eq(jobs.kind, 'build'))).get();
    const now = this.deps.clock.now();
    const missing = { error: `Job \`${jobName}\` not found in parent pipeline or does not have artifacts!` };
    if (!job || !job.artifactsFile || (job.artifactsExpireAt !== null && job.artifactsExpireAt <= now)) return missing;
    let bytes: Uint8Array | null;
    try {
      bytes = readZipEntry(this.deps.store.artifactPath(job.id), path, MAX_ARTIFACT_INCLUDE);
    } catch (e) {
      if (e instanceof ZipError || (e as { code?: string }).code === 'ENOENT') return { error: `Artifact \`${path}\` of job \`${jobName}\` could not be read: ${(e as Error).message}` };
      throw e;
    }
    if (bytes === null) return { error: `File \`${path}\` not found in the artifacts of job \`${jobName}\`!` };
    try {
      return { body: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
    } catch {
      return { error: `File \`${path}\` of job \`${jobName}\` is not UTF-8 text` };
    }
  }

  /** Links the downstream pipeline to its bridge; the bridge ends now (no strategy) or follows it. */
  private link(bridge: Job, child: Pipeline): Pipeline {
    this.db.update(pipelines).set({ upstreamJobId: bridge.id, upstreamPipelineId: bridge.pipelineId }).where(eq(pipelines.id, child.id)).run();
    if (!bridge.spec.trigger?.strategy) this.pipelines.endBridge(bridge, 'success', null);
    else this.pipelines.syncBridge(bridge.id, this.pipelines.get(child.id).status);
    return this.pipelines.get(child.id);
  }

  private fail(bridge: Job, reason: string): null {
    this.pipelines.endBridge(bridge, 'failed', reason);
    return null;
  }

  /** How many upstream pipelines a pipeline has. */
  private depth(p: Pipeline): number {
    let d = 0;
    for (let cur: Pipeline | null = p; cur?.upstreamPipelineId != null && d < 10; d++) cur = this.pipelines.find(cur.upstreamPipelineId);
    return d;
  }

  private forwarded(bridge: Job, parent: Pipeline): { key: string; value: string }[] {
    const forward = bridge.spec.trigger?.forward ?? { yaml_variables: true, pipeline_variables: false };
    const vars = new Map<string, string>();
    if (forward.yaml_variables) {
      for (const [k, v] of inheritedYamlVariables(parent, bridge.spec)) vars.set(k, v);
      for (const [k, v] of Object.entries(bridge.spec.variables ?? {})) vars.set(k, v);
    }
    if (forward.pipeline_variables) for (const v of parent.triggerVariables) vars.set(v.key, v.value);
    return [...vars].map(([key, value]) => ({ key, value }));
  }

  /** `trigger:project`: a Baton project by id or full path (`namespace/path`). */
  private findProject(ref: string): Project | null {
    if (/^\d+$/.test(ref)) return this.projects.find(Number(ref));
    const cut = ref.lastIndexOf('/');
    if (cut <= 0) return null;
    return this.db.select().from(projects).where(and(eq(projects.namespace, ref.slice(0, cut)), eq(projects.path, ref.slice(cut + 1)))).get() ?? null;
  }
}
