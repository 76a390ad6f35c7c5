// Evaluations (Labeling → Evaluations, issue #7): the runs of POST /api/v1/evaluations newest
// first with their live status, a form to start one (a labeling session, a dataset or a filter;
// the scorers), and one run's aggregates and per-record results, each record linked to its
// trace. The JSON is processors/evaluate/README.md's "Evaluations API". A server without the
// evaluator answers 404 "no route for …": the view says so instead of showing an error.
import { useEffect, useRef, useState } from "preact/hooks";
import {
  ApiError,
  createEvaluation,
  deleteEvaluation,
  getEvaluation,
  isMissingRoute,
  listDatasets,
  listEvaluations,
  validateFilter,
  type Dataset,
  type EvalResult,
  type EvalScore,
  type EvaluationRequest,
  type EvaluationRun,
  type LabelingSession,
  type ScorerSpec,
} from "../api";
import { Card, ErrorNote, NumHeads, useAsyncAction } from "../components";
import { formatTime, truncate, valueText } from "../format";
import { navigate } from "../router";

const ACTIVE = new Set(["pending", "running"]);
const isActive = (r: EvaluationRun) => ACTIVE.has(r.status);

// The scorers offered by the form, with what each needs (README "Scorers").
const SCORERS: { name: string; hint: string; judge?: boolean }[] = [
  { name: "correctness", hint: "expected_response or expected_facts; deterministic without a judge" },
  { name: "exact_match", hint: "expected_response; normalized texts equal" },
  { name: "token_f1", hint: "expected_response; token F1 0–1" },
  { name: "expected_facts_coverage", hint: "expected_facts; share of facts stated" },
  { name: "latency_ms", hint: "the trace's duration" },
  { name: "relevance_to_query", hint: "judge", judge: true },
  { name: "retrieval_groundedness", hint: "judge; a RETRIEVER span", judge: true },
  { name: "expectations_guidelines", hint: "judge; a guidelines expectation", judge: true },
];

function UnavailableNote() {
  return (
    <div class="notice-box" role="status" data-evaluations="unavailable">
      <strong>The evaluation API is not available on this server.</strong>
      <p class="small">
        It answered <code>404 no route for GET /api/v1/evaluations</code>: this tracefeed was built or started without the evaluator.
        Upgrade the server, or run <code>tracefeed evaluate</code> against one that has it.
      </p>
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`status s-${status}`}>{status}</span>;
}

function sourceText(req: EvaluationRequest, sessions: LabelingSession[]): string {
  if (req.labeling_session_id) {
    const s = sessions.find((x) => x.labeling_session_id === req.labeling_session_id);
    return `session ${s?.name ?? req.labeling_session_id}`;
  }
  if (req.dataset) {
    const d = typeof req.dataset === "string" ? { name: req.dataset } : req.dataset;
    return `dataset ${d.name}${"version" in d && d.version ? ` v${d.version}` : ""}`;
  }
  if (req.filter) return `filter ${req.filter}`;
  return "";
}

function scorerName(s: ScorerSpec): string {
  return typeof s === "string" ? s : s.name;
}

// "correctness/mean" → scorer "correctness", metric "mean". Scorer names contain no "/".
function byScorer(aggregates: Record<string, number> | undefined): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const [k, v] of Object.entries(aggregates ?? {})) {
    const cut = k.lastIndexOf("/");
    if (cut <= 0) continue;
    const name = k.slice(0, cut);
    if (!out.has(name)) out.set(name, {});
    out.get(name)![k.slice(cut + 1)] = v;
  }
  return out;
}

// A yes/no scorer's mean is the share of "yes": shown as a percentage; numbers as they are.
function formatMean(m: Record<string, number>): string {
  const mean = m.mean;
  if (mean === undefined || !Number.isFinite(mean)) return "–";
  if (m.yes !== undefined || m.no !== undefined) return `${(mean * 100).toFixed(1).replace(/\.0$/, "")} %`;
  return formatNumber(mean);
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3).replace(/\.?0+$/, "");
}

function elapsed(run: EvaluationRun): string {
  const start = run.started_time ? Date.parse(run.started_time) : NaN;
  if (Number.isNaN(start)) return "";
  const end = run.finished_time ? Date.parse(run.finished_time) : Date.now();
  const s = Math.max(0, (end - start) / 1000);
  return s < 1 ? `${Math.round(s * 1000)} ms` : s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

function RunProgress({ run }: { run: EvaluationRun }) {
  const total = run.progress?.total ?? 0;
  const completed = run.progress?.completed ?? 0;
  const errors = run.progress?.record_errors ?? 0;
  const ok = Math.max(0, completed - errors);
  const label = total ? `${completed} of ${total} records${errors ? `, ${errors} with errors` : ""}` : run.status === "pending" ? "waiting to start" : "no records";
  return (
    <div class="run-progress">
      <div class="progress" role="progressbar" aria-label="Records scored" aria-valuemin={0} aria-valuemax={total || 1} aria-valuenow={completed} aria-valuetext={label}>
        {total > 0 && (
          <>
            {ok > 0 && <span class="seg completed" style={{ width: `${(ok / total) * 100}%` }} />}
            {errors > 0 && <span class="seg failed" style={{ width: `${(errors / total) * 100}%` }} />}
          </>
        )}
      </div>
      <span class="muted small">{label}</span>
    </div>
  );
}

// Polls `load` every `periodMs` while `active(value)`; slower otherwise. Returns the last value,
// its error, and a reload.
function usePolling<T>(load: () => Promise<T>, active: (v: T | null) => boolean, deps: unknown[], fast = 1000, slow = 10000) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  const last = useRef<T | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const v = await load();
        if (stopped) return;
        last.current = v;
        setValue(v);
        setError(null);
      } catch (e) {
        if (stopped) return;
        setError(e);
        if (isMissingRoute(e) || (e instanceof ApiError && e.status === 401)) return; // no point polling
      }
      timer = setTimeout(tick, active(last.current) ? fast : slow);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, n]);
  return { value, error, reload: () => setN((x) => x + 1) };
}

function StartForm({ sessions, presetSession, onStarted }: { sessions: LabelingSession[]; presetSession: string; onStarted: (id: string) => void }) {
  const [kind, setKind] = useState<"session" | "dataset" | "filter">("session");
  const [session, setSession] = useState(presetSession);
  const [datasets, setDatasets] = useState<Dataset[] | null>(null);
  const [dataset, setDataset] = useState("");
  const [datasetVersion, setDatasetVersion] = useState("");
  const [filter, setFilter] = useState("");
  const [filterError, setFilterError] = useState<string | null>(null);
  const [picked, setPicked] = useState<string[]>(["correctness"]);
  const [guidelines, setGuidelines] = useState("");
  const [name, setName] = useState("");
  const [maxRecords, setMaxRecords] = useState("");
  const [predictUrl, setPredictUrl] = useState("");
  const action = useAsyncAction();

  useEffect(() => setSession(presetSession), [presetSession]);
  useEffect(() => {
    if (!session && sessions.length) setSession(sessions[0].labeling_session_id);
  }, [sessions]);
  useEffect(() => {
    if (kind !== "dataset" || datasets) return;
    listDatasets()
      .then(setDatasets)
      .catch(() => setDatasets([])); // no dataset API: the name is typed
  }, [kind]);
  useEffect(() => {
    if (kind !== "filter") return;
    const t = setTimeout(() => {
      validateFilter(filter)
        .then(setFilterError)
        .catch(() => setFilterError(null));
    }, 250);
    return () => clearTimeout(t);
  }, [filter, kind]);

  const submit = async (e: Event) => {
    e.preventDefault();
    let id = "";
    const ok = await action.run(async () => {
      const scorers: ScorerSpec[] = [...picked];
      const lines = guidelines
        .split("\n")
        .map((g) => g.trim())
        .filter(Boolean);
      if (lines.length) scorers.push({ name: "guidelines", type: "guidelines", guidelines: lines });
      if (!scorers.length) throw new Error("Scorers: pick at least one");
      const body: EvaluationRequest = { scorers };
      if (kind === "session") {
        if (!session) throw new Error("Labeling session: choose one");
        body.labeling_session_id = session;
      } else if (kind === "dataset") {
        if (!dataset.trim()) throw new Error("Dataset: required");
        body.dataset = datasetVersion.trim() ? { name: dataset.trim(), version: Number(datasetVersion) } : dataset.trim();
      } else {
        if (!filter.trim()) throw new Error("Filter: required");
        body.filter = filter.trim();
      }
      if (name.trim()) body.name = name.trim();
      if (maxRecords.trim()) body.max_records = Number(maxRecords);
      if (predictUrl.trim()) body.predict_url = predictUrl.trim();
      id = (await createEvaluation(body)).evaluation_id;
    });
    if (ok && id) onStarted(id);
  };

  const toggle = (n: string, on: boolean) => setPicked(on ? [...picked, n] : picked.filter((x) => x !== n));
  return (
    <form class="form-grid" onSubmit={submit} aria-label="Start evaluation">
      <label>
        Records from
        <select aria-label="Records from" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as typeof kind)}>
          <option value="session">a labeling session</option>
          <option value="dataset">an evaluation dataset</option>
          <option value="filter">a search filter</option>
        </select>
      </label>
      {kind === "session" && (
        <label>
          Labeling session
          <select aria-label="Labeling session" value={session} onChange={(e) => setSession((e.target as HTMLSelectElement).value)}>
            {!sessions.length && <option value="">no sessions yet</option>}
            {sessions.map((s) => (
              <option value={s.labeling_session_id}>{s.name}</option>
            ))}
          </select>
        </label>
      )}
      {kind === "dataset" && (
        <>
          <label>
            Dataset
            <input aria-label="Dataset" list="evaluation-datasets" value={dataset} onInput={(e) => setDataset((e.target as HTMLInputElement).value)} placeholder="golden" />
            <datalist id="evaluation-datasets">
              {(datasets ?? []).map((d) => (
                <option value={d.name}>{d.record_count !== undefined ? `${d.record_count} records` : ""}</option>
              ))}
            </datalist>
          </label>
          <label>
            Version (empty = latest)
            <input aria-label="Version (empty = latest)" type="number" min={1} value={datasetVersion} onInput={(e) => setDatasetVersion((e.target as HTMLInputElement).value)} />
          </label>
        </>
      )}
      {kind === "filter" && (
        <>
          <label class="wide">
            Filter
            <input
              aria-label="Filter"
              class={filterError ? "invalid" : ""}
              value={filter}
              spellcheck={false}
              aria-invalid={filterError ? "true" : "false"}
              aria-describedby="evaluation-filter-help"
              placeholder="feedback.user_feedback = false"
              onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
            />
          </label>
          <p id="evaluation-filter-help" class={filterError ? "error wide" : "muted small wide"} role={filterError ? "alert" : undefined}>
            {filterError ?? (filter ? "✓ valid filter" : "The search grammar of the Traces page.")}
          </p>
        </>
      )}
      <fieldset class="wide scorers">
        <legend>Scorers</legend>
        {SCORERS.map((s) => (
          <label class="scorer">
            <input
              type="checkbox"
              aria-label={s.name}
              aria-describedby={`scorer-hint-${s.name}`}
              checked={picked.includes(s.name)}
              onChange={(e) => toggle(s.name, (e.target as HTMLInputElement).checked)}
            />
            <span>
              <code>{s.name}</code>
              <span class="muted small hint" id={`scorer-hint-${s.name}`}>
                {s.hint}
              </span>
            </span>
          </label>
        ))}
      </fieldset>
      <label class="wide">
        Guidelines (one per line; adds the judge scorer “guidelines”)
        <textarea aria-label="Guidelines (one per line; adds the judge scorer “guidelines”)" rows={2} value={guidelines} onInput={(e) => setGuidelines((e.target as HTMLTextAreaElement).value)} />
      </label>
      <label>
        Run name (optional)
        <input aria-label="Run name (optional)" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="nightly" />
      </label>
      <label>
        Max records (optional)
        <input aria-label="Max records (optional)" type="number" min={1} value={maxRecords} onInput={(e) => setMaxRecords((e.target as HTMLInputElement).value)} />
      </label>
      <label class="wide">
        Predict URL (optional: re-run the app on each record's inputs)
        <input aria-label="Predict URL (optional: re-run the app on each record's inputs)" value={predictUrl} onInput={(e) => setPredictUrl((e.target as HTMLInputElement).value)} placeholder="http://127.0.0.1:5000/predict" />
      </label>
      <div class="wide row">
        <button type="submit" class="primary" disabled={action.busy || (kind === "filter" && !!filterError)}>
          {action.busy ? "Starting…" : "Start evaluation"}
        </button>
        <ErrorNote error={action.error} />
      </div>
    </form>
  );
}

function MeansSummary({ run }: { run: EvaluationRun }) {
  const groups = [...byScorer(run.aggregates)];
  if (!groups.length) return <span class="muted">–</span>;
  return (
    <span class="means">
      {groups.map(([name, m]) => (
        <span class="mean" data-scorer={name}>
          <code>{name}</code> {formatMean(m)}
          {m.errors ? <span class="muted small"> ({m.errors} errors)</span> : null}
        </span>
      ))}
    </span>
  );
}

export function EvaluationsTab({ sessions, presetSession }: { sessions: LabelingSession[]; presetSession: string }) {
  const runs = usePolling(listEvaluations, (v) => !!v?.some(isActive), [], 1500, 10000);
  const action = useAsyncAction();
  if (isMissingRoute(runs.error)) {
    return (
      <Card title="Evaluation runs">
        <UnavailableNote />
      </Card>
    );
  }
  const list = runs.value ?? [];
  return (
    <>
      <Card title="Evaluation runs">
        <ErrorNote error={runs.error ?? action.error} />
        {list.length > 0 && (
          <div class="table-wrap flat">
            <table class="compact evaluations">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Records from</th>
                  <th scope="col">Scorers</th>
                  <th scope="col">Status</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Means</th>
                  <th scope="col">Started</th>
                  <th scope="col">
                    <span class="sr-only">Delete</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => (
                  <tr key={r.evaluation_id} data-evaluation-id={r.evaluation_id}>
                    <td>
                      <a href={`#/labeling/evaluations/${encodeURIComponent(r.evaluation_id)}`}>{r.name ?? r.request?.name ?? r.evaluation_id}</a>
                      {(r.name ?? r.request?.name) && <div class="muted small">{r.evaluation_id}</div>}
                    </td>
                    <td>{truncate(sourceText(r.request ?? { scorers: [] }, sessions), 60)}</td>
                    <td>{(r.request?.scorers ?? []).map(scorerName).join(", ")}</td>
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                    <td class="nowrap">
                      {r.progress?.completed ?? 0} / {r.progress?.total ?? 0}
                      {r.progress?.record_errors ? <span class="muted small"> ({r.progress.record_errors} errors)</span> : null}
                    </td>
                    <td>
                      <MeansSummary run={r} />
                    </td>
                    <td class="nowrap">
                      {formatTime(r.started_time ?? r.created_time)}
                      {r.started_time && <div class="muted small">{elapsed(r)}</div>}
                    </td>
                    <td>
                      {!isActive(r) && (
                        <button
                          type="button"
                          class="danger"
                          aria-label={`Delete run ${r.name ?? r.evaluation_id}`}
                          onClick={async () =>
                            confirm(`Delete evaluation run ${r.name ?? r.evaluation_id}? (its assessments stay on the traces)`) &&
                            (await action.run(() => deleteEvaluation(r.evaluation_id))) &&
                            runs.reload()
                          }
                        >
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {runs.value && !list.length && <p class="muted">No evaluation runs yet. Start one below: score a labeling session against the experts' labels.</p>}
        {!runs.value && !runs.error && <p class="muted">Loading…</p>}
      </Card>
      <Card title="New evaluation">
        <StartForm sessions={sessions} presetSession={presetSession} onStarted={(id) => navigate(`/labeling/evaluations/${encodeURIComponent(id)}`)} />
      </Card>
    </>
  );
}

function ScoreCell({ name, score }: { name: string; score?: EvalScore }) {
  if (!score) return <td class="score" />;
  if (score.error) {
    return (
      <td class="score">
        <span class="tag bad" title={score.error.error_message}>
          {score.error.error_code ?? "error"}
        </span>
        {score.error.error_message && <div class="muted small rationale-cut">{truncate(score.error.error_message, 120)}</div>}
      </td>
    );
  }
  const v = score.value;
  const text = typeof v === "number" ? formatNumber(v) : valueText(v);
  const { fallback, rest } = splitFallback(score.rationale);
  const cls = v === "yes" || v === true ? "good" : v === "no" || v === false ? "bad" : "";
  return (
    <td class="score" data-scorer={name}>
      <span class={`badge ${cls}`} title={`${name}: ${text}`}>
        {text}
      </span>
      {fallback ? (
        <span class="muted small" title={`Deterministic fallback: ${fallback}`}>
          {" "}
          code (fallback)
        </span>
      ) : (
        score.source?.source_type && <span class="muted small"> {score.source.source_type === "LLM_JUDGE" ? "judge" : "code"}</span>
      )}
      {rest && (
        <div class="muted small rationale-cut" title={score.rationale}>
          {truncate(rest, 140)}
        </div>
      )}
    </td>
  );
}

// correctness without a judge says why at the start of every rationale ("Deterministic fallback
// (<reason>): <rationale>"); the run's warnings already carry the reason, so the cell shows the
// rationale proper and keeps the reason in a tooltip.
function splitFallback(rationale?: string): { fallback?: string; rest?: string } {
  const prefix = "Deterministic fallback (";
  if (!rationale?.startsWith(prefix)) return { rest: rationale };
  let depth = 1;
  for (let i = prefix.length; i < rationale.length; i++) {
    if (rationale[i] === "(") depth++;
    else if (rationale[i] === ")" && --depth === 0) {
      return { fallback: rationale.slice(prefix.length, i), rest: rationale.slice(i + 1).replace(/^:\s*/, "") };
    }
  }
  return { rest: rationale };
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${formatNumber(Math.round(ms))} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

// What a scorer reads from inputs/outputs (README "text_of"): a string, a one-string object, a
// chat completion's content, documents' page_content; otherwise compact JSON.
function textOf(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.map(textOf).join(" · ");
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const choices = o.choices as { message?: { content?: unknown } }[] | undefined;
    if (Array.isArray(choices) && choices[0]?.message?.content !== undefined) return textOf(choices[0].message.content);
    if (typeof o.page_content === "string") return o.page_content;
    const vals = Object.values(o);
    if (vals.length === 1 && typeof vals[0] === "string") return vals[0];
  }
  return JSON.stringify(v);
}

function ResultsTable({ results, scorers }: { results: EvalResult[]; scorers: string[] }) {
  return (
    <div class="table-wrap flat">
      <table class="compact results">
        <thead>
          <tr>
            <th scope="col" class="num">
              #
            </th>
            <th scope="col">Trace</th>
            <th scope="col">Request</th>
            <th scope="col">Response</th>
            <th scope="col">Expected</th>
            {scorers.map((s) => (
              <th scope="col">{s}</th>
            ))}
            <th scope="col" class="num">
              Latency
            </th>
          </tr>
        </thead>
        <tbody>
          {results.map((r) => {
            const expected = Object.entries(r.expectations ?? {});
            return (
              <tr key={r.index} data-record-id={r.record_id} data-trace-id={r.trace_id}>
                <td class="num">{r.index + 1}</td>
                <td class="nowrap">
                  {r.trace_id ? (
                    <a href={`#/traces/${encodeURIComponent(r.trace_id)}`} title={r.trace_id}>
                      <code>{r.trace_id.slice(0, 11)}…</code>
                    </a>
                  ) : (
                    <code title={r.record_id}>{truncate(r.record_id, 14)}</code>
                  )}
                  {r.outputs_predicted && <div class="muted small">re-run</div>}
                </td>
                <td title={textOf(r.inputs)}>{truncate(textOf(r.inputs), 80)}</td>
                <td title={textOf(r.outputs)}>{truncate(textOf(r.outputs), 100)}</td>
                <td>
                  {expected.map(([k, v]) => (
                    <div title={textOf(v)}>
                      <span class="muted small">{k}:</span> {truncate(textOf(v), 80)}
                    </div>
                  ))}
                </td>
                {r.error ? (
                  <td class="score" colSpan={scorers.length}>
                    <span class="tag bad">{r.error.error_code}</span> <span class="small">{r.error.message}</span>
                  </td>
                ) : (
                  scorers.map((s) => <ScoreCell name={s} score={r.scores?.[s]} />)
                )}
                <td class="num nowrap">{r.latency_ms !== undefined ? formatMs(r.latency_ms) : ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function EvaluationRunView({ evaluationId, sessions }: { evaluationId: string; sessions: LabelingSession[] }) {
  // The first page is re-read while the run is live; "Show more" appends further pages.
  const run = usePolling(() => getEvaluation(evaluationId), (v) => !v || isActive(v), [evaluationId], 1000, 60000);
  const [more, setMore] = useState<EvalResult[]>([]);
  const [moreToken, setMoreToken] = useState<string | undefined>();
  const action = useAsyncAction();
  useEffect(() => {
    setMore([]);
    setMoreToken(undefined);
  }, [evaluationId]);

  const back = (
    <a href="#/labeling/evaluations" class="back">
      ← Evaluation runs
    </a>
  );
  if (isMissingRoute(run.error))
    return (
      <>
        {back}
        <UnavailableNote />
      </>
    );
  if (run.error && !run.value)
    return (
      <>
        {back}
        <ErrorNote error={run.error} />
      </>
    );
  const r = run.value;
  if (!r) return <p class="muted">Loading evaluation {evaluationId}…</p>;

  const results = [...(r.results ?? []), ...more];
  const token = more.length ? moreToken : r.next_page_token;
  const scorers = (r.request?.scorers ?? []).map(scorerName);
  for (const res of results) for (const s of Object.keys(res.scores ?? {})) if (!scorers.includes(s)) scorers.push(s);
  const aggregates = [...byScorer(r.aggregates)];
  const loadMore = () =>
    action.run(async () => {
      const page = await getEvaluation(evaluationId, token);
      setMore([...more, ...(page.results ?? [])]);
      setMoreToken(page.next_page_token);
    });

  return (
    <div class="evaluation-run" data-evaluation-id={r.evaluation_id} data-status={r.status}>
      {back}
      <div class="page-head">
        <h2 class="run-title">
          {r.name ?? r.request?.name ?? "Evaluation"} <code class="muted">{r.evaluation_id}</code>
        </h2>
        <StatusBadge status={r.status} />
        {isActive(r) && (
          <span class="muted small" aria-live="polite">
            updating every second
          </span>
        )}
      </div>
      <Card title="Run">
        <dl class="kv">
          <dt>Records from</dt>
          <dd>{sourceText(r.request ?? { scorers: [] }, sessions)}</dd>
          <dt>Scorers</dt>
          <dd>{(r.request?.scorers ?? []).map(scorerName).join(", ")}</dd>
          {r.request?.predict_url && (
            <>
              <dt>Predict URL</dt>
              <dd>
                <code>{r.request.predict_url}</code>
              </dd>
            </>
          )}
          <dt>Created</dt>
          <dd>{formatTime(r.created_time)}</dd>
          {r.started_time && (
            <>
              <dt>{r.finished_time ? "Ran" : "Running for"}</dt>
              <dd>
                {formatTime(r.started_time)} · {elapsed(r)}
              </dd>
            </>
          )}
          <dt>Assessments written</dt>
          <dd>
            {r.assessments?.written ?? 0}
            {r.assessments?.failed ? <span class="error"> · {r.assessments.failed} failed</span> : null}
          </dd>
        </dl>
        <RunProgress run={r} />
        {r.error && (
          <p class="error" role="alert">
            Run failed: {r.error.error_code} — {r.error.message ?? r.error.error_message}
          </p>
        )}
        {(r.warnings ?? []).map((w) => (
          <p class="warning small">{w}</p>
        ))}
      </Card>
      <Card title="Aggregates">
        {aggregates.length ? (
          <table class="compact aggregates">
            <thead>
              <tr>
                <th scope="col">Scorer</th>
                <NumHeads names={["Mean", "Scored", "Yes", "No", "Min", "Max", "Errors"]} />
              </tr>
            </thead>
            <tbody>
              {aggregates.map(([name, m]) => (
                <tr data-scorer={name}>
                  <th scope="row">
                    <code>{name}</code>
                  </th>
                  <td class="num mean-cell" data-metric={`${name}/mean`}>
                    <strong>{formatMean(m)}</strong>
                  </td>
                  <td class="num">{m.count ?? 0}</td>
                  <td class="num">{m.yes ?? ""}</td>
                  <td class="num">{m.no ?? ""}</td>
                  <td class="num">{m.min !== undefined ? formatNumber(m.min) : ""}</td>
                  <td class="num">{m.max !== undefined ? formatNumber(m.max) : ""}</td>
                  <td class={`num ${m.errors ? "error-count" : ""}`}>{m.errors ?? 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">{isActive(r) ? "No scores yet." : "Nothing was scored."}</p>
        )}
      </Card>
      <Card title={`Records (${results.length}${r.progress?.total ? ` of ${r.progress.total}` : ""})`}>
        {results.length ? <ResultsTable results={results} scorers={scorers} /> : <p class="muted">{isActive(r) ? "Results appear as records are scored." : "No records."}</p>}
        {token && (
          <div class="pager">
            <button type="button" onClick={() => void loadMore()} disabled={action.busy}>
              Show more
            </button>
          </div>
        )}
        <ErrorNote error={action.error} />
      </Card>
    </div>
  );
}
