/**
 * People for tests: users, tokens and memberships made through the REST API of a test
 * server (as an admin would), and calls made as one of them.
 */
import { expect } from 'bun:test';
import type { TestServer } from './harness';

export interface TestUser { id: number; username: string; password: string; token: string }

let seq = 0;
export const uniqueName = (prefix = 'user') => `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 6)}`;

async function ok<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(`${res.status} ${text}`.slice(0, 400)).toStartWith(`${status} `);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A user with a password and an `api` token (or the scopes given), made by the admin. */
export async function makeUser(s: TestServer, opts: { username?: string; admin?: boolean; scopes?: string[]; expiresAt?: string; email?: string } = {}): Promise<TestUser> {
  const username = opts.username ?? uniqueName();
  const password = `pw-${username}-secret`;
  const user = await ok<{ id: number }>(await s.api('/api/v4/users', {
    method: 'POST', json: { username, name: `Name of ${username}`, email: opts.email ?? `${username}@example.com`, password, admin: opts.admin ?? false },
  }), 201);
  const token = await makeToken(s, user.id, opts.scopes ?? ['api'], opts.expiresAt);
  return { id: user.id, username, password, token };
}

export async function makeToken(s: TestServer, userId: number, scopes: string[] = ['api'], expiresAt?: string): Promise<string> {
  const t = await ok<{ token: string }>(await s.api(`/api/v4/users/${userId}/personal_access_tokens`, {
    method: 'POST', json: { name: `t-${userId}-${++seq}`, scopes, ...(expiresAt ? { expires_at: expiresAt } : {}) },
  }), 201);
  return t.token;
}

export async function addMember(s: TestServer, projectId: number, userId: number, accessLevel: number) {
  await ok(await s.api(`/api/v4/projects/${projectId}/members`, { method: 'POST', json: { user_id: userId, access_level: accessLevel } }), 201);
}

/** fetch as a token holder (PRIVATE-TOKEN) */
export function as(s: TestServer, token: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  return s.api(path, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), 'PRIVATE-TOKEN': token } });
}

/** `YYYY-MM-DD` of a day `days` after the clock's now */
export function dayFrom(now: number, days: number): string {
  return new Date(now + days * 86_400_000).toISOString().slice(0, 10);
}
