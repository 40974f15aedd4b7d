/**
 * The one place browser tests get a headless Chromium from (the Swagger page now, the
 * dashboard later):
 *
 * 1. `BATON_CHROMIUM=/path/to/chrome` if set (it must exist);
 * 2. else Debian's `/usr/bin/chromium` when installed (.ci/run installs it);
 * 3. else the Chromium shipped inside the `@sparticuz/chromium` devDependency, so
 *    `npm ci && npm test` needs nothing but Node and npm. The package carries a
 *    brotli-compressed headless-shell build for x86_64 Linux; it is unpacked once into
 *    `$TMPDIR/baton-chromium-<version>/` (in a staging folder renamed into place, so a run
 *    killed halfway never leaves a half-written binary that a later run would trust).
 *
 * Pages opened through `openBrowser().newPage()` may reach loopback only: every other
 * request is aborted and recorded in `blocked`, so a test proves the page needs no network.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';
const ROOT = join(import.meta.dir, '../..');

/** The flags every launch uses: no sandbox (root), no GPU, and no calls home on a closed network. */
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface ChromiumBinary {
  path: string;
  source: 'BATON_CHROMIUM' | 'system' | '@sparticuz/chromium';
  /** environment the browser needs (fontconfig for the bundled fonts) */
  env: Record<string, string>;
}

let found: Promise<ChromiumBinary> | undefined;

/** Finds (and, the first time, unpacks) the Chromium the tests use. Throws saying what to do. */
export function chromiumBinary(): Promise<ChromiumBinary> {
  return (found ??= locate());
}

async function locate(): Promise<ChromiumBinary> {
  const pinned = process.env.BATON_CHROMIUM;
  if (pinned) {
    if (!existsSync(pinned)) throw new Error(`BATON_CHROMIUM=${pinned} does not exist`);
    return { path: pinned, source: 'BATON_CHROMIUM', env: {} };
  }
  if (existsSync(SYSTEM_CHROMIUM)) return { path: SYSTEM_CHROMIUM, source: 'system', env: {} };
  return unpackBundled();
}

async function unpackBundled(): Promise<ChromiumBinary> {
  if (platform() !== 'linux' || arch() !== 'x64') {
    throw new Error(`no Chromium: ${SYSTEM_CHROMIUM} is missing and @sparticuz/chromium ships x86_64 Linux only (this is ${platform()}/${arch()}); install chromium or set BATON_CHROMIUM`);
  }
  const require = createRequire(join(ROOT, 'package.json'));
  let pkgJson: string;
  try { pkgJson = require.resolve('@sparticuz/chromium/package.json'); } catch {
    throw new Error(`no Chromium: ${SYSTEM_CHROMIUM} is missing and @sparticuz/chromium is not installed (run npm ci)`);
  }
  const { version } = require(pkgJson) as { version: string };
  const dir = join(tmpdir(), `baton-chromium-${version}`);
  const result = (): ChromiumBinary => ({ path: join(dir, 'chromium'), source: '@sparticuz/chromium', env: { FONTCONFIG_FILE: join(dir, 'fonts.conf') } });
  if (existsSync(join(dir, 'fonts.conf'))) return result();

  // The package's own inflate() writes into os.tmpdir(); a child process with TMPDIR set to
  // the staging folder keeps it there without touching this process's environment.
  const staging = mkdtempSync(join(tmpdir(), `baton-chromium-${version}.part-`));
  try {
    const bin = join(dirname(pkgJson), 'bin');
    const script = `import { inflate } from '@sparticuz/chromium';
      await Promise.all(['chromium.br', 'fonts.tar.br', 'swiftshader.tar.br'].map((f) => inflate(${JSON.stringify(bin)} + '/' + f)));`;
    const proc = Bun.spawn([process.execPath, '-e', script], { cwd: ROOT, env: { ...process.env, TMPDIR: staging }, stdout: 'pipe', stderr: 'pipe' });
    const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    if (code !== 0 || !existsSync(join(staging, 'chromium'))) throw new Error(`unpacking @sparticuz/chromium failed (exit ${code}): ${err.trim()}`);
    // The package's fonts.conf names Lambda's folders; this one names the unpacked fonts and
    // the system's, wherever the folder ended up.
    writeFileSync(join(staging, 'fonts.conf'), `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>${join(dir, 'fonts')}</dir>
  <dir>/usr/share/fonts</dir>
  <cachedir>${join(dir, 'fonts-cache')}</cachedir>
</fontconfig>
`);
    mkdirSync(dirname(dir), { recursive: true });
    try {
      renameSync(staging, dir);
    } catch (e) {
      // another test process unpacked it first: use theirs
      if (!existsSync(join(dir, 'fonts.conf'))) throw e;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return result();
}

export interface Browser {
  binary: ChromiumBinary;
  context: BrowserContext;
  /** every non-loopback URL a page tried to load (and was refused) */
  blocked: string[];
  /** a new page that may reach loopback only */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Launches headless Chromium with a fresh, empty profile (playwright's --user-data-dir). */
export async function openBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const binary = await chromiumBinary();
  const profile = mkdtempSync(join(tmpdir(), 'baton-chromium-profile-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: binary.path,
      headless: true,
      viewport: opts.viewport ?? { width: 1280, height: 2000 },
      args: CHROMIUM_FLAGS,
      env: { ...process.env, ...binary.env } as Record<string, string>,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`Chromium (${binary.source}, ${binary.path}) did not start: ${(e as Error).message}`);
  }
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || LOOPBACK.has(url.hostname)) return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  return {
    binary, context, blocked,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
