// Dashboard: live quality and pipeline figures from tracefeed's own /metrics, sampled every few
// seconds in the browser (no Prometheus needed; deploy/grafana has the long-term version).
import { useEffect, useRef, useState } from "preact/hooks";
import { Card, ErrorNote } from "../components";
import { histogramQuantile, parseMetrics, samples, sum, type Sample } from "../metrics";

interface Point {
  t: number;
  v: number;
}
type Series = Record<string, Point[]>;
const KEEP = 120; // points per series (10 minutes at 5 s)
const PERIOD_MS = 5000;

function Sparkline({ points, label, format }: { points: Point[]; label: string; format: (v: number) => string }) {
  const w = 220,
    h = 44;
  if (!points.length) return <span class="muted small">no data yet</span>;
  if (points.length === 1) points = [points[0], { t: points[0].t + 1, v: points[0].v }];
  const vs = points.map((p) => p.v);
  const lo = Math.min(...vs, 0),
    hi = Math.max(...vs, lo + 1e-9);
  const t0 = points[0].t,
    t1 = Math.max(points[points.length - 1].t, t0 + 1);
  const d = points
    .map((p, i) => `${i ? "L" : "M"}${(((p.t - t0) / (t1 - t0)) * w).toFixed(1)},${(h - ((p.v - lo) / (hi - lo)) * (h - 4) - 2).toFixed(1)}`)
    .join(" ");
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${label}: now ${format(vs[vs.length - 1])}`}>
      <path d={d} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}

function Figure({ label, value, series, format }: { label: string; value: number | null; series?: Point[]; format: (v: number) => string }) {
  return (
    <div class="figure">
      <div class="figure-label">{label}</div>
      <div class="figure-value">{value === null || !Number.isFinite(value) ? "–" : format(value)}</div>
      {series && <Sparkline points={series} label={label} format={format} />}
    </div>
  );
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2).replace(/\.?0+$/, ""));
const secs = (v: number) => (v < 1 ? `${(v * 1000).toFixed(0)} ms` : v < 120 ? `${v.toFixed(1)} s` : `${(v / 60).toFixed(1)} min`);

export function DashboardPage() {
  const [now, setNow] = useState<Sample[]>([]);
  const [series, setSeries] = useState<Series>({});
  const [error, setError] = useState<unknown>(null);
  const prev = useRef<{ t: number; ingested: number; reviews: number } | null>(null);

  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const res = await fetch("/metrics");
        if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
        const all = parseMetrics(await res.text());
        if (stopped) return;
        const t = Date.now();
        const ingested = sum(all, "tracefeed_events_ingested_total");
        const reviews = sum(all, "tracefeed_reviews_completed_total");
        const add: Record<string, number> = {};
        for (const s of samples(all, "tracefeed_negative_feedback_ratio")) add[`neg:${s.labels.name}`] = s.value;
        for (const s of samples(all, "tracefeed_review_queue_depth")) add[`queue:${s.labels.session}`] = s.value;
        if (prev.current) {
          const dt = (t - prev.current.t) / 1000;
          add.ingest_rate = Math.max(0, (ingested - prev.current.ingested) / dt);
          add.reviews_per_hour = Math.max(0, ((reviews - prev.current.reviews) / dt) * 3600);
        }
        const p99 = histogramQuantile(all, "tracefeed_route_latency_seconds", 0.99);
        if (p99 !== null) add.route_p99 = p99;
        prev.current = { t, ingested, reviews };
        setNow(all);
        setSeries((old) => {
          const next: Series = { ...old };
          for (const [k, v] of Object.entries(add)) next[k] = [...(old[k] ?? []), { t, v }].slice(-KEEP);
          return next;
        });
        setError(null);
      } catch (e) {
        if (!stopped) setError(e);
      }
    };
    void tick();
    const timer = setInterval(tick, PERIOD_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  const last = (k: string) => {
    const s = series[k];
    return s?.length ? s[s.length - 1].v : null;
  };
  const neg = samples(now, "tracefeed_negative_feedback_ratio");
  const queues = samples(now, "tracefeed_review_queue_depth");
  const ages = new Map(samples(now, "tracefeed_review_item_age_seconds").map((s) => [s.labels.session, s.value]));
  const agreement = samples(now, "tracefeed_label_agreement");
  const evalScores = samples(now, "tracefeed_eval_score");
  const byReviewer = samples(now, "tracefeed_reviews_completed_total");

  return (
    <div class="page">
      <div class="page-head">
        <h1>Dashboard</h1>
        <span class="muted">live from /metrics, every {PERIOD_MS / 1000} s</span>
      </div>
      <ErrorNote error={error} />
      <Card title="Quality">
        <div class="figures">
          {neg.length ? (
            neg.map((s) => (
              <Figure
                label={`Negative feedback · ${s.labels.name}`}
                value={s.value}
                series={series[`neg:${s.labels.name}`]}
                format={pct}
              />
            ))
          ) : (
            <p class="muted">No feedback yet.</p>
          )}
          {evalScores.map((s) => (
            <Figure label={`Eval score · ${s.labels.scorer}`} value={s.value} format={num} />
          ))}
        </div>
      </Card>
      <Card title="Review queues">
        {queues.length ? (
          <table class="compact">
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col" class="num">
                  Waiting
                </th>
                <th scope="col" class="num">
                  Oldest item
                </th>
                <th scope="col">Trend</th>
              </tr>
            </thead>
            <tbody>
              {queues.map((q) => (
                <tr>
                  <td>{q.labels.session}</td>
                  <td class="num">{q.value}</td>
                  <td class="num">{ages.has(q.labels.session) ? secs(ages.get(q.labels.session)!) : "–"}</td>
                  <td>
                    <Sparkline points={series[`queue:${q.labels.session}`] ?? []} label={`${q.labels.session} queue`} format={num} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No review queue figures in /metrics yet (no labeling sessions, or this server does not export them).</p>
        )}
        <div class="figures">
          <Figure label="Reviews per hour" value={last("reviews_per_hour")} series={series.reviews_per_hour} format={num} />
          {agreement.map((s) => (
            <Figure label={`Agreement · ${s.labels.session} / ${s.labels.schema}`} value={s.value} format={pct} />
          ))}
        </div>
        {byReviewer.length > 0 && (
          <p class="muted small">
            Reviews by reviewer:{" "}
            {byReviewer.map((s) => `${s.labels.reviewer} (${s.labels.session}) ${s.value}`).join(" · ")}
          </p>
        )}
      </Card>
      <Card title="Pipeline">
        <div class="figures">
          <Figure label="Ingest rate (events/s)" value={last("ingest_rate")} series={series.ingest_rate} format={num} />
          <Figure label="Route latency p99" value={last("route_p99")} series={series.route_p99} format={secs} />
          <Figure label="Pending joins" value={samples(now, "tracefeed_join_pending_assessments")[0]?.value ?? null} format={num} />
          <Figure label="Consumer lag" value={samples(now, "tracefeed_consumer_lag").length ? sum(now, "tracefeed_consumer_lag") : null} format={num} />
          <Figure label="Rejected events" value={samples(now, "tracefeed_events_rejected_total").length ? sum(now, "tracefeed_events_rejected_total") : null} format={num} />
        </div>
      </Card>
    </div>
  );
}
