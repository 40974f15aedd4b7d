/**
 * Who may do what — the ONE authorization function every route goes through.
 *
 * A route names the permission it needs (`can: 'create_pipeline'` on a project route,
 * `admin: true` on an instance route); src/http/auth.ts turns the request's credential into
 * an Actor and asks here. The answers follow GitLab: a caller who may not even read a
 * project gets 404 (its existence is not revealed), one who may read it but not do this
 * gets 403, and no valid credential at all gets 401 before anything else.
 *
 * Project permissions map to GitLab's access levels (Reporter 20 reads pipelines, jobs,
 * logs and artifacts; Developer 30 also starts, cancels, retries and plays; Maintainer 40
 * also administers the project). Instance admins may do everything.
 */
import type { Project } from '../../db/schema';
import type { CoreDeps } from '../context';
import { DomainError, forbidden, notFound } from '../errors';
import type { InstanceService } from '../instance';
import type { ProjectService } from '../projects';

/** GitLab's access levels (members API `access_level`). */
export const ACCESS_LEVEL = { guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;
export type AccessLevel = (typeof ACCESS_LEVEL)[keyof typeof ACCESS_LEVEL];

/** The least access level each project permission needs. */
export const PROJECT_PERMISSIONS = {
  read_project: ACCESS_LEVEL.guest,
  // GitLab: reading a private project's repository (include:project, rules:exists:project).
  download_code: ACCESS_LEVEL.reporter,
  read_pipeline: ACCESS_LEVEL.reporter,
  read_job: ACCESS_LEVEL.reporter,
  read_trace: ACCESS_LEVEL.reporter,
  read_artifacts: ACCESS_LEVEL.reporter,
  read_environment: ACCESS_LEVEL.reporter,
  create_pipeline: ACCESS_LEVEL.developer,
  update_pipeline: ACCESS_LEVEL.developer,
  update_job: ACCESS_LEVEL.developer,
  admin_project: ACCESS_LEVEL.maintainer,
  // GitLab: deleting a pipeline or the project itself needs the Owner role.
  destroy_pipeline: ACCESS_LEVEL.owner,
  remove_project: ACCESS_LEVEL.owner,
} as const;
export type ProjectPermission = keyof typeof PROJECT_PERMISSIONS;

/** The authenticated caller of a people-facing request. */
export interface Actor {
  /** null only for the bootstrap admin token before users exist */
  userId: number | null;
  username: string;
  admin: boolean;
  /** a token with only the `read_api` scope: the HTTP layer refuses it anything but GET/HEAD */
  readOnly: boolean;
}

export class AccessService {
  constructor(private deps: CoreDeps, private instance: InstanceService, private projects: ProjectService) {}

  /** The caller behind a presented credential (PRIVATE-TOKEN / Bearer), or 401. */
  authenticate(token: string | undefined): Actor {
    if (token && this.instance.isAdminToken(token)) return { userId: null, username: 'root', admin: true, readOnly: false };
    throw new DomainError('unauthorized', '401 Unauthorized');
  }

  /** The caller's access level on a project (0 = none). */
  accessLevel(actor: Actor, _project: Project): number {
    return actor.admin ? ACCESS_LEVEL.owner : 0;
  }

  /** May the actor do this on that project? */
  can(actor: Actor, permission: ProjectPermission, project: Project): boolean {
    return this.accessLevel(actor, project) >= PROJECT_PERMISSIONS[permission];
  }

  /**
   * The project a path names (a numeric id), if the actor may do `permission` on it:
   * 404 when it does not exist or the actor may not read it, 403 when it may read but not do this.
   */
  project(actor: Actor, rawId: string, permission: ProjectPermission): Project {
    const project = this.findProject(rawId);
    if (!project || !this.can(actor, 'read_project', project)) throw notFound('Project');
    if (!this.can(actor, permission, project)) throw forbidden();
    return project;
  }

  /** Instance administration (users, all runners, registration token): admins only. */
  requireAdmin(actor: Actor): void {
    if (!actor.admin) throw forbidden();
  }

  private findProject(rawId: string): Project | null {
    if (!/^\d{1,15}$/.test(rawId)) return null;
    return this.projects.find(Number(rawId));
  }
}
