/**
 * Job logs: appended at byte offsets, replaced by a full-trace update (v1), masked before
 * they touch the disk. Masking replaces a secret with as many `x` as it has bytes, so the
 * offsets a runner counts stay true.
 */
import { hashToken, JOB_TOKEN_PATTERN } from './tokens';

export interface MaskSet {
  /** Literal secrets: the project's runners token, masked variable values, presented tokens. */
  secrets: (string | Uint8Array)[];
  /** The job's token hash: any job-token-shaped text with this hash is this job's token. */
  jobTokenHash: string | null;
}

const JOB_TOKEN_PREFIX = Buffer.from('glcbt-');

/** Returns the bytes with every secret overwritten by `x` (same length). */
export function maskTrace(bytes: Uint8Array, mask: MaskSet): Uint8Array {
  if (bytes.length === 0) return bytes;
  // Secrets are searched as bytes in the bytes as sent (so overlapping ones are all found);
  // the copy is made only when something is masked.
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let out: Uint8Array | null = null;
  const overwrite = (start: number, len: number) => {
    out ??= new Uint8Array(bytes);
    out.fill(0x78, start, start + len);
  };
  for (const secret of mask.secrets) {
    if (secret.length === 0) continue;
    const needle = typeof secret === 'string' ? Buffer.from(secret) : secret;
    for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) overwrite(i, needle.length);
  }
  if (mask.jobTokenHash && haystack.includes(JOB_TOKEN_PREFIX)) {
    // latin1 keeps a 1:1 byte↔char mapping, so match indexes are byte offsets.
    for (const m of haystack.toString('latin1').matchAll(JOB_TOKEN_PATTERN)) {
      if (hashToken(m[0]) === mask.jobTokenHash) overwrite(m.index!, m[0].length);
    }
  }
  return out ?? bytes;
}

let secretsVersion = 0;

/**
 * Masked variables changed in this process: masking caches a project's secrets briefly
 * (JobService), and drops them on this signal. Another process sharing the data dir is
 * seen when the cache expires.
 */
export function secretsChanged() { secretsVersion++; }
export function currentSecretsVersion() { return secretsVersion; }

/** The start offset of a `Content-Range: <start>-<end>` header; lenient like GitLab (non-numeric → 0). */
export function rangeStart(header: string): number {
  const m = /^\s*(\d+)/.exec(header);
  return m ? Number(m[1]) : 0;
}
