// Traces: the table of traces with one column per assessment name (latest valid value), the
// search grammar as the filter (errors inline, as the server words them), sort, paging and
// live updates.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { searchTraces, type TraceInfo } from "../api";
import { ErrorNote, ValueBadge } from "../components";
import { assessmentValue, formatDuration, formatTime, latestByName, truncate } from "../format";
import { navigate, type Route } from "../router";

const ORDERS: [string, string][] = [
  ["timestamp_ms DESC", "Newest first"],
  ["timestamp_ms ASC", "Oldest first"],
  ["execution_time_ms DESC", "Slowest first"],
];

export function TracesPage({ route }: { route: Route }) {
  const initialFilter = route.query.get("filter") ?? "";
  const [draft, setDraft] = useState(initialFilter);
  const [filter, setFilter] = useState(initialFilter);
  const [order, setOrder] = useState(ORDERS[0][0]);
  const [pages, setPages] = useState<(string | undefined)[]>([undefined]); // page tokens, for Back
  const [traces, setTraces] = useState<TraceInfo[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [live, setLive] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const seq = useRef(0);

  const pageToken = pages[pages.length - 1];
  const load = async (quiet = false, q = { filter, order, pageToken }) => {
    const mine = ++seq.current;
    if (!quiet) setLoading(true);
    try {
      const res = await searchTraces(q.filter, [q.order], q.pageToken);
      if (mine !== seq.current) return;
      setTraces(res.traces ?? []);
      setNext(res.next_page_token || undefined);
      setError(null);
      setUpdatedAt(new Date());
    } catch (e) {
      if (mine !== seq.current) return;
      setError(e);
      setTraces([]);
      setNext(undefined);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  };

  // A layout effect: the request leaves in the same task as the render, not after the next paint.
  // A submitted filter's request has already left from the submit handler (`sent`), before the
  // re-render (the filter round trip budget, issue #6).
  const sent = useRef<string | null>(null);
  const keyOf = (f: string, o: string, p?: string) => JSON.stringify([f, o, p ?? null]);
  useLayoutEffect(() => {
    const already = sent.current === keyOf(filter, order, pageToken);
    sent.current = null;
    if (!already) void load();
  }, [filter, order, pageToken]);

  // Live updates: refresh the first page every few seconds while nothing is being typed.
  useEffect(() => {
    if (!live || pages.length > 1) return;
    const t = setInterval(() => void load(true), 3000);
    return () => clearInterval(t);
  }, [live, filter, order, pages.length]);

  const columns = useMemo(() => {
    const names = new Set<string>();
    for (const t of traces) for (const a of t.assessments ?? []) if (a.valid !== false) names.add(a.assessment_name);
    return [...names].sort();
  }, [traces]);

  const apply = (e: Event) => {
    e.preventDefault();
    const f = draft.trim();
    sent.current = keyOf(f, order, undefined);
    void load(false, { filter: f, order, pageToken: undefined });
    setPages([undefined]);
    setFilter(f);
    history.replaceState(null, "", `#/traces${f ? `?filter=${encodeURIComponent(f)}` : ""}`);
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>Traces</h1>
        <label class="inline">
          <input type="checkbox" checked={live} onChange={(e) => setLive((e.target as HTMLInputElement).checked)} /> Live
        </label>
        {updatedAt && <span class="muted">updated {updatedAt.toLocaleTimeString(undefined, { hour12: false })}</span>}
      </div>
      <form class="filter-bar" onSubmit={apply} role="search">
        <label for="trace-filter" class="sr-only">
          Filter
        </label>
        <input
          id="trace-filter"
          class={`filter ${error ? "invalid" : ""}`}
          value={draft}
          placeholder="e.g. feedback.user_feedback = false AND span.type = 'RETRIEVER'"
          onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
          aria-invalid={error ? "true" : "false"}
          aria-describedby="filter-help"
          spellcheck={false}
        />
        <label for="trace-order" class="sr-only">
          Sort
        </label>
        <select id="trace-order" value={order} onChange={(e) => setOrder((e.target as HTMLSelectElement).value)}>
          {ORDERS.map(([v, label]) => (
            <option value={v}>{label}</option>
          ))}
        </select>
        <button type="submit">Search</button>
      </form>
      <p id="filter-help" class="muted small">
        MLflow's search grammar: <code>trace.status</code>, <code>trace.timestamp_ms</code>, <code>tag.&lt;key&gt;</code>,{" "}
        <code>metadata.&lt;key&gt;</code>, <code>span.type</code>, <code>feedback.&lt;name&gt;</code>, <code>expectation.&lt;name&gt;</code>;
        conditions joined by AND.
      </p>
      <ErrorNote error={error} />
      <div class="table-wrap">
        <table class="traces" aria-busy={loading ? "true" : "false"}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Trace</th>
              <th scope="col">Request</th>
              <th scope="col">Response</th>
              <th scope="col">State</th>
              <th scope="col" class="num">
                Duration
              </th>
              {columns.map((c) => (
                <th scope="col" class="assessment-col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {traces.map((t) => {
              const latest = latestByName(t.assessments);
              return (
                <tr
                  key={t.trace_id}
                  class="clickable"
                  data-trace-id={t.trace_id}
                  onClick={() => navigate(`/traces/${t.trace_id}`)}
                >
                  <td class="nowrap">{formatTime(t.request_time)}</td>
                  <td class="nowrap">
                    <a href={`#/traces/${t.trace_id}`} onClick={(e) => e.stopPropagation()}>
                      <code>{t.trace_id.slice(0, 11)}…</code>
                    </a>
                  </td>
                  <td title={t.request_preview}>{truncate(t.request_preview, 70)}</td>
                  <td title={t.response_preview}>{truncate(t.response_preview, 70)}</td>
                  <td>
                    <span class={`state ${t.state?.toLowerCase() ?? ""}`}>{t.state}</span>
                  </td>
                  <td class="num nowrap">{formatDuration(t.execution_duration)}</td>
                  {columns.map((c) => {
                    const a = latest.get(c);
                    return <td class="assessment-col">{a ? <ValueBadge value={assessmentValue(a)} label={c} /> : ""}</td>;
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
        {!loading && !error && traces.length === 0 && (
          <p class="empty">No traces{filter ? " match this filter" : " yet — send one with the SDK, the MLflow client or OTLP"}.</p>
        )}
      </div>
      <div class="pager">
        <button type="button" disabled={pages.length <= 1} onClick={() => setPages(pages.slice(0, -1))}>
          ← Previous
        </button>
        <span class="muted">Page {pages.length}</span>
        <button type="button" disabled={!next} onClick={() => setPages([...pages, next])}>
          Next →
        </button>
      </div>
    </div>
  );
}
