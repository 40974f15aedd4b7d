/**
 * The dashboard's static files, embedded in the binary (bundle.ts runs at bundle time) and
 * served from memory: content-hashed names cached for a year, gzipped (once, on first use)
 * for clients that take it.
 */
import { bundleClient } from './bundle' with { type: 'macro' };

const BUNDLE = bundleClient();

const ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#6b4fbb"/><path d="M9 23 23 9" stroke="#fff" stroke-width="4" stroke-linecap="round"/><circle cx="23" cy="9" r="3.5" fill="#fc6d26"/></svg>';

export const ASSET_URL = {
  js: `/assets/app-${BUNDLE.hash}.js`,
  css: `/assets/app-${BUNDLE.hash}.css`,
  icon: '/assets/favicon.svg',
};

interface Asset { body: Uint8Array; gzip?: Uint8Array; type: string; immutable: boolean }

const make = (text: string, type: string, immutable: boolean): Asset => ({ body: new TextEncoder().encode(text), type, immutable });

const FILES = new Map<string, Asset>([
  [ASSET_URL.js.slice('/assets/'.length), make(BUNDLE.js, 'text/javascript; charset=utf-8', true)],
  [ASSET_URL.css.slice('/assets/'.length), make(BUNDLE.css, 'text/css; charset=utf-8', true)],
  ['favicon.svg', make(ICON, 'image/svg+xml', false)],
]);

/** The file's answer, or null for an unknown name. */
export function assetResponse(name: string, request: Request): Response | null {
  const a = FILES.get(name);
  if (!a) return null;
  const gz = /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
  // compressed on first use, not at start (bench P6)
  if (gz) a.gzip ??= Bun.gzipSync(a.body as Uint8Array<ArrayBuffer>, { level: 9 });
  return new Response(gz ? a.gzip : a.body, {
    headers: {
      'content-type': a.type,
      'cache-control': a.immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=86400',
      'x-content-type-options': 'nosniff',
      vary: 'Accept-Encoding',
      ...(gz ? { 'content-encoding': 'gzip' } : {}),
    },
  });
}
