/** The GitLab-shaped REST API for people (`/api/v4`, admin token): consumer-api.md §2. */
import { Elysia } from 'elysia';
import type { Core } from '../core';

export function restApi(_core: Core) {
  return new Elysia({ name: 'rest-api' });
}
