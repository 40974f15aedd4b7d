/**
 * What every client command shares: the connection flags, parsing with util.parseArgs
 * (strict — an unknown flag is an error naming the command's --help), typed access to the
 * flags, and the lookup of the project a pipeline or job belongs to.
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import { BatonClient, DEFAULT_URL } from './client';
import { ClientError } from './errors';

export interface Command {
  /** one line for `baton --help` and the group's help */
  summary: string;
  /** the `Usage:` line, without `baton ` */
  usage: string;
  /** what it does and its own flags */
  help: string;
  options: ParseArgsOptionsConfig;
  /** names of the required positional arguments, e.g. ['ID'] */
  positionals?: string[];
  run(args: Args, client: BatonClient): Promise<void>;
}

export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export const JSON_OPTION = { json: { type: 'boolean' } } as const satisfies ParseArgsOptionsConfig;
export const JSON_HELP = '  --json              print the server\'s JSON instead of a table';

export const CONNECTION_HELP = `Connection:
  --url URL           the Baton server (env BATON_URL, default ${DEFAULT_URL})
  --token TOKEN       the admin token or a personal access token, sent as PRIVATE-TOKEN
                      (env BATON_TOKEN)
  -h, --help          this text`;

/** The parsed flags and positionals of one command, with checks that name the flag. */
export class Args {
  constructor(readonly command: string, private values: Record<string, unknown>, readonly positionals: string[]) {}

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string | undefined {
    const v = this.values[name];
    if (typeof v !== 'string') return undefined;
    if (v.trim() === '') throw new ClientError(`--${name}: must not be empty`);
    return v;
  }

  required(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw new ClientError(`--${name} is required (see baton ${this.command} --help)`);
    return v;
  }

  list(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v.map(String) : [];
  }

  /** A positive integer id from a flag (`--project`) or a positional (`ID`, index 0). */
  id(name: string, from: 'flag' | 'positional' = 'flag'): number | undefined {
    const raw = from === 'flag' ? this.string(name) : this.positionals[0];
    if (raw === undefined) return undefined;
    if (!/^\d{1,15}$/.test(raw.trim()) || Number(raw) < 1) {
      throw new ClientError(`${from === 'flag' ? `--${name}` : `${this.command} ${name}`}: expected a numeric id, got "${raw}"`);
    }
    return Number(raw);
  }

  /** A number of seconds > 0 (`--interval 0.5`). */
  seconds(name: string, fallback: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(n > 0)) throw new ClientError(`--${name}: expected a number of seconds above 0, got "${raw}"`);
    return n;
  }
}

export function renderHelp(cmd: Command): string {
  return `Usage: baton ${cmd.usage}\n\n${cmd.help.trimEnd()}\n\n${CONNECTION_HELP}\n`;
}

/**
 * Finds which project a pipeline or job belongs to. The REST API addresses both per project;
 * ids are unique across the instance, so without --project the projects are asked in turn
 * (a few at a time) until one knows the id.
 */
export async function locate<T>(client: BatonClient, kind: 'pipeline' | 'job', id: number, projectId: number | undefined): Promise<{ projectId: number; item: T }> {
  const path = (p: number) => `/projects/${p}/${kind}s/${id}`;
  if (projectId !== undefined) return { projectId, item: await client.get<T>(path(projectId)) };
  const projects = await client.list<{ id: number }>('/projects');
  const BATCH = 8;
  for (let i = 0; i < projects.length; i += BATCH) {
    const found = await Promise.all(projects.slice(i, i + BATCH).map(async ({ id: p }) => {
      try {
        return { projectId: p, item: await client.get<T>(path(p)) };
      } catch (e) {
        if (e instanceof ClientError && e.status === 404) return null;
        throw e;
      }
    }));
    const hit = found.find((f) => f !== null);
    if (hit) return hit;
  }
  throw new ClientError(`${kind} ${id} not found in any of the ${projects.length} project(s) on ${client.url}`);
}
