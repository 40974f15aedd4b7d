/** Text helpers with no dependencies (used by the server and by the dashboard's browser code). */

/** The length of the longest prefix of `bytes` that does not end inside a UTF-8 character. */
export function utf8Prefix(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(4, n); back++) {
    const b = bytes[n - back];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return back >= need ? n : n - back;
  }
  return n; // no lead byte in reach: invalid anyway, send as is
}
