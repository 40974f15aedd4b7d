/**
 * The job log viewer. A long log opens at its end: the page fetches the last TAIL bytes of
 * the raw log (HTTP Range), draws them, and fetches earlier slices only when asked ("Show
 * earlier output"), so a 50 MB log costs what its tail costs. New bytes come from the log
 * stream (Server-Sent Events, ids = byte offsets), starting where the fetched tail ended.
 *
 * Each slice is one block with its own ANSI state and sections. Colours come from ansi_up
 * (classes for the 16 colours; exact RGB colours and bold/italic are applied through the
 * CSSOM, since the Content-Security-Policy refuses style attributes). Text is escaped by
 * ansi_up before it becomes markup; links are kept only for http(s).
 */
import { AnsiUp } from 'ansi_up';
import { utf8Prefix } from '../../core/text';
import { clock } from '../views/format';
import { parseLine, type LogOp } from './log-parse';

/** Bytes of log drawn when the page opens. */
export const TAIL = 256 * 1024;
/** Bytes per "Show earlier output". */
export const EARLIER = 1024 * 1024;

interface OpenSection { name: string; ts: number; collapsed: boolean; el: HTMLDetailsElement | null; body: HTMLElement | null }

function newAnsi(): AnsiUp {
  const a = new AnsiUp();
  a.use_classes = true;
  return a;
}

/** A copy of the renderer's colour state, to draw a line that may still grow without committing to it. */
function cloneAnsi(a: AnsiUp): AnsiUp {
  return Object.assign(newAnsi(), a);
}

/** ansi_up's style attributes become CSSOM assignments (allowed by the CSP; attributes are not). */
function applyStyles(root: Element) {
  for (const el of root.querySelectorAll<HTMLElement>('[data-style]')) {
    el.style.cssText = el.dataset.style ?? '';
    el.removeAttribute('data-style');
  }
}

function lineHtml(ansi: AnsiUp, text: string, n: number, first: boolean): string {
  const body = ansi.ansi_to_html(text).replaceAll(' style="', ' data-style="');
  return `<div class="line"${first ? ` id="L${n}"` : ''}><a class="lineno" href="#L${n}" tabindex="-1" aria-hidden="true">${n}</a><span class="text">${body || ' '}</span></div>`;
}

/** One contiguous slice of the log drawn into one element. */
class Block {
  readonly el: HTMLElement;
  private ansi = newAnsi();
  private stack: OpenSection[] = [];
  private html = '';
  private container: HTMLElement;
  /** the raw line that has no `\n` yet: drawn provisionally, redrawn as it grows */
  private partial = '';
  private partialEl: HTMLElement | null = null;
  /** the number the next raw line gets */
  next: number;

  constructor(firstLine: number) {
    this.el = document.createElement('div');
    this.el.className = 'log-block';
    this.container = this.el;
    this.next = firstLine;
  }

  /** Adds text; complete lines are drawn for good, a trailing partial one provisionally. */
  write(text: string) {
    this.dropPartial();
    const all = this.partial + text;
    const lines = all.split('\n');
    this.partial = lines.pop()!;
    for (const raw of lines) this.apply(parseLine(raw, this.next++));
    this.flush();
    if (this.partial !== '') this.drawPartial();
  }

  /** No more bytes will come for this block: its partial line is a line. */
  close() {
    this.dropPartial();
    if (this.partial !== '') this.apply(parseLine(this.partial, this.next++));
    this.partial = '';
    this.flush();
  }

  private apply(ops: LogOp[]) {
    for (const o of ops) {
      if (o.op === 'state') this.ansi.ansi_to_html(o.text);
      else if (o.op === 'line') this.line(o.text, o.n, o.first);
      else if (o.op === 'start') {
        this.flush();
        this.stack.push({ name: o.name, ts: o.ts, collapsed: o.collapsed, el: null, body: null });
      } else this.end(o.name, o.ts);
    }
  }

  private line(text: string, n: number, first: boolean) {
    const top = this.stack.at(-1);
    if (top && !top.el) {
      // a section's first line is its header (the summary that folds it)
      const details = document.createElement('details');
      details.className = 'section';
      details.open = !top.collapsed;
      details.dataset.section = top.name;
      const summary = document.createElement('summary');
      summary.innerHTML = lineHtml(this.ansi, text, n, first);
      summary.insertAdjacentHTML('beforeend', '<span class="section-duration" aria-label="running"></span>');
      applyStyles(summary);
      const body = document.createElement('div');
      body.className = 'section-body';
      details.append(summary, body);
      this.container.append(details);
      top.el = details;
      top.body = body;
      this.container = body;
      return;
    }
    this.html += lineHtml(this.ansi, text, n, first);
  }

  private end(name: string, ts: number) {
    const at = this.stack.map((s) => s.name).lastIndexOf(name);
    if (at === -1) return; // its start is in an earlier slice
    this.flush();
    for (const s of this.stack.splice(at)) {
      const dur = s.el?.querySelector(':scope > summary > .section-duration');
      if (!dur) continue;
      dur.textContent = clock(ts - s.ts);
      dur.setAttribute('aria-label', `took ${clock(ts - s.ts)}`);
      s.el!.classList.add('done');
    }
    const top = this.stack.findLast((s) => s.body);
    this.container = top?.body ?? this.el;
  }

  private flush() {
    if (!this.html) return;
    const hasStyle = this.html.includes('data-style');
    this.container.insertAdjacentHTML('beforeend', this.html);
    this.html = '';
    if (hasStyle) applyStyles(this.container);
  }

  private drawPartial() {
    const ops = parseLine(this.partial, this.next);
    const lines = ops.filter((o): o is Extract<LogOp, { op: 'line' }> => o.op === 'line');
    if (!lines.length || ops.some((o) => o.op === 'start' || o.op === 'end')) return;
    const ansi = cloneAnsi(this.ansi);
    const holder = document.createElement('div');
    holder.innerHTML = lines.map((l) => lineHtml(ansi, l.text, l.n, l.first)).join('');
    applyStyles(holder);
    this.partialEl = holder;
    holder.className = 'partial';
    this.container.append(holder);
  }

  private dropPartial() {
    this.partialEl?.remove();
    this.partialEl = null;
  }
}

export interface LogViewOptions {
  el: HTMLElement;
  /** the raw log (`…/-/jobs/:id/raw`) */
  raw: string;
  /** the length of the log when the page was made */
  length: number;
  onFollowChange?: (on: boolean) => void;
}

export class LogView {
  private blocks: Block[] = [];
  /** byte offset where the first drawn block starts (0 = the whole log is drawn) */
  private start = 0;
  /** bytes drawn or decoded: the stream goes on from here */
  offset = 0;
  private decoder = new TextDecoder();
  private earlierBtn: HTMLButtonElement | null = null;
  private pendingText = '';
  private frame = 0;
  follow = true;
  private programmaticScroll = false;

  constructor(private o: LogViewOptions) {
    o.el.addEventListener('scroll', () => {
      if (this.programmaticScroll) { this.programmaticScroll = false; return; }
      const atEnd = o.el.scrollTop + o.el.clientHeight >= o.el.scrollHeight - 24;
      if (this.follow && !atEnd) this.setFollow(false);
    });
  }

  setFollow(on: boolean) {
    this.follow = on;
    this.o.onFollowChange?.(on);
    if (on) this.scrollToEnd();
  }

  /** The line-number gutter fits the largest number drawn (set through the CSSOM, as the CSP wants). */
  private fitGutter() {
    const last = this.blocks.at(-1);
    if (last) this.o.el.style.setProperty('--digits', String(Math.max(3, String(last.next).length)));
  }

  private scrollToEnd() {
    this.programmaticScroll = true;
    this.o.el.scrollTop = this.o.el.scrollHeight;
  }

  private empty() {
    this.o.el.querySelector('[data-log-empty]')?.remove();
  }

  /** Draws the tail of the log (or all of it when it is short). */
  async open(): Promise<void> {
    if (this.o.length === 0) {
      this.blocks.push(new Block(1));
      this.o.el.append(this.blocks[0].el);
      return;
    }
    const res = await fetch(this.o.raw, { headers: { range: `bytes=-${TAIL}` }, credentials: 'same-origin' });
    if (!res.ok) throw new Error(`the log could not be read (${res.status})`);
    let bytes = new Uint8Array(await res.arrayBuffer());
    let from = 0;
    let linesBefore = 0;
    if (res.status === 206) {
      from = Number(/bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1] ?? 0);
      linesBefore = Number(res.headers.get('x-log-lines-before') ?? 0);
    }
    // the stream goes on from the end of a whole character
    const end = from + utf8Prefix(bytes);
    bytes = bytes.subarray(0, end - from);
    let firstLine = linesBefore + 1;
    if (from > 0) {
      // the slice starts inside a line: that line is drawn with the earlier output
      const nl = bytes.indexOf(10);
      const cut = nl === -1 ? bytes.length : nl + 1;
      bytes = bytes.subarray(cut);
      from += cut;
      firstLine += nl === -1 ? 0 : 1;
    }
    this.start = from;
    this.offset = end;
    const block = new Block(firstLine);
    this.blocks.push(block);
    this.empty();
    this.o.el.append(block.el);
    block.write(this.decoder.decode(bytes, { stream: true }));
    this.fitGutter();
    this.updateEarlier();
    if (this.follow) this.scrollToEnd();
  }

  /** New bytes from the stream (batched to one redraw per frame). */
  append(text: string) {
    this.pendingText += text;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const t = this.pendingText;
      this.pendingText = '';
      this.empty();
      this.blocks.at(-1)!.write(t);
      this.fitGutter();
      if (this.follow) this.scrollToEnd();
    });
  }

  /** The log was replaced: start over from byte 0. */
  reset() {
    for (const b of this.blocks) b.el.remove();
    this.earlierBtn?.remove();
    this.earlierBtn = null;
    this.blocks = [new Block(1)];
    this.o.el.append(this.blocks[0].el);
    this.start = 0;
    this.offset = 0;
    this.pendingText = '';
  }

  /** The job ended: a last line without `\n` is a line. */
  finish() {
    if (this.pendingText) {
      this.blocks.at(-1)!.write(this.pendingText);
      this.pendingText = '';
    }
    this.blocks.at(-1)?.close();
    if (this.follow) this.scrollToEnd();
  }

  expandAll(open: boolean) {
    for (const d of this.o.el.querySelectorAll('details.section')) (d as HTMLDetailsElement).open = open;
  }

  private updateEarlier() {
    if (this.start === 0) {
      this.earlierBtn?.remove();
      this.earlierBtn = null;
      return;
    }
    if (!this.earlierBtn) {
      this.earlierBtn = document.createElement('button');
      this.earlierBtn.type = 'button';
      this.earlierBtn.className = 'btn earlier';
      this.earlierBtn.dataset.earlier = '';
      this.earlierBtn.addEventListener('click', () => void this.loadEarlier());
      this.o.el.prepend(this.earlierBtn);
    }
    const mib = (this.start / 1024 / 1024).toFixed(1);
    this.earlierBtn.textContent = `Show earlier output (${mib} MiB before this)`;
  }

  /** Draws the slice before the first drawn block. */
  async loadEarlier(): Promise<void> {
    if (this.start === 0 || !this.earlierBtn) return;
    const btn = this.earlierBtn;
    btn.disabled = true;
    const to = this.start;
    const from = Math.max(0, to - EARLIER);
    try {
      const res = await fetch(this.o.raw, { headers: { range: `bytes=${from}-${to - 1}` }, credentials: 'same-origin' });
      if (res.status !== 206) throw new Error(`status ${res.status}`);
      let bytes = new Uint8Array(await res.arrayBuffer());
      let firstLine = Number(res.headers.get('x-log-lines-before') ?? 0) + 1;
      let start = from;
      // the slice starts inside a line: that line is drawn with the slice before (one huge line: as it is)
      const nl = from > 0 ? bytes.indexOf(10) : -1;
      if (nl !== -1) {
        bytes = bytes.subarray(nl + 1);
        start = from + nl + 1;
        firstLine++;
      }
      const block = new Block(firstLine);
      block.write(new TextDecoder().decode(bytes));
      block.close();
      const height = this.o.el.scrollHeight;
      const top = this.o.el.scrollTop;
      btn.after(block.el);
      this.blocks.unshift(block);
      this.start = start;
      // keep what the reader was looking at where it was
      this.programmaticScroll = true;
      this.o.el.scrollTop = top + (this.o.el.scrollHeight - height);
    } finally {
      btn.disabled = false;
      this.updateEarlier();
    }
  }

  /** The first drawn line number (for links to lines not drawn yet). */
  firstLine(): number {
    const first = this.o.el.querySelector('.line[id]');
    return first ? Number(first.id.slice(1)) : 1;
  }
}
