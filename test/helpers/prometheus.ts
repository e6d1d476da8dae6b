/**
 * Reading a Prometheus text exposition in tests. Families (name, TYPE, HELP) and counter/gauge
 * samples come from parse-prometheus-text-format, a real parser. That parser (1.1.1) folds
 * labelled histograms into one label-less entry, so histogram series are read by `samples`, a
 * strict line parser of the text format (0.0.4) that throws on any line the format does not
 * allow or on a sample whose family has no `# TYPE`: a malformed exposition fails the test.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const m = LABEL.exec(text);
    if (!m || LABEL.lastIndex === start) throw new Error(`bad labels in: ${line}`);
    out[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return out;
}

/** Special values case-insensitively, as Prometheus reads them (Go's ParseFloat); prom-client writes `Nan`. */
function parseValue(v: string, line: string): number {
  const special = v.toLowerCase();
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  if (special === 'nan') return NaN;
  const n = Number(v);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v) || Number.isNaN(n))
    throw new Error(`bad value in: ${line}`);
  return n;
}

/** Every sample line, strictly parsed; family names of histogram lines keep their suffix. */
export function samples(text: string): Sample[] {
  const types = new Map<string, string>();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m && m[1] === 'TYPE') {
        if (!NAME.test(m[2]!) || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!))
          throw new Error(`bad TYPE line: ${line}`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const name = m[1]!;
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
    if (!family) throw new Error(`sample without a # TYPE for its family: ${line}`);
    out.push({ name, labels: m[3] ? parseLabels(m[3], line) : {}, value: parseValue(m[4]!, line) });
  }
  return out;
}

/** Families by name, from the real parser (after the strict check above passes). */
export function families(text: string): Map<string, ParsedFamily> {
  samples(text);
  return new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
}

/** The value of the one sample with exactly these labels (undefined when absent). */
export function valueOf(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  const hits = samples(text).filter(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want,
  );
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} with ${want}`);
  return hits[0]?.value;
}

/** A histogram series' cumulative bucket counts by `le`, plus its count and sum. */
export function histogram(text: string, name: string, labels: Record<string, string>) {
  const buckets: Record<string, number> = {};
  for (const s of samples(text)) {
    if (s.name !== `${name}_bucket`) continue;
    const { le, ...rest } = s.labels;
    if (
      le !== undefined &&
      JSON.stringify(Object.entries(rest).sort()) === JSON.stringify(Object.entries(labels).sort())
    )
      buckets[le] = s.value;
  }
  return {
    buckets,
    count: valueOf(text, `${name}_count`, labels),
    sum: valueOf(text, `${name}_sum`, labels),
  };
}
