/**
 * Push webhooks from the four forges, against a real server and a real git repository
 * (the project's repo_url): each forge's delivery with a good, a bad and no signature, a
 * branch push, a tag push, a deletion, a [skip ci] commit and a redelivery; form-encoded
 * deliveries; bad payloads; a ref the .gitlab-ci.yml has no jobs for; the deliveries list.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { deleteEvent, deliver, FORGES, pingPayload, pushPayload, ZERO, type Forge } from '../support/forge-deliveries';
import { makeRepo, type TestRepo } from '../support/git-repo';
import { startTestServer, type TestServer } from '../support/harness';

let server: TestServer;
let repo: TestRepo;

beforeAll(async () => {
  repo = makeRepo({ '.gitlab-ci.yml': 'build:\n  script: [echo build]\n  except: [nojobs]\n' });
  // the worker is driven by hand (drain), so each test sees exactly what it queued
  server = await startTestServer({}, { outboxEveryMs: 0 });
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

interface ProjectJson { id: number; webhook_secret: string; webhook_url: string }
async function project(): Promise<ProjectJson> {
  const res = await server.api('/api/v4/projects', { method: 'POST', json: { name: `hooked-${Math.random().toString(36).slice(2, 8)}`, repo_url: repo.dir } });
  expect(res.status).toBe(201);
  return res.json() as Promise<ProjectJson>;
}

async function post(p: ProjectJson, d: { headers: Record<string, string>; body: string }) {
  const res = await fetch(`${server.url}/api/v4/projects/${p.id}/webhook`, { method: 'POST', headers: d.headers, body: d.body });
  return { status: res.status, body: (await res.json()) as { message: string; delivery?: { id: number; state: string; reason: string | null } } };
}

async function pipelines(p: ProjectJson) {
  return (await (await server.api(`/api/v4/projects/${p.id}/pipelines`)).json()) as { id: number; ref: string; tag: boolean; sha: string; before_sha: string; source: string }[];
}

async function deliveries(p: ProjectJson) {
  return (await (await server.api(`/api/v4/projects/${p.id}/forge/deliveries`)).json()) as { id: number; kind: string; event: string; state: string; reason: string | null; pipeline_id: number | null; ref: string | null; delivery_id: string | null }[];
}

describe.each(FORGES)('%s deliveries', (forge: Forge) => {
  let p: ProjectJson;
  let before: string;
  let after: string;
  beforeAll(async () => {
    p = await project();
    before = repo.sha();
    after = repo.commit(`work for ${forge}`, { [`${forge}.txt`]: forge });
  });

  test('a push signed with the webhook secret answers 202 and creates a push pipeline at the pushed head', async () => {
    const payload = pushPayload(forge, { ref: 'refs/heads/main', before, after, message: `Fix the ${forge} build\n\nLonger text.`, author: { name: 'Grace Hopper', email: 'grace@example.com' } });
    const r = await post(p, deliver(forge, p.webhook_secret, payload, { deliveryId: `${forge}-push-1` }));
    expect(r.status).toBe(202);
    expect(r.body.delivery!.state).toBe('pending');
    expect(await pipelines(p)).toEqual([]); // answered before git was asked
    await server.core.outbox.drain();
    const [pl] = await pipelines(p);
    expect({ ref: pl.ref, tag: pl.tag, sha: pl.sha, before_sha: pl.before_sha, source: pl.source }).toEqual({ ref: 'main', tag: false, sha: after, before_sha: before, source: 'push' });
    const [d] = await deliveries(p);
    expect(d).toMatchObject({ kind: 'webhook', state: 'done', pipeline_id: pl.id, ref: 'main', delivery_id: `${forge}-push-1` });
    // the head commit as the forge described it travels with the delivery (CI_COMMIT_* come from it)
    const row = server.core.outbox.get(d.id)!;
    expect((row.payload as { commit: unknown }).commit).toEqual({ message: `Fix the ${forge} build\n\nLonger text.`, authorName: 'Grace Hopper', authorEmail: 'grace@example.com', timestamp: '2026-01-01T10:00:00+01:00' });
  });

  test('the same delivery again creates nothing new (200, the earlier delivery named)', async () => {
    const payload = pushPayload(forge, { ref: 'refs/heads/main', before, after });
    const r = await post(p, deliver(forge, p.webhook_secret, payload, { deliveryId: `${forge}-push-1` }));
    expect(r.status).toBe(200);
    expect(r.body.message).toContain('already received');
    await server.core.outbox.drain();
    expect((await pipelines(p)).length).toBe(1);
    expect((await deliveries(p)).length).toBe(1);
  });

  test('a wrong signature and no signature are 401 and create nothing', async () => {
    const payload = pushPayload(forge, { ref: 'refs/heads/main', before, after });
    for (const signature of ['bad', 'none'] as const) {
      const r = await post(p, deliver(forge, p.webhook_secret, payload, { signature }));
      expect(`${signature}: ${r.status}`).toBe(`${signature}: 401`);
      expect(r.body.message).toMatch(signature === 'bad' ? /does not match/ : /carries no/);
    }
    await server.core.outbox.drain();
    expect((await pipelines(p)).length).toBe(1);
    expect((await deliveries(p)).length).toBe(1);
  });

  test('a tag push creates a tag pipeline (an annotated tag is built at its commit)', async () => {
    const commit = repo.sha();
    const tagObject = repo.tag(`v-${forge}`, true);
    expect(tagObject).not.toBe(commit);
    const payload = pushPayload(forge, { ref: `refs/tags/v-${forge}`, before: ZERO, after: forge === 'gitlab' ? tagObject : commit, commit, message: 'tagged commit\n' });
    const r = await post(p, deliver(forge, p.webhook_secret, payload));
    expect(r.status).toBe(202);
    await server.core.outbox.drain();
    const [pl] = await pipelines(p);
    expect({ ref: pl.ref, tag: pl.tag, sha: pl.sha, source: pl.source }).toEqual({ ref: `v-${forge}`, tag: true, sha: commit, source: 'push' });
  });

  test('a branch deletion is 200 with the reason and no pipeline', async () => {
    const count = (await pipelines(p)).length;
    const d = forge === 'gitea' || forge === 'forgejo'
      ? deliver(forge, p.webhook_secret, deleteEvent(forge, 'feature'), { event: 'delete' })
      : deliver(forge, p.webhook_secret, pushPayload(forge, { ref: 'refs/heads/feature', before: after, after: ZERO }));
    const r = await post(p, d);
    expect(r.status).toBe(200);
    expect(r.body.message).toMatch(/feature was deleted: no pipeline/);
    expect(r.body.delivery!.state).toBe('skipped');
    await server.core.outbox.drain();
    expect((await pipelines(p)).length).toBe(count);
  });

  test('[skip ci] in the head commit message is 200 with the reason and no pipeline', async () => {
    const count = (await pipelines(p)).length;
    const head = repo.commit('docs only [SKIP-CI]');
    const r = await post(p, deliver(forge, p.webhook_secret, pushPayload(forge, { ref: 'refs/heads/main', before: after, after: head, message: 'docs only [SKIP-CI]' })));
    expect(r.status).toBe(200);
    expect(r.body.message).toBe('the head commit asks for [skip ci]: no pipeline');
    await server.core.outbox.drain();
    expect((await pipelines(p)).length).toBe(count);
    const [d] = await deliveries(p);
    expect([d.state, d.reason]).toEqual(['skipped', 'the head commit asks for [skip ci]: no pipeline']);
  });
});

describe('what else forges send', () => {
  test('form-encoded deliveries: Gitea signs the decoded payload, GitHub the raw body', async () => {
    const p = await project();
    const before = repo.sha();
    const after = repo.commit('form delivery');
    for (const forge of ['gitea', 'github'] as const) {
      const r = await post(p, deliver(forge, p.webhook_secret, pushPayload(forge, { ref: 'refs/heads/main', before, after }), { form: true }));
      expect(`${forge}: ${r.status}`).toBe(`${forge}: 202`);
    }
    // a Gitea signature over the whole form body (GitHub's rule) does not pass, nor the reverse
    const { createHmac } = await import('node:crypto');
    const json = JSON.stringify(pushPayload('gitea', { ref: 'refs/heads/main', before, after }));
    const form = `payload=${encodeURIComponent(json)}`;
    const giteaWrong = deliver('gitea', p.webhook_secret, {}, {});
    giteaWrong.headers['content-type'] = 'application/x-www-form-urlencoded';
    giteaWrong.headers['X-Gitea-Signature'] = createHmac('sha256', p.webhook_secret).update(form).digest('hex');
    giteaWrong.headers['X-Hub-Signature-256'] = '';
    expect((await post(p, { headers: giteaWrong.headers, body: form })).status).toBe(401);
    await server.core.outbox.drain();
    expect((await pipelines(p)).length).toBe(2);
  });

  test('GitHub ping, create and other events: 200 with the reason, nothing built', async () => {
    const p = await project();
    const cases: [Forge, string, unknown, RegExp][] = [
      ['github', 'ping', pingPayload(), /^ping/],
      ['github', 'create', { ref: 'feature', ref_type: 'branch' }, /create event starts nothing/],
      ['github', 'pull_request', { action: 'opened' }, /pull_request event starts no pipeline/],
      ['gitea', 'issues', { action: 'opened' }, /issues event starts no pipeline/],
      ['gitlab', 'Merge Request Hook', { object_kind: 'merge_request' }, /Merge Request Hook event starts no pipeline/],
    ];
    for (const [forge, event, payload, why] of cases) {
      const r = await post(p, deliver(forge, p.webhook_secret, payload, { event }));
      expect(`${forge} ${event}: ${r.status}`).toBe(`${forge} ${event}: 200`);
      expect(r.body.message).toMatch(why);
    }
    expect((await deliveries(p)).map((d) => d.state)).toEqual(['skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
  });

  test("Gitea's test delivery (all-zero commit) and a push with before = after start nothing", async () => {
    const p = await project();
    const fake = pushPayload('gitea', { ref: 'refs/heads/main', before: ZERO, after: ZERO, message: 'This is a fake commit for webhook push test' });
    expect((await post(p, deliver('gitea', p.webhook_secret, fake))).body.message).toMatch(/deleted|test delivery/);
    const sha = repo.sha();
    const same = await post(p, deliver('gitea', p.webhook_secret, pushPayload('gitea', { ref: 'refs/heads/main', before: sha, after: sha })));
    expect([same.status, same.body.message]).toEqual([200, 'before and after are the same commit (a test delivery): no pipeline']);
  });

  test('a ref the .gitlab-ci.yml has no jobs for: accepted, then the delivery ends skipped with the reason', async () => {
    const p = await project();
    const before = repo.sha();
    repo.branch('nojobs');
    repo.checkout('nojobs');
    const after = repo.commit('on a branch without jobs');
    repo.checkout('main');
    const r = await post(p, deliver('github', p.webhook_secret, pushPayload('github', { ref: 'refs/heads/nojobs', before, after })));
    expect(r.status).toBe(202);
    await server.core.outbox.drain();
    expect(await pipelines(p)).toEqual([]);
    const [d] = await deliveries(p);
    expect(d.state).toBe('skipped');
    expect(d.reason).toContain('No stages / jobs for this pipeline.');
  });

  test('bad payloads are 400 naming the field; unknown projects 404; huge bodies 413', async () => {
    const p = await project();
    const sha = repo.sha();
    const cases: [unknown, string][] = [
      [{ before: sha, after: sha }, 'ref is missing'],
      [{ ref: 'main', before: sha, after: sha }, 'ref is invalid'],
      [{ ref: 'refs/heads/main', after: sha }, 'before is missing'],
      [{ ref: 'refs/heads/main', before: sha, after: 'xyz' }, 'after is invalid'],
      [{ ref: 'refs/heads/main', before: sha, after: sha.replace(/^./, '1'), head_commit: 'nope' }, 'head_commit is invalid'],
      [{ ref: 'refs/heads/main', before: sha, after: sha.replace(/^./, '1'), commits: {} }, 'commits is invalid'],
      [[1, 2], 'must be a JSON object'],
    ];
    for (const [payload, why] of cases) {
      const r = await post(p, deliver('github', p.webhook_secret, payload));
      expect(`${r.status} ${r.body.message}`).toContain(`400 `);
      expect(r.body.message).toContain(why);
    }
    const broken = deliver('github', p.webhook_secret, {});
    const { createHmac } = await import('node:crypto');
    broken.headers['X-Hub-Signature-256'] = `sha256=${createHmac('sha256', p.webhook_secret).update('{not json').digest('hex')}`;
    expect((await post(p, { headers: broken.headers, body: '{not json' })).body.message).toContain('not valid JSON');
    const nowhere = await fetch(`${server.url}/api/v4/projects/99999/webhook`, { method: 'POST', ...deliver('github', 'x', {}) });
    expect(nowhere.status).toBe(404);
    const huge = await fetch(`${server.url}/api/v4/projects/${p.id}/webhook`, { method: 'POST', headers: { 'X-GitHub-Event': 'push', 'content-type': 'application/json' }, body: 'x'.repeat(26 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(await deliveries(p)).toEqual([]);
  });

  test('the webhook secret is shown to maintainers and can be rotated: the old one stops working', async () => {
    const p = await project();
    const shown = (await (await server.api(`/api/v4/projects/${p.id}/webhook_secret`)).json()) as { webhook_url: string; webhook_secret: string };
    expect(shown).toEqual({ webhook_url: `${server.url}/api/v4/projects/${p.id}/webhook`, webhook_secret: p.webhook_secret });
    const rotated = (await (await server.api(`/api/v4/projects/${p.id}/webhook_secret/rotate`, { method: 'POST' })).json()) as { webhook_secret: string };
    expect(rotated.webhook_secret).not.toBe(p.webhook_secret);
    expect(rotated.webhook_secret).toMatch(/^[0-9a-f]{40}$/);
    const payload = pushPayload('gitlab', { ref: 'refs/heads/main', before: ZERO, after: repo.sha() });
    expect((await post(p, deliver('gitlab', p.webhook_secret, payload))).status).toBe(401);
    expect((await post(p, deliver('gitlab', rotated.webhook_secret, payload))).status).toBe(202);
    expect((await server.api(`/api/v4/projects/${p.id}/webhook_secret`, { auth: false })).status).toBe(401);
  });
});
