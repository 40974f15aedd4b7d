/**
 * The one list of domain errors. The core throws these; src/http/errors.ts maps each code
 * to an HTTP status in one place, and the runner adapters pick GitLab's exact codes.
 */
export type ErrorCode =
  | 'bad_request'        // input invalid; message names the field
  | 'unauthorized'       // no or wrong credential on the people API
  | 'forbidden'          // wrong credential on a runner endpoint, or not allowed
  | 'not_found'          // the named thing does not exist (or is not visible)
  | 'conflict'           // lost a race or state forbids it
  | 'unprocessable'      // well-formed but cannot be done as asked (GitLab's 422)
  | 'too_large'          // a size limit was reached
  | 'rate_limited'       // too many attempts (failed sign-ins); details.retryAfter in seconds
  | 'range_mismatch'     // trace offset is not the stored length
  | 'storage_full'       // the data dir cannot take more bytes
  | 'unavailable';       // a dependency (disk, git) is not usable right now

/**
 * `details.body` replaces the default `{"message": …}` answer where GitLab answers in
 * another shape (field validation, OAuth errors); `details.headers` are added to it.
 */
export class DomainError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly details?: Record<string, unknown> & { body?: unknown; headers?: Record<string, string> }) {
    super(message);
  }
}

export const badRequest = (message: string) => new DomainError('bad_request', message);
export const notFound = (thing: string) => new DomainError('not_found', `404 ${thing} Not Found`);
export const forbidden = (message = '403 Forbidden') => new DomainError('forbidden', message);
export const conflict = (message = '409 Conflict') => new DomainError('conflict', message);

/** GitLab's model validation answer: 400 `{"message": {"field": ["problem", …]}}`. */
export const invalid = (field: string, problem: string) =>
  new DomainError('bad_request', `${field} ${problem}`, { body: { message: { [field]: [problem] } } });
