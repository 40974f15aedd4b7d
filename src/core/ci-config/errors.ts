/**
 * How the compiler reports problems. Loading, interpolation, includes, `extends` and
 * `!reference` stop at the first problem (GitLab aborts there too) by throwing ConfigError;
 * the entries collect every problem into an Errors list. Messages are GitLab's, with the
 * entry location in front (`jobs:rspec:artifacts config …`), lower-cased as GitLab does.
 */

export class ConfigError extends Error {}

/** A list of messages plus the location-prefixing helpers the entries use. */
export class Errors {
  readonly list: string[] = [];
  readonly warnings: string[] = [];

  /** GitLab lower-cases every entry message (location included). */
  add(location: string, message: string): void {
    this.list.push(`${location} ${message}`.trim().toLowerCase());
  }

  /** A message that is not lower-cased (GitLab builds some outside its entry validator). */
  raw(message: string): void {
    this.list.push(message);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  get count(): number {
    return this.list.length;
  }
}

/** `jobs:rspec` + `artifacts` → `jobs:rspec:artifacts`. */
export function at(location: string, key: string): string {
  return location === '' ? key : `${location}:${key}`;
}
