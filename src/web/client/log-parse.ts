/**
 * A job log, line by line, as runners write it: text with ANSI escapes, carriage returns
 * (progress bars redraw a line), and the collapsible sections gitlab-runner marks with
 * `section_start:<unix ts>:<name>[options]\r\e[0K` … `section_end:<unix ts>:<name>\r\e[0K`
 * (anywhere in a line, several in one line). Pure: it turns raw lines into what the viewer
 * draws (client/log.ts) and is tested on its own.
 */

export type LogOp =
  /** a line to draw: `text` still holds its ANSI escapes; `first` = the first drawn piece of raw line `n` */
  | { op: 'line'; n: number; text: string; first: boolean }
  /** text that draws nothing but may change colours for what follows (fed to the ANSI renderer only) */
  | { op: 'state'; text: string }
  | { op: 'start'; name: string; ts: number; collapsed: boolean }
  | { op: 'end'; name: string; ts: number };

const MARKER = /section_(start|end):(\d+):([A-Za-z0-9_.\-]+)(?:\[([^\]\r\n]*)\])?\r(?:\x1b\[0?K)?/g;
/** CSI and OSC sequences: what remains when they are gone is what a line shows. */
const ESCAPES = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export const isBlank = (text: string) => text.replace(ESCAPES, '').trim() === '';

/**
 * What a piece of a line shows after carriage returns: the text after the last `\r` that is
 * followed by something (a trailing `\r`, as in CRLF logs, changes nothing). The overwritten
 * parts still go to the ANSI renderer (`state`), since their colour codes carry on.
 */
function overwrite(piece: string): { hidden: string; shown: string } {
  const body = piece.replace(/\r+$/, '');
  const cr = body.lastIndexOf('\r');
  if (cr === -1) return { hidden: '', shown: body };
  return { hidden: (body.slice(0, cr).match(ESCAPES) ?? []).join(''), shown: body.slice(cr + 1) };
}

/** The ops of one raw line (without its `\n`), numbered `n`. */
export function parseLine(raw: string, n: number): LogOp[] {
  const ops: LogOp[] = [];
  let first = true;
  let pending = '';
  const flush = (force: boolean) => {
    if (pending === '' && !force) return;
    if (!force && isBlank(pending)) {
      ops.push({ op: 'state', text: pending });
    } else {
      ops.push({ op: 'line', n, text: pending, first });
      first = false;
    }
    pending = '';
  };
  const text = (piece: string) => {
    const { hidden, shown } = overwrite(piece);
    if (hidden) ops.push({ op: 'state', text: hidden });
    pending += shown;
  };
  let last = 0;
  let markers = 0;
  MARKER.lastIndex = 0;
  for (let m = MARKER.exec(raw); m; m = MARKER.exec(raw)) {
    text(raw.slice(last, m.index));
    flush(false);
    markers++;
    const ts = Number(m[2]);
    if (m[1] === 'start') ops.push({ op: 'start', name: m[3], ts, collapsed: /(^|,)\s*collapsed\s*=\s*true\s*(,|$)/.test(m[4] ?? '') });
    else ops.push({ op: 'end', name: m[3], ts });
    last = m.index + m[0].length;
  }
  text(raw.slice(last));
  // A line with no marker is drawn even when empty; what follows a marker only when it shows something.
  flush(markers === 0);
  return ops;
}
