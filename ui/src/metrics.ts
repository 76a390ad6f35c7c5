// A small parser for the Prometheus text format (what GET /metrics serves), enough for the
// Dashboard: samples with their labels.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) {
      for (const l of m[3].matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    const v = m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : Number(m[4]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

export function samples(all: Sample[], name: string): Sample[] {
  return all.filter((s) => s.name === name);
}

export function sum(all: Sample[], name: string): number {
  return samples(all, name).reduce((a, s) => a + (Number.isFinite(s.value) ? s.value : 0), 0);
}

// The q-quantile of a Prometheus histogram (name_bucket samples with `le`), interpolated.
export function histogramQuantile(all: Sample[], name: string, q: number): number | null {
  const buckets = samples(all, `${name}_bucket`)
    .map((s) => ({ le: s.labels.le === "+Inf" ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  // Sum across label sets with the same `le`.
  const merged: { le: number; count: number }[] = [];
  for (const b of buckets) {
    const last = merged[merged.length - 1];
    if (last && last.le === b.le) last.count += b.count;
    else merged.push({ ...b });
  }
  const total = merged.length ? merged[merged.length - 1].count : 0;
  if (!total) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of merged) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const span = b.count - prevCount;
      return span > 0 ? prevLe + ((b.le - prevLe) * (rank - prevCount)) / span : b.le;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
