/**
 * Job logs: appended at byte offsets, replaced by a full-trace update (v1), masked before
 * they touch the disk. Masking replaces a secret with as many `x` as it has bytes, so the
 * offsets a runner counts stay true.
 */
import { hashToken, JOB_TOKEN_PATTERN } from './tokens';

const encoder = new TextEncoder();

export interface MaskSet {
  /** Literal secrets: the project's runners token, masked variable values, presented tokens. */
  secrets: string[];
  /** The job's token hash: any job-token-shaped text with this hash is this job's token. */
  jobTokenHash: string | null;
}

/** Returns the bytes with every secret overwritten by `x` (same length). */
export function maskTrace(bytes: Uint8Array, mask: MaskSet): Uint8Array {
  if (bytes.length === 0) return bytes;
  let out: Uint8Array | null = null;
  // Decoding as latin1 keeps a 1:1 byte↔char mapping, so indexes are byte offsets.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  const overwrite = (start: number, len: number) => {
    out ??= new Uint8Array(bytes);
    out.fill(0x78, start, start + len);
  };
  for (const secret of mask.secrets) {
    if (!secret) continue;
    const needle = Buffer.from(encoder.encode(secret)).toString('latin1');
    for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) overwrite(i, needle.length);
  }
  if (mask.jobTokenHash && text.includes('glcbt-')) {
    for (const m of text.matchAll(JOB_TOKEN_PATTERN)) {
      if (hashToken(m[0]) === mask.jobTokenHash) overwrite(m.index!, m[0].length);
    }
  }
  return out ?? bytes;
}

/** The start offset of a `Content-Range: <start>-<end>` header; lenient like GitLab (non-numeric → 0). */
export function rangeStart(header: string): number {
  const m = /^\s*(\d+)/.exec(header.split('-')[0] ?? '');
  return m ? Number(m[1]) : 0;
}
