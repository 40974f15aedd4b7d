/**
 * Secrets Baton must send on but never show (forge tokens, project-hook tokens): sealed
 * with AES-256-GCM under a key kept in the data dir (`secret.key`, 0600, made on first
 * use), apart from the database. A copy of `baton.db` alone — a backup, a dump attached to
 * a bug report — then reveals none of them; whoever holds the whole data dir holds the key
 * too (as with GitLab's `secrets.yml`). Sealed text: `v1:<iv>:<tag>:<ciphertext>`, base64url.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class SecretBox {
  private key?: Buffer;

  constructor(private dataDir: string) {}

  private keyBytes(): Buffer {
    if (this.key) return this.key;
    const path = join(this.dataDir, 'secret.key');
    if (!existsSync(path)) {
      // Written aside and linked into place: two processes starting together agree on one key.
      const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(tmp, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
      try { linkSync(tmp, path); } catch (e) { if ((e as { code?: string }).code !== 'EEXIST') throw e; }
      rmSync(tmp, { force: true });
      try { chmodSync(path, 0o600); } catch { /* not ours to change */ }
    }
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${path} does not hold a 256-bit key`);
    return (this.key = key);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keyBytes(), iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(':');
  }

  /** The plain text, or null when it cannot be opened (another key, damaged). */
  open(sealed: string | null): string | null {
    if (!sealed) return null;
    const [v, iv, tag, body] = sealed.split(':');
    if (v !== 'v1' || !iv || !tag || body === undefined) return null;
    try {
      const d = createDecipheriv('aes-256-gcm', this.keyBytes(), Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
