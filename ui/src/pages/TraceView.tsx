// One trace: the span tree with timing bars, the selected span's inputs/outputs/attributes,
// every assessment (with override history), "Add assessment" on the trace or a span, and the
// routing decisions ("why is this trace (not) in the queue?").
import { useEffect, useMemo, useState } from "preact/hooks";
import {
  createAssessment,
  deleteAssessment,
  getDecisions,
  getTrace,
  updateAssessment,
  type Assessment,
  type Decision,
  type Identity,
  type Span,
  type Trace,
} from "../api";
import { Card, ErrorNote, JsonBlock, ValueBadge, useAsyncAction } from "../components";
import { assessmentValue, formatDuration, formatTime, nanos, valueText } from "../format";

interface SpanNode {
  span: Span;
  depth: number;
}

// Parents before children, siblings by start time.
function flattenSpans(spans: Span[]): SpanNode[] {
  const byParent = new Map<string, Span[]>();
  const ids = new Set(spans.map((s) => s.span_id));
  for (const s of spans) {
    const parent = s.parent_span_id && ids.has(s.parent_span_id) ? s.parent_span_id : "";
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent)!.push(s);
  }
  for (const list of byParent.values()) list.sort((a, b) => nanos(a.start_time_unix_nano) - nanos(b.start_time_unix_nano));
  const out: SpanNode[] = [];
  const walk = (parent: string, depth: number) => {
    for (const s of byParent.get(parent) ?? []) {
      out.push({ span: s, depth });
      walk(s.span_id, depth + 1);
    }
  };
  walk("", 0);
  return out;
}

function spanStatus(s: Span): string {
  if (!s.status) return "";
  if (typeof s.status === "string") return s.status;
  return (s.status.code ?? "").replace("STATUS_CODE_", "");
}

// 1250000000 ns → "1.25 s", 200000000 → "200 ms", 1500000 → "1.5 ms".
function spanDuration(ns: number): string {
  const ms = ns / 1e6;
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

type ValueKind = "boolean" | "number" | "string" | "json";

function parseTyped(kind: ValueKind, raw: string): unknown {
  switch (kind) {
    case "boolean":
      return raw === "true";
    case "number": {
      const n = Number(raw);
      if (raw.trim() === "" || Number.isNaN(n)) throw new Error("Value: enter a number");
      return n;
    }
    case "json":
      try {
        return JSON.parse(raw);
      } catch (e) {
        throw new Error(`Value: not valid JSON (${(e as Error).message})`);
      }
    default:
      return raw;
  }
}

function AssessmentForm({
  traceId,
  spans,
  defaultSpan,
  identity,
  suggestions,
  onDone,
}: {
  traceId: string;
  spans: Span[];
  defaultSpan: string;
  identity: Identity | null;
  suggestions: string[];
  onDone: () => void;
}) {
  const [type, setType] = useState<"feedback" | "expectation">("feedback");
  const [name, setName] = useState("");
  const [kind, setKind] = useState<ValueKind>("boolean");
  const [raw, setRaw] = useState("true");
  const [rationale, setRationale] = useState("");
  const [spanId, setSpanId] = useState(defaultSpan);
  const action = useAsyncAction();
  useEffect(() => setSpanId(defaultSpan), [defaultSpan]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const ok = await action.run(async () => {
      if (!name.trim()) throw new Error("Name: required");
      const value = parseTyped(kind, raw);
      const a: Partial<Assessment> = {
        assessment_name: name.trim(),
        trace_id: traceId,
        source: { source_type: "HUMAN", source_id: identity?.name ?? "developer" },
        rationale: rationale || undefined,
      };
      if (spanId) a.span_id = spanId;
      if (type === "feedback") a.feedback = { value };
      else a.expectation = { value };
      await createAssessment(traceId, a);
    });
    if (ok) {
      setName("");
      setRationale("");
      onDone();
    }
  };

  return (
    <form class="form-grid" onSubmit={submit} aria-label="Add assessment">
      <label>
        Type
        <select aria-label="Type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value as "feedback" | "expectation")}>
          <option value="feedback">Feedback</option>
          <option value="expectation">Expectation</option>
        </select>
      </label>
      <label>
        Name
        <input aria-label="Name" list="assessment-names" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="accuracy_score" />
        <datalist id="assessment-names">
          {suggestions.map((s) => (
            <option value={s} />
          ))}
        </datalist>
      </label>
      <label>
        On
        <select aria-label="On" value={spanId} onChange={(e) => setSpanId((e.target as HTMLSelectElement).value)}>
          <option value="">the whole trace</option>
          {spans.map((s) => (
            <option value={s.span_id}>span {s.name}</option>
          ))}
        </select>
      </label>
      <label>
        Value type
        <select aria-label="Value type"
          value={kind}
          onChange={(e) => {
            const k = (e.target as HTMLSelectElement).value as ValueKind;
            setKind(k);
            setRaw(k === "boolean" ? "true" : "");
          }}
        >
          <option value="boolean">boolean</option>
          <option value="number">number</option>
          <option value="string">string</option>
          <option value="json">JSON</option>
        </select>
      </label>
      <label>
        Value
        {kind === "boolean" ? (
          <select aria-label="Value" value={raw} onChange={(e) => setRaw((e.target as HTMLSelectElement).value)}>
            <option value="true">true (thumbs up)</option>
            <option value="false">false (thumbs down)</option>
          </select>
        ) : kind === "json" || kind === "string" ? (
          <textarea aria-label="Value" rows={2} value={raw} onInput={(e) => setRaw((e.target as HTMLTextAreaElement).value)} />
        ) : (
          <input aria-label="Value" type="number" step="any" value={raw} onInput={(e) => setRaw((e.target as HTMLInputElement).value)} />
        )}
      </label>
      <label class="wide">
        Rationale
        <textarea aria-label="Rationale" rows={2} value={rationale} onInput={(e) => setRationale((e.target as HTMLTextAreaElement).value)} />
      </label>
      <div class="wide row">
        <button type="submit" class="primary" disabled={action.busy}>
          {action.busy ? "Saving…" : "Add assessment"}
        </button>
        <ErrorNote error={action.error} />
      </div>
    </form>
  );
}

function AssessmentRow({
  a,
  traceId,
  identity,
  byId,
  onChange,
}: {
  a: Assessment;
  traceId: string;
  identity: Identity | null;
  byId: Map<string, Assessment>;
  onChange: () => void;
}) {
  const [editing, setEditing] = useState<null | "edit" | "override">(null);
  const [raw, setRaw] = useState(valueText(assessmentValue(a)));
  const [rationale, setRationale] = useState(a.rationale ?? "");
  const action = useAsyncAction();
  const value = assessmentValue(a);
  const overridden = a.overrides ? byId.get(a.overrides) : undefined;

  const parseLike = (): unknown => {
    if (typeof value === "boolean") return raw.trim() === "true";
    if (typeof value === "number") return parseTyped("number", raw);
    if (typeof value === "string") return raw;
    return parseTyped("json", raw);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    const ok = await action.run(async () => {
      const v = parseLike();
      const body: Partial<Assessment> = a.expectation ? { expectation: { value: v } } : { feedback: { value: v } };
      if (editing === "edit") {
        body.rationale = rationale;
        await updateAssessment(traceId, a.assessment_id, body, [a.expectation ? "expectation" : "feedback", "rationale"]);
      } else {
        await createAssessment(traceId, {
          ...body,
          assessment_name: a.assessment_name,
          trace_id: traceId,
          span_id: a.span_id,
          rationale: rationale || undefined,
          source: { source_type: "HUMAN", source_id: identity?.name ?? "developer" },
          overrides: a.assessment_id,
        });
      }
    });
    if (ok) {
      setEditing(null);
      onChange();
    }
  };
  const remove = async () => {
    if (!confirm(`Delete ${a.assessment_name}?`)) return;
    if (await action.run(() => deleteAssessment(traceId, a.assessment_id))) onChange();
  };

  return (
    <li class={`assessment ${a.valid === false ? "invalid" : ""}`} data-assessment-name={a.assessment_name}>
      <div class="assessment-head">
        <strong>{a.assessment_name}</strong>
        <span class="kind">{a.expectation ? "expectation" : "feedback"}</span>
        <ValueBadge value={value} label={a.assessment_name} />
        {a.valid === false && <span class="tag">overridden</span>}
        {a.feedback?.error && <span class="tag bad">error: {a.feedback.error.error_message ?? a.feedback.error.error_code}</span>}
      </div>
      <div class="muted small">
        {a.source?.source_type}
        {a.source?.source_id ? ` · ${a.source.source_id}` : ""} · {formatTime(a.last_update_time ?? a.create_time)}
        {a.span_id ? ` · span ${a.span_id}` : ""}
      </div>
      {a.rationale && <p class="rationale">{a.rationale}</p>}
      {overridden && (
        <p class="muted small">
          overrides {overridden.source?.source_id ?? "an earlier value"}'s <ValueBadge value={assessmentValue(overridden)} />
        </p>
      )}
      {editing ? (
        <form class="row" onSubmit={save} aria-label={editing === "edit" ? "Edit assessment" : "Override assessment"}>
          <label>
            Value <input aria-label="Value" value={raw} onInput={(e) => setRaw((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Rationale <input aria-label="Rationale" value={rationale} onInput={(e) => setRationale((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="primary" disabled={action.busy}>
            {editing === "edit" ? "Save" : "Override"}
          </button>
          <button type="button" onClick={() => setEditing(null)}>
            Cancel
          </button>
        </form>
      ) : (
        a.valid !== false && (
          <div class="row small-buttons">
            <button type="button" onClick={() => setEditing("edit")}>
              Edit
            </button>
            <button type="button" onClick={() => setEditing("override")}>
              Override
            </button>
            <button type="button" class="danger" onClick={remove}>
              Delete
            </button>
          </div>
        )
      )}
      <ErrorNote error={action.error} />
    </li>
  );
}

export function TraceView({ traceId, identity }: { traceId: string; identity: Identity | null }) {
  const [trace, setTrace] = useState<Trace | null>(null);
  const [decisions, setDecisions] = useState<Decision[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string>("");
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    getTrace(traceId)
      .then((r) => live && (setTrace(r.trace), setError(null)))
      .catch((e) => live && setError(e));
    getDecisions(traceId)
      .then((r) => live && setDecisions(r.decisions ?? []))
      .catch(() => live && setDecisions([]));
    return () => {
      live = false;
    };
  }, [traceId, version]);

  const spans = trace?.spans ?? [];
  const nodes = useMemo(() => flattenSpans(spans), [trace]);
  const [t0, t1] = useMemo(() => {
    if (!spans.length) return [0, 1];
    const starts = spans.map((s) => nanos(s.start_time_unix_nano));
    const ends = spans.map((s) => nanos(s.end_time_unix_nano));
    return [Math.min(...starts), Math.max(...ends, Math.min(...starts) + 1)];
  }, [trace]);
  const info = trace?.trace_info;
  const assessments = info?.assessments ?? [];
  const byId = useMemo(() => new Map(assessments.map((a) => [a.assessment_id, a])), [trace]);
  const selectedSpan = spans.find((s) => s.span_id === selected) ?? nodes[0]?.span;
  const refresh = () => {
    // The write goes through Kafka and the join; give the read a moment (the read API waits
    // briefly for our own writes too).
    setTimeout(() => setVersion((v) => v + 1), 300);
  };

  if (error) return <ErrorNote error={error} />;
  if (!info) return <p class="muted">Loading {traceId}…</p>;

  return (
    <div class="page trace-view">
      <div class="page-head">
        <a href="#/traces">← Traces</a>
        <h1>
          Trace <code>{info.trace_id}</code>
        </h1>
        <span class={`state ${info.state?.toLowerCase() ?? ""}`}>{info.state}</span>
        <span class="muted">
          {formatTime(info.request_time)} · {formatDuration(info.execution_duration)}
        </span>
      </div>
      <div class="split">
        <div>
          <Card title="Spans">
            <ol class="span-tree" aria-label="Span tree">
              {nodes.map(({ span, depth }) => {
                const start = nanos(span.start_time_unix_nano);
                const end = nanos(span.end_time_unix_nano);
                const left = ((start - t0) / (t1 - t0)) * 100;
                const width = Math.max(((end - start) / (t1 - t0)) * 100, 0.5);
                const active = span.span_id === selectedSpan?.span_id;
                return (
                  <li key={span.span_id}>
                    <button
                      type="button"
                      class={`span-row ${active ? "active" : ""}`}
                      style={{ paddingLeft: `${depth * 16 + 8}px` }}
                      onClick={() => setSelected(span.span_id)}
                      aria-pressed={active}
                    >
                      <span class="span-name">
                        {span.span_type && <span class={`span-type t-${span.span_type.toLowerCase()}`}>{span.span_type}</span>}
                        {span.name}
                      </span>
                      <span class="bar-track" aria-hidden="true">
                        <span class={`bar ${spanStatus(span) === "ERROR" ? "error" : ""}`} style={{ left: `${left}%`, width: `${width}%` }} />
                      </span>
                      <span class="muted small num">{spanDuration(end - start)}</span>
                    </button>
                  </li>
                );
              })}
            </ol>
            {!nodes.length && <p class="muted">This trace has no spans (yet).</p>}
          </Card>
          {selectedSpan && (
            <Card
              title={`Span: ${selectedSpan.name}`}
              heading={
                <>
                  Span: <code class="as-is">{selectedSpan.name}</code>
                </>
              }
            >
              <p class="muted small">
                {selectedSpan.span_type} · id {selectedSpan.span_id} {spanStatus(selectedSpan) && `· ${spanStatus(selectedSpan)}`}
              </p>
              <JsonBlock label="Inputs" value={selectedSpan.inputs} />
              <JsonBlock label="Outputs" value={selectedSpan.outputs} />
              <JsonBlock label="Attributes" value={selectedSpan.attributes} open={false} />
              <JsonBlock label="Events" value={selectedSpan.events} open={false} />
            </Card>
          )}
          <Card title="Trace info">
            <dl class="kv">
              <dt>Request</dt>
              <dd>{info.request_preview}</dd>
              <dt>Response</dt>
              <dd>{info.response_preview}</dd>
              {Object.entries(info.trace_metadata ?? {}).map(([k, v]) => (
                <>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </>
              ))}
              {Object.entries(info.tags ?? {}).map(([k, v]) => (
                <>
                  <dt>tag {k}</dt>
                  <dd>{v}</dd>
                </>
              ))}
            </dl>
          </Card>
        </div>
        <div>
          <Card title={`Assessments (${assessments.filter((a) => a.valid !== false).length})`}>
            <ul class="assessments">
              {assessments.map((a) => (
                <AssessmentRow key={a.assessment_id} a={a} traceId={info.trace_id} identity={identity} byId={byId} onChange={refresh} />
              ))}
            </ul>
            {!assessments.length && <p class="muted">No feedback or expectations on this trace yet.</p>}
          </Card>
          <Card title="Add assessment">
            <AssessmentForm
              traceId={info.trace_id}
              spans={spans}
              defaultSpan={selected}
              identity={identity}
              suggestions={[...new Set(assessments.map((a) => a.assessment_name))]}
              onDone={refresh}
            />
          </Card>
          <Card title="Routing decisions">
            {decisions.length ? (
              <table class="compact">
                <thead>
                  <tr>
                    <th scope="col">Rule</th>
                    <th scope="col">Decision</th>
                    <th scope="col">Why</th>
                    <th scope="col">When</th>
                  </tr>
                </thead>
                <tbody>
                  {decisions.map((d) => (
                    <tr>
                      <td>{d.rule}</td>
                      <td>
                        <span class={`tag d-${d.decision}`}>{d.decision}</span>
                      </td>
                      <td>{d.reason}</td>
                      <td class="nowrap">{formatTime(d.time)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p class="muted">No rule has looked at this trace.</p>
            )}
          </Card>
        </div>
      </div>
    </div>
  );
}
