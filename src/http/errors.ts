/**
 * Every error becomes an HTTP answer here, in one place: domain errors by code, Elysia's
 * validation failures as 400 naming the field (GitLab's status, not Elysia's 422), unknown
 * routes as 404 JSON, anything unexpected as a generic 500 logged with its stack.
 */
import { Elysia } from 'elysia';
import { DomainError, type ErrorCode } from '../core/errors';
import type { Logger } from '../log';
import { bodyProblem, ParamsError } from './params';
import { json } from './respond';
import { requestIdOf } from './request-log';

export const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_large: 413,
  rate_limited: 429,
  range_mismatch: 416,
  storage_full: 507,
  unavailable: 503,
};

/** `/info/name` + "Expected string" → `info.name is invalid: Expected string`. */
export function validationMessage(error: unknown): string {
  const e = error as { valueError?: { path?: string; message?: string }; all?: { path?: string; message?: string }[] };
  let all: { path?: string; message?: string }[] = [];
  try { all = e.all ?? []; } catch { /* `all` re-validates and may throw on odd input */ }
  // Some checkers (numeric ranges) leave the first error's path empty; a later one names the field.
  const named = [e.valueError, ...all].find((x) => x?.path && x.path !== '/');
  const first = named ?? e.valueError ?? all[0];
  const field = (first?.path ?? '').replace(/^\//, '').replace(/\//g, '.');
  if (!field) return first?.message ?? 'invalid request';
  return first?.message?.startsWith('Expected required property') ? `${field} is missing` : `${field} is invalid: ${first?.message ?? ''}`.trim();
}

/** The answer to an error, by kind (Elysia's `code` when it raised it). */
export function answerError(log: Logger, error: unknown, request: Request, code?: string | number): Response {
  if (error instanceof DomainError) {
    const d = error.details;
    return json(d?.body ?? { message: error.message }, STATUS[error.code], d?.headers);
  }
  if (error instanceof ParamsError) return json({ message: `400 Bad request - ${error.message}`, error: error.message }, 400);
  switch (code) {
    case 'VALIDATION': {
      const mine = bodyProblem(request);
      if (mine) return json({ message: `400 Bad request - ${mine.message}`, error: mine.message }, 400);
      return json({ message: `400 Bad request - ${validationMessage(error)}`, error: validationMessage(error) }, 400);
    }
    case 'NOT_FOUND':
      return json({ message: '404 Not Found' }, 404);
    case 'PARSE': {
      // Elysia wraps what a route's parser throws (size cap, bad JSON, bad UTF-8): answer the cause.
      const cause = (error as Error).cause;
      if (cause instanceof DomainError) return json({ message: cause.message }, STATUS[cause.code]);
      if (cause instanceof ParamsError) return json({ message: `400 Bad request - ${cause.message}` }, 400);
      return json({ message: '400 Bad request - the body could not be parsed' }, 400);
    }
    case 'INVALID_COOKIE_SIGNATURE':
    case 'INVALID_FILE_TYPE':
      return json({ message: `400 Bad request - ${(error as Error).message}` }, 400);
  }
  const err = error as Error & { code?: string };
  if (err?.code === 'ENOSPC') return json({ message: 'Insufficient storage: the data directory is full' }, 507);
  if (err?.code === 'EROFS' || err?.code === 'EACCES') return json({ message: 'Storage unavailable: the data directory is not writable' }, 503);
  // SQLite's own storage faults; the transaction was rolled back, so nothing half-done remains.
  if (err?.code === 'SQLITE_FULL') return json({ message: 'Insufficient storage: the data directory is full' }, 507);
  if (/^SQLITE_(READONLY|IOERR|CANTOPEN)/.test(err?.code ?? '')) return json({ message: 'Storage unavailable: the database cannot be written' }, 503);
  if (/^SQLITE_(BUSY|LOCKED)/.test(err?.code ?? '')) return json({ message: 'Storage busy: try again' }, 503, { 'Retry-After': '1' });
  log.error({ err, reqId: requestIdOf(request) }, 'unexpected error');
  return json({ message: '500 Internal Server Error' }, 500);
}

export function errorHandler(log: Logger) {
  return new Elysia({ name: 'baton.errors' })
    .onError({ as: 'global' }, ({ code, error, request }) => answerError(log, error, request, code));
}
