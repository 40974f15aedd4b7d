/** Human-readable output for the client commands: aligned tables and `key: value` blocks. */

/** Writes to stdout and waits until it is flushed, so an exit right after loses nothing. */
export function write(data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

export const printJson = (value: unknown) => write(`${JSON.stringify(value, null, 2)}\n`);

type Cell = string | number | boolean | null | undefined;

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: Cell[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(cell))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

/** `key: value` lines with the values aligned; empty values are left out. */
export function fields(rows: [string, Cell][]): string {
  const shown = rows.filter(([, v]) => v !== undefined && v !== null && v !== '');
  const width = Math.max(...shown.map(([k]) => k.length)) + 1;
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)} ${cell(v)}`).join('\n') + '\n';
}

function cell(v: Cell): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

/** ISO 8601 → `2024-05-01 12:00:00Z`; null → undefined (left out / `-`). */
export function time(iso: string | null | undefined): string | undefined {
  if (!iso) return undefined;
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Seconds → `42 s`, `3 min 5 s`, `2 h 1 min`. */
export function duration(seconds: number | null | undefined): string | undefined {
  if (seconds === null || seconds === undefined) return undefined;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
