/**
 * Reads the Prometheus text format as a scraper would: every sample line checked against
 * the grammar, HELP/TYPE kept per metric family, values by `name{label="v",…}` key.
 */
export interface Exposition {
  help: Map<string, string>;
  type: Map<string, string>;
  /** `name{a="x",b="y"}` (labels in the order written) → value */
  samples: Map<string, number>;
  /** value of the sample with exactly these labels (unescaped values) */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** every sample of a metric name, with its labels */
  series(name: string): { labels: Record<string, string>; value: number }[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/;

export function parseExposition(text: string): Exposition {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples = new Map<string, number>();
  const parsed: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP ([^ ]+) (.*)$/.exec(line);
    if (m) { help.set(m[1], m[2]); continue; }
    m = /^# TYPE ([^ ]+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) { type.set(m[1], m[2]); continue; }
    m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    samples.set(`${m[1]}${m[2] ?? ''}`, value);
    parsed.push({ name: m[1], labels, value });
  }
  const same = (a: Record<string, string>, b: Record<string, string>) => {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
  };
  return {
    help, type, samples,
    value: (name, labels = {}) => parsed.find((p) => p.name === name && same(p.labels, labels))?.value,
    series: (name) => parsed.filter((p) => p.name === name).map(({ labels, value }) => ({ labels, value })),
  };
}

export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Exposition> {
  const res = await fetch(`${url}/metrics`, { headers });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  return parseExposition(await res.text());
}
