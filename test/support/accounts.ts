/**
 * Accounts for dashboard and stream tests, made through the REST API as an admin would:
 * a user with a password (for the sign-in page) and an `api` token, and project memberships.
 */
import type { TestServer } from './harness';

export interface Account { id: number; username: string; password: string; token: string }

let seq = 0;

export async function createAccount(s: TestServer, opts: { username?: string; admin?: boolean } = {}): Promise<Account> {
  const username = opts.username ?? `user${++seq}${Math.random().toString(36).slice(2, 6)}`;
  const password = `pw-${username}-Secret-1`;
  const res = await s.api('/api/v4/users', { method: 'POST', json: { username, name: `${username[0].toUpperCase()}${username.slice(1)} Tester`, email: `${username}@example.com`, password, admin: opts.admin ?? false } });
  if (res.status !== 201) throw new Error(`create user: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: number };
  const t = await s.api(`/api/v4/users/${id}/personal_access_tokens`, { method: 'POST', json: { name: 'tests', scopes: ['api'] } });
  if (t.status !== 201) throw new Error(`create token: ${t.status} ${await t.text()}`);
  return { id, username, password, token: ((await t.json()) as { token: string }).token };
}

export const ROLE = { guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;

export async function addMember(s: TestServer, projectId: number, userId: number, accessLevel: number) {
  const res = await s.api(`/api/v4/projects/${projectId}/members`, { method: 'POST', json: { user_id: userId, access_level: accessLevel } });
  if (res.status !== 201) throw new Error(`add member: ${res.status} ${await res.text()}`);
}
