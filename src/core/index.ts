/** Builds every core service from its dependencies; the one place that wires them. */
import { join } from 'node:path';
import { ArtifactService } from './artifacts';
import { CoverageService } from './coverage';
import { Dispatcher } from './dispatch';
import { DownstreamService } from './downstream';
import { EnvironmentService } from './environments';
import { ResourceGroupService } from './resource-groups';
import type { CoreDeps } from './context';
import { GitReader } from './git';
import { InstanceService } from './instance';
import { JobService } from './jobs';
import { Outbox, type OutboxOptions } from './outbox';
import { Deliverers } from './outbox/deliver';
import { DeliveryEvents } from './outbox/events';
import { DeliveryTargets } from './outbox/targets';
import { PipelineCreator } from './pipeline-creation';
import { AccessService } from './people/access';
import { MemberService } from './people/members';
import { SessionService } from './people/sessions';
import { PersonalAccessTokenService } from './people/tokens';
import { UserService } from './people/users';
import { PipelineService } from './pipelines';
import { ProjectService } from './projects';
import { Reaper } from './reaper';
import { ReleaseService } from './releases';
import { registerInstanceGauges } from './metrics';
import { ONLINE_WINDOW_MS, RunnerService } from './runners';
import { SecretBox } from './secret-box';
import { InboundBuilder, ScheduleService, TriggerService, WebhookReceiver } from './triggers';

export function createCore(input: Omit<CoreDeps, 'events'>, opts: { outbox?: OutboxOptions } = {}) {
  const outbox = new Outbox(input, opts.outbox);
  // Status changes fill the outbox inside their own transactions (events.ts).
  const deps: CoreDeps = { ...input, events: new DeliveryEvents(input, outbox) };
  const box = new SecretBox(deps.store.root);
  // The instance keeps the admin token through the token service, which is built further down
  // (tokens → users → projects → instance): it is reached through a closure, called only later.
  const instance = new InstanceService(deps.db, { ensureBootstrap: (p) => tokens.ensureBootstrap(p), rotateBootstrap: () => tokens.rotateBootstrap() });
  const runners = new RunnerService(deps, instance);
  const projects = new ProjectService(deps, instance);
  const users = new UserService(deps, projects);
  const tokens = new PersonalAccessTokenService(deps, users);
  const sessions = new SessionService(deps, users);
  const access = new AccessService(deps, projects, users, tokens, sessions, runners);
  const members = new MemberService(deps, users, access);
  const resourceGroups = new ResourceGroupService(deps);
  const environments = new EnvironmentService(deps);
  const pipelines = new PipelineService(deps, instance, resourceGroups, environments);
  // The repository caches live in the data dir, next to traces and artifacts.
  const git = new GitReader(join(deps.store.root, 'git-cache'));
  const creator = new PipelineCreator({ deps, pipelines, git, projects, access });
  const jobs = new JobService(deps, pipelines);
  const dispatch = new Dispatcher(deps, instance, jobs);
  const downstream = new DownstreamService(deps, pipelines, creator, projects);
  const coverage = new CoverageService(deps);
  jobs.afterEnd = (id) => coverage.schedule(id);
  pipelines.bridges = downstream;
  const artifacts = new ArtifactService(deps);
  const reaper = new Reaper(deps, jobs, artifacts, sessions, pipelines);
  const dataDirSize = registerInstanceGauges(deps.metrics, { ...deps, dataDir: deps.store.root, onlineWindowMs: ONLINE_WINDOW_MS });
  deps.metrics.registry.gauge('baton_outbox_pending', 'Deliveries (forge statuses, hooks, webhook pipelines) not yet made', () => outbox.pendingCount());
  const targets = new DeliveryTargets(deps, box);
  const webhooks = new WebhookReceiver(deps, (raw) => access.findProject(raw), outbox);
  const triggers = new TriggerService(deps, creator);
  const schedules = new ScheduleService(deps, outbox);
  const releases = new ReleaseService(deps);
  new InboundBuilder(deps, projects, creator, outbox).register();
  new Deliverers(deps, projects, outbox, box, `Baton/${deps.server.version}`).register();
  return {
    deps, instance, dispatch, access, users, tokens, sessions, members, runners, projects, git, pipelines, creator, jobs, artifacts, reaper,
    resourceGroups, environments, downstream, coverage, dataDirSize, outbox, targets, webhooks, triggers, schedules, releases,
  };
}

export type Core = ReturnType<typeof createCore>;
