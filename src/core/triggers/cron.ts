/**
 * Cron lines as GitLab's schedules take them: five fields (minute hour day-of-month month
 * day-of-week) with ranges, steps, lists and names (`*\/15 9-17 * JAN-MAR mon-fri`), or
 * `@hourly`, `@daily`/`@midnight`, `@weekly`, `@monthly`, `@yearly`/`@annually`; in an IANA
 * time zone. Evaluated by croner (no dependencies, time zones through Intl). Around DST a
 * slot that does not exist (02:30 on the spring-forward night) runs at the first minute
 * after the gap, and a slot that happens twice (autumn) runs once.
 */
import { Cron } from 'croner';
import { badRequest } from '../errors';

const NICKNAMES = new Set(['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually']);
const FIELD = /^[0-9A-Za-z*/,-]+$/;

export function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw badRequest(`cron_timezone is invalid: "${tz.slice(0, 100)}" is not a known IANA time zone (such as UTC, Europe/Berlin, America/New_York)`);
  }
  // Intl also takes offsets like "+01:00"; GitLab wants zone names.
  if (!/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(tz)) throw badRequest(`cron_timezone is invalid: "${tz.slice(0, 100)}" is not a time zone name`);
  return tz;
}

export class CronSchedule {
  private cron: Cron;

  constructor(readonly expression: string, readonly timeZone: string) {
    const text = expression.trim();
    if (text === '') throw badRequest('cron is missing');
    if (text.startsWith('@')) {
      if (!NICKNAMES.has(text.toLowerCase())) throw badRequest(`cron is invalid: "${text}" (the shortcuts are ${[...NICKNAMES].join(', ')})`);
    } else {
      const fields = text.split(/\s+/);
      if (fields.length !== 5) throw badRequest(`cron is invalid: expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
      const bad = fields.find((f) => !FIELD.test(f));
      if (bad !== undefined) throw badRequest(`cron is invalid: "${bad}" is not a cron field`);
    }
    checkTimeZone(timeZone);
    try {
      this.cron = new Cron(text.toLowerCase() === '@midnight' ? '@daily' : text, { timezone: timeZone, paused: true });
    } catch (e) {
      throw badRequest(`cron is invalid: ${(e as Error).message.replace(/^CronPattern: /, '')}`);
    }
    if (this.next(Date.UTC(2000, 0, 1)) === null) throw badRequest(`cron is invalid: "${text}" never runs`);
  }

  /** The first slot strictly after `after` (unix ms), or null if there is none. */
  next(after: number): number | null {
    const d = this.cron.nextRun(new Date(after));
    return d ? d.getTime() : null;
  }
}
