/**
 * Server configuration (consumer-api.md §1): every flag's default, its BATON_* alias,
 * flags over env over defaults, and one clear message naming the flag for a bad value.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, externalUrl, loadConfig, SERVER_FLAGS, serverFlagsHelp, type Config } from '../../src/config';

const MiB = 1024 * 1024;

describe('defaults', () => {
  test('with no flags and no env every setting has its documented default', () => {
    expect(loadConfig({}, {})).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      dataDir: './baton-data',
      maxArtifactSize: 100 * MiB,
      artifactsExpireIn: 30 * 24 * 3600,
      logLevel: 'info',
      pollTimeout: 50,
      stuckTimeout: 3600,
      pendingTimeout: 24 * 3600,
      reaperInterval: 30,
      defaultJobTimeout: 3600,
      maxTraceSize: 100 * MiB,
      minFreeDisk: 1024 * MiB,
    } satisfies Partial<Config>);
  });

  test('tokens and the external URL are unset unless given (generated / derived later)', () => {
    const c = loadConfig({}, {});
    expect(c.adminToken).toBeUndefined();
    expect(c.registrationToken).toBeUndefined();
    expect(c.externalUrl).toBeUndefined();
  });
});

describe('each flag reads its value; its env alias does the same', () => {
  const cases: [flag: string, value: string, expected: Partial<Config>][] = [
    ['listen', '127.0.0.1:9000', { host: '127.0.0.1', port: 9000 }],
    ['listen', ':0', { host: '0.0.0.0', port: 0 }],
    ['listen', '[::1]:8081', { host: '::1', port: 8081 }],
    ['listen', 'localhost:65535', { host: 'localhost', port: 65535 }],
    ['data-dir', '/var/lib/baton', { dataDir: '/var/lib/baton' }],
    ['external-url', 'https://ci.example.com/', { externalUrl: 'https://ci.example.com' }],
    ['external-url', 'http://10.0.0.5:8080', { externalUrl: 'http://10.0.0.5:8080' }],
    ['admin-token', 'admin-secret-1', { adminToken: 'admin-secret-1' }],
    ['registration-token', 'reg-secret-12', { registrationToken: 'reg-secret-12' }],
    ['max-artifact-size', '5', { maxArtifactSize: 5 * MiB }],
    ['max-artifact-size', '0.5', { maxArtifactSize: MiB / 2 }],
    ['artifacts-expire-in', '1 week', { artifactsExpireIn: 7 * 24 * 3600 }],
    ['artifacts-expire-in', '0', { artifactsExpireIn: 0 }],
    ['artifacts-expire-in', 'never', { artifactsExpireIn: 0 }],
    ['log-level', 'debug', { logLevel: 'debug' }],
    ['log-level', 'silent', { logLevel: 'silent' }],
    ['poll-timeout', '0', { pollTimeout: 0 }],
    ['poll-timeout', '2m', { pollTimeout: 120 }],
    ['stuck-timeout', '30 min', { stuckTimeout: 1800 }],
    ['pending-timeout', '2h', { pendingTimeout: 7200 }],
    ['reaper-interval', '5s', { reaperInterval: 5 }],
    ['job-timeout', '90', { defaultJobTimeout: 90 }],
    ['max-trace-size', '4', { maxTraceSize: 4 * MiB }],
    ['allow-local-requests', 'true', { allowLocalRequests: true }],
    ['allow-local-requests', '0', { allowLocalRequests: false }],
    ['metrics-token', 'scrape-token-1', { metricsToken: 'scrape-token-1' }],
    ['min-free-disk', '2GiB', { minFreeDisk: 2048 * MiB }],
    ['min-free-disk', '512 MiB', { minFreeDisk: 512 * MiB }],
    ['min-free-disk', '1.5g', { minFreeDisk: 1536 * MiB }],
    ['min-free-disk', '300', { minFreeDisk: 300 * MiB }],
    ['min-free-disk', '0', { minFreeDisk: 0 }],
    ['max-streams-per-user', '5', { maxStreamsPerUser: 5 }],
    ['max-streams', '200', { maxStreams: 200 }],
  ];

  test.each(cases)('--%s %p', (flag, value, expected) => {
    expect(loadConfig({ [flag]: value }, {})).toMatchObject(expected);
  });

  test.each(cases)('%s from its env alias: %p', (flag, value, expected) => {
    expect(loadConfig({}, { [SERVER_FLAGS[flag].env]: value })).toMatchObject(expected);
  });

  test('a switch given alone (parseArgs boolean) is true; a bad env value names the flag', () => {
    expect(loadConfig({ 'allow-local-requests': true }, {}).allowLocalRequests).toBe(true);
    expect(loadConfig({}, {}).allowLocalRequests).toBe(false);
    expect(() => loadConfig({}, { BATON_ALLOW_LOCAL_REQUESTS: 'maybe' })).toThrow('--allow-local-requests (from BATON_ALLOW_LOCAL_REQUESTS): expected true or false, got "maybe"');
  });

  test('every flag in the table above is covered, and every env alias is BATON_<FLAG>', () => {
    expect(new Set(cases.map(([f]) => f))).toEqual(new Set(Object.keys(SERVER_FLAGS)));
    for (const [flag, spec] of Object.entries(SERVER_FLAGS)) expect(spec.env).toBe(`BATON_${flag.toUpperCase().replace(/-/g, '_')}`);
  });
});

describe('precedence', () => {
  test('a flag wins over its env alias, which wins over the default', () => {
    const env = { BATON_LISTEN: '127.0.0.1:7000', BATON_DATA_DIR: '/from/env', BATON_LOG_LEVEL: 'warn' };
    const c = loadConfig({ listen: '127.0.0.1:7001' }, env);
    expect(c.port).toBe(7001);
    expect(c.dataDir).toBe('/from/env');
    expect(c.logLevel).toBe('warn');
    expect(c.maxArtifactSize).toBe(100 * MiB);
  });

  test('an empty env variable counts as unset', () => {
    expect(loadConfig({}, { BATON_DATA_DIR: '', BATON_LOG_LEVEL: '' })).toMatchObject({ dataDir: './baton-data', logLevel: 'info' });
  });

  test('variables that are not BATON_* aliases are ignored', () => {
    expect(loadConfig({}, { LISTEN: '1.2.3.4:1', DATA_DIR: '/x', baton_listen: '1.2.3.4:2' })).toMatchObject({ host: '0.0.0.0', port: 8080, dataDir: './baton-data' });
  });
});

describe('an invalid value is one line naming the flag', () => {
  const cases: [flag: string, value: string][] = [
    ['listen', 'nope'],
    ['listen', '8080'],
    ['listen', '127.0.0.1:70000'],
    ['listen', '127.0.0.1:port'],
    ['external-url', 'not a url'],
    ['external-url', 'ftp://example.com'],
    ['admin-token', 'short'],
    ['registration-token', 'short'],
    ['max-artifact-size', 'abc'],
    ['max-artifact-size', '-1'],
    ['max-artifact-size', '10GB'],
    ['artifacts-expire-in', 'soon'],
    ['log-level', 'loud'],
    ['log-level', 'INFO '],
    ['poll-timeout', 'forever'],
    ['stuck-timeout', '0'],
    ['reaper-interval', '0'],
    ['pending-timeout', 'x'],
    ['job-timeout', '0'],
    ['max-trace-size', 'big'],
    ['poll-timeout', '10m'],
    ['data-dir', ''],
    ['metrics-token', 'short'],
    ['min-free-disk', 'lots'],
    ['min-free-disk', '-1GiB'],
    ['min-free-disk', '5 parsecs'],
    ['max-streams-per-user', '0'],
    ['max-streams-per-user', 'many'],
    ['max-streams', '-3'],
  ];

  test.each(cases)('--%s %p', (flag, value) => {
    let error: unknown;
    try { loadConfig({ [flag]: value }, {}); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.startsWith(`--${flag}`)).toBe(true);
    expect(message).not.toContain('\n');
  });

  test('a bad env value names the flag and the variable it came from', () => {
    expect(() => loadConfig({}, { BATON_LOG_LEVEL: 'loud' })).toThrow('--log-level (from BATON_LOG_LEVEL): expected one of');
  });

  test('a good flag hides a bad env value (flags win, the env is never read)', () => {
    expect(loadConfig({ 'log-level': 'warn' }, { BATON_LOG_LEVEL: 'loud' }).logLevel).toBe('warn');
  });
});

describe('external URL', () => {
  const base = loadConfig({}, {});
  test.each([
    [{ host: '0.0.0.0' }, 8080, 'http://127.0.0.1:8080'],
    [{ host: '::' }, 8081, 'http://127.0.0.1:8081'],
    [{ host: '10.1.2.3' }, 9000, 'http://10.1.2.3:9000'],
    [{ host: '::1' }, 9001, 'http://[::1]:9001'],
    [{ externalUrl: 'https://ci.example.com' }, 1234, 'https://ci.example.com'],
  ] as [Partial<Config>, number, string][])('%j on port %d → %s', (over, port, url) => {
    expect(externalUrl({ ...base, ...over }, port)).toBe(url);
  });
});

test('--help text lists every flag with its env alias and default', () => {
  const help = serverFlagsHelp();
  for (const [flag, spec] of Object.entries(SERVER_FLAGS)) {
    const line = help.slice(help.indexOf(`--${flag} `));
    expect(line).toContain(spec.env);
    if (spec.default !== undefined) expect(line.slice(0, line.indexOf(']') + 1)).toContain(`default ${spec.default}`);
  }
});

test('the README configuration table has a row for every flag with its env alias and default', () => {
  const readme = readFileSync(join(import.meta.dir, '../../README.md'), 'utf8');
  for (const [flag, spec] of Object.entries(SERVER_FLAGS)) {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`--${flag} `) || l.startsWith(`| \`--${flag}\``));
    expect({ flag, row: row !== undefined }).toEqual({ flag, row: true });
    expect(row).toContain(`\`${spec.env}\``);
    if (spec.default !== undefined) expect(row).toContain(`\`${spec.default}\``);
  }
});
