/** Runner API v4 (`/api/v4/runners`, `/api/v4/jobs`) for gitlab-runner 9.0 and later. */
import { Elysia } from 'elysia';
import type { Core } from '../../core';
import type { RunnerApiOptions } from '../v1/routes';

export function runnerApiV4(_core: Core, _opts: RunnerApiOptions) {
  return new Elysia({ name: 'runner-api.v4', prefix: '/api/v4' });
}
