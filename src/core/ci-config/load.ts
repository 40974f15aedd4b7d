/**
 * Step 1: text → data, as GitLab's loader (Ruby Psych `safe_load`, YAML 1.1) would give it.
 *
 * The `yaml` package parses; this module turns its node tree into values itself, because
 * Psych's rules differ from every JavaScript schema in ways real files hit:
 * - plain scalars are typed with Psych's scanner (`on`/`yes` are true, `010` is 8, `1e3` and
 *   `1.0.0` stay strings, `3.10` is the float 3.1, `~` is null), and an unquoted date or time
 *   aborts the load (`Tried to load unspecified class: Date`), as safe_load does;
 * - `<<` merge keys merge where they stand (later keys win, as Psych's `merge!`);
 * - duplicate keys: the last one wins; unknown tags are ignored; `!reference [...]` is kept
 *   as a Reference for reference.ts;
 * - aliases share their value (no copy), and a walk of the result with aliases expanded is
 *   bounded in size and depth (GitLab's "billion laughs" guard).
 * Documents are cut as GitLab cuts them, on the text, before any YAML is read (see
 * splitDocuments); a `spec:` header is the first of them only when another follows.
 */
import { Alias, isAlias, isMap as isYamlMap, isScalar, isSeq, parseAllDocuments, visit, type Document, type Node as YamlNode, type Scalar } from 'yaml';
import { ConfigError } from './errors';
import { isBlankString } from '../untrusted-regexp';
import { isMap, put, Reference, RubyFloat, type YamlMap } from './values';

export interface LoadLimits {
  /** bytes of text (GitLab `max_yaml_size_bytes`, 2 MB) */
  maxBytes: number;
  /** nesting depth of the parsed value (GitLab `max_yaml_depth`, 100) */
  maxDepth: number;
}

export const DEFAULT_LOAD_LIMITS: LoadLimits = { maxBytes: 2 * 1024 * 1024, maxDepth: 100 };

export interface LoadedFile {
  /** the first document when it has `spec:` and another follows, else null */
  header: YamlMap | null;
  body: YamlMap;
}

/** Parses one configuration file. Throws ConfigError with GitLab's message. */
export function loadConfigFile(text: string, limits: LoadLimits = DEFAULT_LOAD_LIMITS): LoadedFile {
  const docs = loadDocuments(text, limits) as YamlMap[];
  // with a header the config is the last document (the third, when there are three)
  if (docs.length > 1 && Object.hasOwn(docs[0], 'spec')) return { header: docs[0], body: docs[docs.length - 1] };
  // no document left (only comments, `---`, `{}`): an empty config, not a format error
  return { header: null, body: docs[0] ?? {} };
}

/** At most this many documents count (GitLab's MAX_DOCUMENTS); one more part absorbs a leading `---`. */
const MAX_DOCUMENTS = 2;
/** `---` at a line start and the whitespace after it, newlines and the next line's indentation
 * included (Ruby's `^` follows only `\n`, its `\s` is ASCII). */
const DIVIDER = /(?<![^\n])---[\t\n\v\f\r ]+/g;

/**
 * The parts GitLab's multi-document loader reads: the text cut at each divider, into at most
 * MAX_DOCUMENTS + 1 parts, the last one keeping any later divider. A `---` with nothing after
 * it (the file's end) or indented does not cut; one at column 0 inside a block scalar does.
 */
export function splitDocuments(text: string): string[] {
  const parts: string[] = [];
  let from = 0;
  for (const m of text.matchAll(DIVIDER)) {
    if (parts.length === MAX_DOCUMENTS) break;
    parts.push(text.slice(from, m.index));
    from = m.index + m[0].length;
  }
  parts.push(text.slice(from));
  return parts;
}

/**
 * The documents of a text as GitLab loads them: every part parsed (Psych reads a part up to
 * its first document), blank ones dropped, then each checked for size and for being a hash.
 */
export function loadDocuments(text: string, limits: LoadLimits = DEFAULT_LOAD_LIMITS): unknown[] {
  if (Buffer.byteLength(text, 'utf8') > limits.maxBytes) throw new ConfigError('The provided YAML is too big');
  // a BOM keeps a first `---` from dividing (Ruby's split sees it), and libyaml skips it
  const parts = splitDocuments(text).map((part, i) => (i === 0 && part.charCodeAt(0) === 0xfeff ? part.slice(1) : part));
  // every part is parsed before any is checked: a syntax error anywhere comes first
  const values = parts.map(loadFirstDocument).filter((v) => !isBlank(v));
  for (const value of values) {
    checkSize(value, limits);
    if (!isMap(value)) throw new ConfigError('Invalid configuration format');
  }
  return values;
}

/** The first document of a part, as Psych's safe_load reads it (later ones are not parsed). */
function loadFirstDocument(source: string): unknown {
  let doc = parse(source)[0];
  let current = source;
  // libyaml (Psych) does not check the indentation of the continuation lines of a quoted
  // scalar or a flow collection (`[ … ]`, `{ … }`), only for document markers; the `yaml`
  // package ends them at a line indented like their parent. When the file does not parse,
  // such lines are indented further (leading blanks there are folded away or insignificant,
  // so the values are the same) and the result is used if it parses.
  if (doc?.errors.length) {
    const repaired = reindentContinuations(source);
    if (repaired !== null) {
      const again = parse(repaired)[0];
      if (!again?.errors.length) { doc = again; current = repaired; }
    }
  }
  if (!doc) return null;
  const err = doc.errors[0];
  if (err) {
    // positions within the part, as Psych parses each part alone
    const offset = err.pos[0];
    const before = current.slice(0, offset);
    const line = before.split('\n').length;
    const where = ` at line ${line} column ${offset - before.lastIndexOf('\n')}`;
    throw new ConfigError(`(<unknown>): ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}${where}`);
  }
  return new Converter(doc).node(doc.contents);
}

/** ActiveSupport's `blank?`: null, false, whitespace-only text, an empty list or hash. */
function isBlank(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return true;
  if (typeof v === 'string') return isBlankString(v);
  if (Array.isArray(v)) return v.length === 0;
  return isMap(v) && Object.keys(v).length === 0;
}

function parse(text: string): Document.Parsed[] {
  let parsed: Document.Parsed[];
  try {
    parsed = parseAllDocuments(text, { version: '1.1', schema: 'failsafe', uniqueKeys: false, keepSourceTokens: false, prettyErrors: false, strict: false });
  } catch (e) {
    throw new ConfigError(`(<unknown>): ${(e as Error).message}`);
  }
  return Array.isArray(parsed) ? parsed : [parsed];
}

/**
 * The text with every continuation line of a multi-line quoted scalar or flow collection
 * indented at least to the column of its opening quote (or one past its bracket), and two
 * columns deeper than the line it starts on (null when there is no such line). A quote starts
 * a scalar where a YAML value can start: after indentation, `- `, `key: `, `? `, `[`, `{`,
 * `,`, an anchor or a tag. Block scalars (`|`, `>`) and comments are skipped.
 */
export function reindentContinuations(text: string): string | null {
  const lines = text.split('\n');
  let changed = false;
  let blockIndent = -1; // inside a block scalar: lines indented more than this belong to it
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    let indent = /^ */.exec(line)![0].length;
    if (blockIndent >= 0) {
      if (line.trim() === '' || indent > blockIndent) continue;
      blockIndent = -1;
    }
    let j = indent;
    let valueStart = true;
    while (j < line.length) {
      const c = line[j];
      if (c === ' ' || c === '\t') { j++; continue; }
      if (c === '#' && (j === 0 || line[j - 1] === ' ' || line[j - 1] === '\t')) break;
      if (valueStart && (c === "'" || c === '"')) {
        const close = closingQuote(lines, i, j + 1, c);
        if (close === null) return changed ? lines.join('\n') : null;
        const [endLine, endCol] = close;
        // as deep as the opening quote: deeper than the key or item the scalar is the value of
        if (indentAtLeast(lines, i + 1, endLine, Math.max(indent + 2, j))) changed = true;
        // go on scanning the closing line after its quote (that line may have moved right)
        if (endLine === i) j = endCol + 1;
        else { i = endLine; line = lines[i]; indent = /^ */.exec(line)![0].length; j = indexAfterQuote(line, c); }
        valueStart = false;
        continue;
      }
      if (valueStart && (c === '|' || c === '>') && /^[|>][-+0-9]*\s*(#.*)?$/.test(line.slice(j))) { blockIndent = indent; break; }
      if (c === '-' && (line[j + 1] === ' ' || j + 1 === line.length)) { j += 1; valueStart = true; continue; }
      if (c === '?' && line[j + 1] === ' ') { j += 1; valueStart = true; continue; }
      if (c === ':' && (line[j + 1] === ' ' || j + 1 === line.length)) { j += 1; valueStart = true; continue; }
      if (valueStart && (c === '[' || c === '{')) {
        // a flow collection continued on later lines: the same, as deep as its opening bracket
        const close = closingBracket(lines, i, j);
        if (close !== null && indentAtLeast(lines, i + 1, close[0], Math.max(indent + 2, j + 1))) changed = true;
        j++;
        continue;
      }
      if (c === '[' || c === '{' || c === ',') { j++; valueStart = true; continue; }
      if ((c === '&' || c === '!') && valueStart) { while (j < line.length && line[j] !== ' ') j++; continue; }
      valueStart = false;
      j++;
    }
  }
  return changed ? lines.join('\n') : null;
}

/** Indents the non-blank lines `from`…`to` to at least `want` columns; true when one moved. */
function indentAtLeast(lines: string[], from: number, to: number, want: number): boolean {
  let moved = false;
  for (let k = from; k <= to; k++) {
    const lead = /^ */.exec(lines[k])![0].length;
    if (lines[k].trim() !== '' && lead < want) { lines[k] = ' '.repeat(want - lead) + lines[k]; moved = true; }
  }
  return moved;
}

/** Where the flow collection opened at `lines[line][col]` closes: [line, column of the bracket], or null. */
function closingBracket(lines: string[], line: number, col: number): [number, number] | null {
  let depth = 0;
  let i = line;
  let j = col;
  while (i < lines.length) {
    const text = lines[i];
    if (i > line && j === 0 && /^(---|\.\.\.)(\s|$)/.test(text)) return null;
    if (j >= text.length) { i++; j = 0; continue; }
    const c = text[j];
    if (c === '#' && (j === 0 || text[j - 1] === ' ' || text[j - 1] === '\t')) { i++; j = 0; continue; }
    if (c === '"' || c === "'") {
      const end = closingQuote(lines, i, j + 1, c);
      if (end === null) return null;
      [i, j] = [end[0], end[1] + 1];
      continue;
    }
    if (c === '[' || c === '{') depth++;
    else if ((c === ']' || c === '}') && --depth === 0) return [i, j];
    j++;
  }
  return null;
}

/** Where a quoted scalar opened at `lines[line][col - 1]` closes: [line, column of the quote], or null. */
function closingQuote(lines: string[], line: number, col: number, quote: string): [number, number] | null {
  for (let i = line; i < lines.length; i++) {
    const text = lines[i];
    if (i > line && /^(---|\.\.\.)(\s|$)/.test(text)) return null;
    for (let j = i === line ? col : 0; j < text.length; j++) {
      const c = text[j];
      if (quote === '"' && c === '\\') { j++; continue; }
      if (c !== quote) continue;
      if (quote === "'" && text[j + 1] === "'") { j++; continue; }
      return [i, j];
    }
  }
  return null;
}

function indexAfterQuote(line: string, quote: string): number {
  // the closing line was re-indented: find its closing quote again from the left
  for (let j = 0; j < line.length; j++) {
    const c = line[j];
    if (quote === '"' && c === '\\') { j++; continue; }
    if (c !== quote) continue;
    if (quote === "'" && line[j + 1] === "'") { j++; continue; }
    return j + 1;
  }
  return line.length;
}

class Converter {
  private done = new Map<YamlNode, unknown>();
  private targets: Map<Alias, YamlNode> | null = null;
  constructor(private doc: Document.Parsed) {}

  /**
   * Each alias's node: the latest anchor of that name before it in the document. One walk
   * for all aliases (the `yaml` package's Alias.resolve walks the whole document per alias).
   */
  private aliasTargets(): Map<Alias, YamlNode> {
    if (this.targets) return this.targets;
    const targets = new Map<Alias, YamlNode>();
    const anchors = new Map<string, YamlNode>();
    visit(this.doc, {
      Node: (_key, node) => {
        if (isAlias(node)) {
          const target = anchors.get(node.source);
          if (target) targets.set(node, target);
        } else if ((node as { anchor?: string }).anchor) anchors.set((node as { anchor: string }).anchor, node as YamlNode);
      },
    });
    this.targets = targets;
    return targets;
  }

  node(n: unknown): unknown {
    if (n === null || n === undefined) return null;
    if (isAlias(n)) {
      const target = this.aliasTargets().get(n as Alias);
      if (!target) throw new ConfigError(`(<unknown>): unknown alias ${(n as Alias).source}`);
      return this.node(target);
    }
    const node = n as YamlNode;
    const seen = this.done.get(node);
    if (seen !== undefined) return seen;
    const tag = node.tag;
    if (isScalar(node)) {
      // `!reference .a` (not a list): kept as a reference, which reference.ts refuses as GitLab does
      const v = tag === '!reference' ? new Reference((node as Scalar).value === null ? '' : String((node as Scalar).source ?? (node as Scalar).value)) : scalar(node as Scalar);
      this.done.set(node, v);
      return v;
    }
    if (isSeq(node)) {
      const out: unknown[] = [];
      const result = tag === '!reference' ? new Reference(out) : out;
      this.done.set(node, result);
      for (const item of node.items) out.push(this.node(item));
      return result;
    }
    if (isYamlMap(node)) {
      const out: YamlMap = {};
      this.done.set(node, out);
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const key = this.node(keyNode);
        const isMergeKey = key === '<<' && !(isScalar(keyNode) && keyNode.tag === 'tag:yaml.org,2002:str');
        if (isMergeKey && this.merge(out, pair.value)) continue;
        put(out, keyText(key), this.node(pair.value));
      }
      if (tag === '!reference') return new Reference(out);
      return out;
    }
    return null;
  }

  /** Psych's `<<`: a hash is merged in place; a list of hashes is merged with earlier ones winning. */
  private merge(out: YamlMap, valueNode: unknown): boolean {
    const value = this.node(valueNode);
    if (isMap(value)) {
      for (const [k, v] of Object.entries(value)) put(out, k, v);
      return true;
    }
    if (Array.isArray(value) && value.every(isMap)) {
      const combined: YamlMap = {};
      for (const h of [...value].reverse()) for (const [k, v] of Object.entries(h)) put(combined, k, v);
      for (const [k, v] of Object.entries(combined)) put(out, k, v);
      return true;
    }
    return false;
  }
}

/** Keys become strings (Ruby symbolizes them; `1:` or `on:` keys keep their text form). */
function keyText(key: unknown): string {
  if (typeof key === 'string') return key;
  if (key === null || key === undefined) return '';
  if (key instanceof RubyFloat) return key.toString();
  return String(key);
}

const STR = 'tag:yaml.org,2002:str';

function scalar(node: Scalar): unknown {
  const raw = node.value === null || node.value === undefined ? '' : String(node.value);
  const tag = node.tag;
  const quoted = node.type !== undefined && node.type !== 'PLAIN';
  if (tag === STR || tag === '!str' || tag === '!') return raw;
  if (tag === 'tag:yaml.org,2002:binary' || tag === '!binary') return Buffer.from(raw.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (tag === 'tag:yaml.org,2002:int') return psychInteger(raw) ?? tokenize(raw);
  if (tag === 'tag:yaml.org,2002:float') {
    const f = Number(raw.replace(/[,_]/g, ''));
    return Number.isNaN(f) ? tokenize(raw) : new RubyFloat(f);
  }
  if (tag === 'tag:yaml.org,2002:null') return null;
  if (tag === 'tag:yaml.org,2002:bool') return tokenize(raw);
  if (quoted) return raw;
  return tokenize(raw);
}

const TIME = /^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$/;
const DATE = /^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$/;
const FLOAT = /^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?)$/;
const INTEGER = /^(?:[-+]?0b[_,]*[0-1][0-1_,]*|[-+]?0[_,]*[0-7][0-7_,]*|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[_,]*[0-9a-fA-F][0-9a-fA-F_,]*)$/;
const STRINGISH = /^[^\d.:-]?[\p{L}_\s!@#$%^&*(){}<>|/\\~;=]+/u;

/** Psych's ScalarScanner#tokenize for a plain scalar. */
export function tokenize(s: string): unknown {
  if (s === '') return null;
  if (STRINGISH.test(s) || s.includes('\n')) {
    if (s.length > 5) return s;
    if (/^[^ytonf~]/i.test(s)) return s;
    if (s === '~' || /^null$/i.test(s)) return null;
    if (/^(yes|true|on)$/i.test(s)) return true;
    if (/^(no|false|off)$/i.test(s)) return false;
    return s;
  }
  if (TIME.test(s)) throw new ConfigError('Tried to load unspecified class: Time');
  if (DATE.test(s)) {
    const [y, m, d] = s.split('-').map(Number);
    const date = new Date(Date.UTC(y, m - 1, d));
    if (date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d) {
      throw new ConfigError('Tried to load unspecified class: Date');
    }
    return s;
  }
  if (/^\+?\.inf$/i.test(s)) return new RubyFloat(Infinity);
  if (/^-\.inf$/i.test(s)) return new RubyFloat(-Infinity);
  if (/^\.nan$/i.test(s)) return new RubyFloat(NaN);
  if (/^:./.test(s)) return s; // a Ruby Symbol: kept as its text
  if (/^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$/.test(s)) {
    // Psych weighs the parts as if there were three (so `1:20` is 4800, as GitLab sees it).
    const parts = s.split(':');
    let total = 0;
    parts.forEach((p, e) => { total += parseInt(p.replace(/_/g, ''), 10) * 60 ** Math.abs(e - 2); });
    return total;
  }
  if (/^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$/.test(s)) {
    const parts = s.split(':');
    let total = 0;
    parts.forEach((p, e) => { total += parseFloat(p.replace(/_/g, '')) * 60 ** Math.abs(e - 2); });
    return new RubyFloat(total);
  }
  if (FLOAT.test(s)) {
    if (/^[-+]?\.$/.test(s)) return s;
    return new RubyFloat(Number(s.replace(/[,_]/g, '').replace(/\.([Ee]|$)/, '$1')));
  }
  const int = psychInteger(s);
  return int ?? s;
}

/** Ruby's Integer() of a Psych integer literal (octal `010`, `0x1F`, `0b101`, `1_000`, `1,000`). */
function psychInteger(s: string): number | null {
  if (!INTEGER.test(s)) return null;
  const clean = s.replace(/[,_]/g, '');
  const neg = clean.startsWith('-');
  const body = clean.replace(/^[-+]/, '');
  let n: number;
  if (/^0b/i.test(body)) n = parseInt(body.slice(2), 2);
  else if (/^0x/i.test(body)) n = parseInt(body.slice(2), 16);
  else if (/^0[0-7]+$/.test(body)) n = parseInt(body.slice(1), 8);
  else n = parseInt(body, 10);
  return neg ? -n : n;
}

/** GitLab's DeepSize guard: aliases expanded, ~40 bytes a node plus string lengths. */
function checkSize(value: unknown, limits: LoadLimits): void {
  let budget = limits.maxBytes;
  const walk = (v: unknown, depth: number): void => {
    if (depth > limits.maxDepth) throw new ConfigError('The parsed YAML is too big');
    budget -= 40 + (typeof v === 'string' ? v.length : 0);
    if (budget < 0) throw new ConfigError('The parsed YAML is too big');
    if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (v instanceof Reference) walk(v.path, depth + 1);
    else if (isMap(v)) for (const [k, x] of Object.entries(v)) { budget -= k.length; walk(x, depth + 1); }
  };
  walk(value, 0);
}
