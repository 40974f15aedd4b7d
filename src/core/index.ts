/** Builds every core service from its dependencies; the one place that wires them. */
import { join } from 'node:path';
import { ArtifactService } from './artifacts';
import type { CoreDeps } from './context';
import { GitReader } from './git';
import { InstanceService } from './instance';
import { JobService } from './jobs';
import { PipelineCreator } from './pipeline-creation';
import { AccessService } from './people/access';
import { MemberService } from './people/members';
import { SessionService } from './people/sessions';
import { PersonalAccessTokenService } from './people/tokens';
import { UserService } from './people/users';
import { PipelineService } from './pipelines';
import { ProjectService } from './projects';
import { Reaper } from './reaper';
import { RunnerService } from './runners';

export function createCore(deps: CoreDeps) {
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
  const pipelines = new PipelineService(deps, instance);
  // The repository caches live in the data dir, next to traces and artifacts.
  const git = new GitReader(join(deps.store.root, 'git-cache'));
  const creator = new PipelineCreator(pipelines, git);
  const jobs = new JobService(deps, pipelines);
  const artifacts = new ArtifactService(deps);
  const reaper = new Reaper(deps, jobs, artifacts, sessions);
  return { deps, instance, access, users, tokens, sessions, members, runners, projects, git, pipelines, creator, jobs, artifacts, reaper };
}

export type Core = ReturnType<typeof createCore>;
