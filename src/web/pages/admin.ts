/** Instance administration: runners (with the registration token) and users. Admins only. */
import type { Job, Project, Runner } from '../../db/schema';
import type { Seen, Web } from '../context';
import { html, query } from '../html';
import { timeAgo } from '../views/format';
import { actionButton } from '../views/status';
import { layout } from './layout';
import { pager } from './pipelines';

const PER_PAGE = 50;

/** Runners as a table: status, what they are, what they run; pause/resume where `canToggle` says. */
export function runnersTable(web: Web, rows: Runner[], canToggle: (r: Runner) => boolean) {
  const running = new Map<number, Job[]>();
  for (const j of web.core.jobs.runningOn(rows.map((r) => r.id))) running.set(j.runnerId!, [...(running.get(j.runnerId!) ?? []), j]);
  const now = web.core.deps.clock.now();
  const body = rows.map((r) => {
    const shown = web.show.runner(r);
    const jobs = running.get(r.id) ?? [];
    return html`<tr>
<td><span class="dot ${shown.online ? 'online' : 'offline'}" aria-hidden="true"></span> ${shown.online ? 'online' : shown.status.replace('_', ' ')}${shown.paused ? html` <span class="tag warn">paused</span>` : ''}</td>
<td><span class="strong">#${r.id}</span> ${r.description || html`<span class="muted">(no description)</span>`}<div class="small muted">${shown.runner_type === 'instance_type' ? 'instance runner' : `project runner of ${shown.projects.map((p) => p.path_with_namespace).join(', ')}`}</div></td>
<td>${r.version ? html`<code>${r.version}</code>` : '—'}${r.executor ? html`<div class="small muted">${r.executor}</div>` : ''}</td>
<td><span class="tag">${shown.protocol}</span></td>
<td>${r.tagList.length ? r.tagList.map((t) => html`<span class="tag">${t}</span> `) : html`<span class="muted">none</span>`}${r.runUntagged ? html`<div class="small muted">runs untagged jobs</div>` : ''}</td>
<td>${shown.contacted_at ? html`<time datetime="${shown.contacted_at}" data-ago>${timeAgo(shown.contacted_at, now)}</time>` : 'never'}</td>
<td>${jobs.length ? jobs.map((j) => {
      const p = web.core.projects.find(j.projectId);
      return p ? html`<a href="/${p.namespace}/${p.path}/-/jobs/${j.id}">${j.name} #${j.id}</a> ` : '';
    }) : html`<span class="muted">idle</span>`}</td>
<td>${canToggle(r) ? actionButton(shown.paused ? 'Resume' : 'Pause', { path: `/api/v4/runners/${r.id}`, method: 'PUT', body: { paused: !shown.paused }, aria: `${shown.paused ? 'Resume' : 'Pause'} runner #${r.id}` }) : ''}</td>
</tr>`;
  });
  return html`<div class="table-wrap"><table class="list runners">
<caption class="sr-only">Runners</caption>
<thead><tr><th scope="col">Status</th><th scope="col">Runner</th><th scope="col">Version</th><th scope="col">Protocol</th><th scope="col">Tags</th><th scope="col">Last contact</th><th scope="col">Current job</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${body}</tbody></table></div>`;
}

export function runnersPage(web: Web, s: Seen, q: { page?: string }): string {
  web.core.access.requireAdmin(s.actor);
  const page = Math.max(1, Number(q.page) || 1);
  const { rows, total } = web.core.runners.list({ offset: (page - 1) * PER_PAGE, limit: PER_PAGE });
  return layout({
    title: 'Runners', viewer: s.viewer, page: 'runners', crumbs: [['Admin'], ['Runners']],
    main: html`<h1>Runners</h1>
<section class="card" aria-labelledby="register"><h2 id="register">Register a runner</h2>
<p>Runners register with this server's URL and the instance registration token:</p>
<pre class="cmd"><code>gitlab-runner register --url ${web.core.deps.server.url}/ --registration-token <span data-registration-token>${web.core.instance.registrationToken()}</span></code></pre>
<p>${actionButton('Reset the registration token', { path: '/api/v4/runners/reset_registration_token', then: 'reload', kind: 'danger', confirm: 'Runners registered already keep working; new registrations need the new token. Reset it?' })}</p>
</section>
<h2>All runners <span class="muted small">(${total})</span></h2>
${total === 0 ? html`<p class="empty">No runner has registered yet.</p>` : runnersTable(web, rows, () => true)}
${pager(page, Math.max(1, Math.ceil(total / PER_PAGE)), (n) => `/admin/runners${query({ page: n })}`)}`,
  }).value;
}

/**
 * A project's runners, for its Maintainers (GitLab's `/-/runners`): its project runners, which
 * they may pause and resume (the REST API's runner rules), and the instance runners it may use.
 */
export function projectRunnersPage(web: Web, s: Seen, project: Project): string {
  const own = web.core.runners.list({ projectId: project.id, offset: 0, limit: 100 });
  const shared = project.sharedRunnersEnabled ? web.core.runners.list({ offset: 0, limit: 100 }).rows.filter((r) => r.isShared) : [];
  const base = `/${project.namespace}/${project.path}`;
  return layout({
    title: `Runners · ${project.name}`, viewer: s.viewer, page: 'project-runners',
    crumbs: [['Projects', '/'], [`${project.namespace} / ${project.name}`, base], ['Runners']],
    main: html`<h1>Runners of ${project.name}</h1>
<section class="card" aria-labelledby="register"><h2 id="register">Register a project runner</h2>
<pre class="cmd"><code>gitlab-runner register --url ${web.core.deps.server.url}/ --registration-token ${project.runnersToken}</code></pre></section>
<h2>Project runners <span class="muted small">(${own.total})</span></h2>
${own.total === 0 ? html`<p class="empty">No project runner yet.</p>` : runnersTable(web, own.rows, () => true)}
<h2>Instance runners</h2>
${!project.sharedRunnersEnabled ? html`<p class="muted">Instance runners are turned off for this project.</p>`
  : shared.length === 0 ? html`<p class="empty">No instance runner.</p>` : runnersTable(web, shared, () => s.viewer.admin)}`,
  }).value;
}

export function usersPage(web: Web, s: Seen, q: { page?: string }): string {
  web.core.access.requireAdmin(s.actor);
  const page = Math.max(1, Number(q.page) || 1);
  const { rows, total } = web.core.users.list((page - 1) * PER_PAGE, PER_PAGE);
  const now = web.core.deps.clock.now();
  const body = rows.map((u) => html`<tr>
<td><span class="strong">${u.username}</span>${u.admin ? html` <span class="tag">admin</span>` : ''}<div class="small muted">${u.name}</div></td>
<td>${u.email ?? html`<span class="muted">—</span>`}</td>
<td>${u.state === 'blocked' ? html`<span class="tag warn">blocked</span>` : 'active'}</td>
<td>${u.currentSignInAt ? html`<time datetime="${new Date(u.currentSignInAt).toISOString()}" data-ago>${timeAgo(new Date(u.currentSignInAt).toISOString(), now)}</time>` : html`<span class="muted">never</span>`}</td>
<td>${u.id === s.viewer.id ? html`<span class="muted small">you</span>` : u.state === 'blocked'
    ? actionButton('Unblock', { path: `/api/v4/users/${u.id}/unblock`, aria: `Unblock ${u.username}` })
    : actionButton('Block', { path: `/api/v4/users/${u.id}/block`, kind: 'danger', aria: `Block ${u.username}`, confirm: `Block ${u.username}? Their tokens and sessions stop working.` })}</td>
</tr>`);
  return layout({
    title: 'Users', viewer: s.viewer, page: 'users', crumbs: [['Admin'], ['Users']],
    main: html`<h1>Users</h1>
<div class="table-wrap"><table class="list users"><caption class="sr-only">Users</caption>
<thead><tr><th scope="col">User</th><th scope="col">Email</th><th scope="col">State</th><th scope="col">Last sign-in</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${body}</tbody></table></div>
${pager(page, Math.max(1, Math.ceil(total / PER_PAGE)), (n) => `/admin/users${query({ page: n })}`)}
<section class="card" aria-labelledby="new-user"><h2 id="new-user">New user</h2>
<form class="grid-form" data-new-user>
<label>Username <input name="username" required autocomplete="off" spellcheck="false"></label>
<label>Name <input name="name" required autocomplete="off"></label>
<label>Email <input name="email" type="email" autocomplete="off"></label>
<label>Password <input name="password" type="password" required minlength="8" autocomplete="new-password"></label>
<label class="check"><input name="admin" type="checkbox"> Administrator</label>
<div class="form-error" role="alert" hidden data-error></div>
<div><button class="btn primary" type="submit">Create user</button></div>
</form></section>`,
  }).value;
}
