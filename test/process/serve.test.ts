/**
 * `baton serve` and `baton tokens` as people start them: `bun run src/main.ts` in a real
 * process. First start prints the generated tokens once, a second start prints none,
 * `baton tokens` shows and rotates them, bad values stop start-up with one line naming the
 * flag, env aliases work and flags win, SIGTERM lets an in-flight request finish before
 * exiting 0, and `--help` lists it all.
 */
import { afterAll, describe, expect, test, setDefaultTimeout } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_FLAGS } from '../../src/config';
import { registerRunner, runBaton, SOURCE, startBaton } from './spawn';

// Real processes: generous on a loaded 2-core CI machine.
setDefaultTimeout(30_000);

const temps: string[] = [];
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'baton-proc-'));
  temps.push(d);
  return d;
}
afterAll(() => { for (const d of temps) rmSync(d, { recursive: true, force: true }); });

const LISTEN = ['--listen', '127.0.0.1:0'];
const tokenLines = (lines: string[]) => lines.filter((l) => /token:/i.test(l));

describe('tokens on first and second start', () => {
  const dataDir = join(tempDir(), 'data');
  let registration = '';

  test('a first start creates the data dir and prints each generated token once', async () => {
    const b = await startBaton(SOURCE, [...LISTEN, '--data-dir', dataDir]);
    try {
      expect(existsSync(join(dataDir, 'baton.db'))).toBe(true);
      const lines = tokenLines(b.messages());
      expect(lines).toHaveLength(2);
      const reg = lines.find((l) => l.startsWith('Runner registration token: '));
      const admin = lines.find((l) => l.startsWith('Admin API token: '));
      expect(reg).toBeDefined();
      expect(admin).toBeDefined();
      registration = reg!.slice('Runner registration token: '.length).trim();
      expect(registration.length).toBeGreaterThanOrEqual(20);
      expect(admin!.slice('Admin API token: '.length).trim().length).toBeGreaterThanOrEqual(20);
      // the printed registration token is the one the server accepts
      expect(await registerRunner(b.url, registration)).toBe(201);
      expect(await registerRunner(b.url, 'not-the-token')).toBe(403);
      const health = await fetch(`${b.url}/-/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });

  test('a second start on the same data dir prints no token and keeps the old one', async () => {
    const b = await startBaton(SOURCE, [...LISTEN, '--data-dir', dataDir]);
    try {
      expect(tokenLines(b.messages())).toEqual([]);
      expect(b.stdout()).not.toContain(registration);
      expect(await registerRunner(b.url, registration)).toBe(201);
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });

  test('`baton tokens` prints the registration token of the data dir', async () => {
    const r = await runBaton(SOURCE, ['tokens', '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Runner registration token: ${registration}\n`);
  });

  test('`baton tokens --rotate-registration` replaces it; the old one stops working', async () => {
    const r = await runBaton(SOURCE, ['tokens', '--data-dir', dataDir, '--rotate-registration']);
    expect(r.code).toBe(0);
    const rotated = /Runner registration token: (\S+)/.exec(r.stdout)?.[1];
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(registration);
    const b = await startBaton(SOURCE, [...LISTEN, '--data-dir', dataDir]);
    try {
      expect(await registerRunner(b.url, registration)).toBe(403);
      expect(await registerRunner(b.url, rotated!)).toBe(201);
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });

  test('`baton tokens --rotate-admin` prints a new admin token: root\'s, and the only one that works', async () => {
    const first = await runBaton(SOURCE, ['tokens', '--data-dir', dataDir, '--rotate-admin']);
    const second = await runBaton(SOURCE, ['tokens', '--data-dir', dataDir, '--rotate-admin']);
    expect([first.code, second.code]).toEqual([0, 0]);
    const older = /^Admin API token: (\S{20,})$/m.exec(first.stdout)![1];
    const newer = /^Admin API token: (\S{20,})$/m.exec(second.stdout)![1];
    const b = await startBaton(SOURCE, [...LISTEN, '--data-dir', dataDir]);
    try {
      const me = await fetch(`${b.url}/api/v4/user`, { headers: { 'PRIVATE-TOKEN': newer } });
      expect(await me.json()).toMatchObject({ id: 1, username: 'root', is_admin: true });
      expect((await fetch(`${b.url}/api/v4/user`, { headers: { 'PRIVATE-TOKEN': older } })).status).toBe(401);
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });

  test('pinned tokens are not printed', async () => {
    const b = await startBaton(SOURCE, [...LISTEN, '--data-dir', join(tempDir(), 'pinned'), '--registration-token', 'pinned-registration-1', '--admin-token', 'pinned-admin-token-1']);
    try {
      expect(tokenLines(b.messages())).toEqual([]);
      expect(b.stdout()).not.toContain('pinned-');
      expect(await registerRunner(b.url, 'pinned-registration-1')).toBe(201);
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });
});

describe('an invalid value stops start-up with one line naming the flag', () => {
  test.each([
    [['--listen', 'nope'], {}, '--listen'],
    [['--listen', '127.0.0.1:70000'], {}, '--listen'],
    [['--max-artifact-size', 'lots'], {}, '--max-artifact-size'],
    [['--artifacts-expire-in', 'soon'], {}, '--artifacts-expire-in'],
    [['--log-level', 'loud'], {}, '--log-level'],
    [['--external-url', 'ftp://x'], {}, '--external-url'],
    [['--admin-token', 'short'], {}, '--admin-token'],
    [['--poll-timeout', 'forever'], {}, '--poll-timeout'],
    [[], { BATON_LOG_LEVEL: 'loud' }, 'BATON_LOG_LEVEL'],
    [[], { BATON_LISTEN: 'nowhere' }, 'BATON_LISTEN'],
    [['--bogus', 'x'], {}, '--bogus'],
    [['--listen'], {}, '--listen'],
    [['tokens', '--log-level', 'loud'], {}, '--log-level'],
  ] as [string[], Record<string, string>, string][])('%j %j', async (args, env, named) => {
    const dir = tempDir();
    const needsDataDir = !args.includes('--listen') || args.length > 1;
    const r = await runBaton(SOURCE, needsDataDir ? [...args, '--data-dir', join(dir, 'data')] : args, { env, cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith('baton: ');
    expect(lines[0]).toContain(named);
    // nothing was created: validation happens before the data dir is touched
    expect(existsSync(join(dir, 'data'))).toBe(false);
    expect(existsSync(join(dir, 'baton-data'))).toBe(false);
  });

  test('an unknown command says so in one line', async () => {
    const r = await runBaton(SOURCE, ['frobnicate']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('frobnicate');
  });
});

describe('environment aliases', () => {
  test('BATON_* variables configure the server', async () => {
    const dir = tempDir();
    const b = await startBaton(SOURCE, [], {
      cwd: dir,
      env: { BATON_LISTEN: '127.0.0.1:0', BATON_DATA_DIR: join(dir, 'from-env'), BATON_REGISTRATION_TOKEN: 'env-registration-1', BATON_EXTERNAL_URL: 'http://ci.example.test:9999' },
    });
    try {
      expect(existsSync(join(dir, 'from-env', 'baton.db'))).toBe(true);
      expect(existsSync(join(dir, 'baton-data'))).toBe(false);
      expect(await registerRunner(b.url, 'env-registration-1')).toBe(201);
      expect(b.logs().find((l) => l.msg === 'baton listening')?.url).toBe('http://ci.example.test:9999');
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });

  test('flags win over their env aliases', async () => {
    const dir = tempDir();
    const b = await startBaton(SOURCE, [...LISTEN, '--data-dir', join(dir, 'from-flag'), '--registration-token', 'flag-registration-1', '--log-level', 'info'], {
      cwd: dir,
      env: { BATON_LISTEN: '127.0.0.1:1', BATON_DATA_DIR: join(dir, 'from-env'), BATON_REGISTRATION_TOKEN: 'env-registration-1', BATON_LOG_LEVEL: 'silent' },
    });
    try {
      expect(existsSync(join(dir, 'from-flag', 'baton.db'))).toBe(true);
      expect(existsSync(join(dir, 'from-env'))).toBe(false);
      expect(await registerRunner(b.url, 'flag-registration-1')).toBe(201);
      expect(await registerRunner(b.url, 'env-registration-1')).toBe(403);
      // --log-level info beat BATON_LOG_LEVEL=silent: the request was logged
      await b.waitFor(/"msg":"request"/);
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });
});

describe('defaults', () => {
  test('with no flags the data dir is ./baton-data, created on demand in the working directory', async () => {
    const dir = tempDir();
    // only the port is changed from the default, so parallel CI jobs do not collide on 8080
    const b = await startBaton(SOURCE, [...LISTEN], { cwd: dir });
    try {
      expect(existsSync(join(dir, 'baton-data', 'baton.db'))).toBe(true);
      expect(b.messages().some((l) => l.includes('(data dir ./baton-data)'))).toBe(true);
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });
});

describe('graceful shutdown', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)('%s while a request is in flight: it finishes, new connections are refused, exit 0', async (signal) => {
    const dir = tempDir();
    const b = await startBaton(SOURCE, [...LISTEN, '--data-dir', join(dir, 'data'), '--registration-token', 'graceful-token-1']);
    // A raw HTTP/1.1 registration whose body is held back; "100 Continue" proves the server
    // has the request before the signal is sent.
    const body = JSON.stringify({ token: 'graceful-token-1', description: 'in flight' });
    let received = '';
    let closed = false;
    let wake = () => {};
    const until = async (pattern: RegExp) => {
      while (!pattern.test(received)) {
        if (closed) throw new Error(`connection closed before ${pattern}; got ${JSON.stringify(received)}`);
        await new Promise<void>((r) => { wake = r; });
      }
    };
    const { port } = new URL(b.url);
    const socket = await Bun.connect({
      hostname: '127.0.0.1', port: Number(port),
      socket: { data(_s, chunk) { received += new TextDecoder().decode(chunk); wake(); }, close() { closed = true; wake(); } },
    });
    socket.write(`POST /ci/api/v1/runners/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`);
    await until(/100 Continue/);

    b.proc.kill(signal);
    await b.waitFor(new RegExp(`${signal}: stopping`));
    const refused = await fetch(`${b.url}/-/health`).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(b.proc.exitCode).toBeNull();

    socket.write(body);
    await until(/\r\n\r\n\{.*\}/s);
    socket.end();
    expect(received).toMatch(/HTTP\/1\.1 201/);
    expect(JSON.parse(received.slice(received.lastIndexOf('\r\n\r\n') + 4)).token).toBeString();
    expect(await b.exited()).toBe(0);
    expect(b.logs().some((l) => l.msg === 'request' && l.path === '/ci/api/v1/runners/register' && l.status === 201)).toBe(true);
  });
});

describe('help and version', () => {
  test.each(['--help', '-h', 'help', 'serve --help', 'tokens --help'])('%s lists every server flag with its env alias', async (command) => {
    const r = await runBaton(SOURCE, command.split(' '));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: baton');
    for (const [flag, spec] of Object.entries(SERVER_FLAGS)) {
      expect(r.stdout).toContain(`--${flag} `);
      expect(r.stdout).toContain(spec.env);
    }
    expect(r.stdout).toContain('tokens');
    expect(r.stderr).toBe('');
  });

  test('--version prints the version', async () => {
    const r = await runBaton(SOURCE, ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^baton \d+\.\d+\.\d+/);
  });
});
