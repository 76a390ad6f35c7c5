// The Review App (a labeling session's `url`): the signed-in reviewer claims the next item,
// reads the question, the response, the end-user feedback and the retrieved context, answers one
// widget per label schema and submits or skips — all of it possible from the keyboard:
// 1–9 pick an option of the highlighted question, Enter submits (Ctrl+Enter inside a text box),
// S skips, ? shows help, Esc leaves a text box.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  ApiError,
  claim,
  getLabelSchema,
  getSession,
  getTrace,
  listSessions,
  skipReview,
  submitReview,
  type Claim,
  type Identity,
  type LabelSchema,
  type LabelingSession,
  type Span,
  type Trace,
} from "../api";
import { Card, ErrorNote, ValueBadge } from "../components";
import { assessmentValue, prettyJson } from "../format";

type Answer = string | string[] | number | boolean | undefined;

function optionsOf(s: LabelSchema): string[] {
  const i = s.input;
  if ("categorical" in i) return i.categorical.options;
  if ("categorical_list" in i) return i.categorical_list.options;
  if ("pass_fail" in i) return [i.pass_fail.positive_label ?? "Pass", i.pass_fail.negative_label ?? "Fail"];
  return [];
}

function isTextual(s: LabelSchema) {
  return "text" in s.input || "text_list" in s.input || "numeric" in s.input;
}

// What a schema's answer is sent as: pass/fail as a boolean, numbers as numbers, lists as arrays.
function toLabel(s: LabelSchema, a: Answer): unknown {
  if (a === undefined || a === "" || (Array.isArray(a) && !a.length)) return undefined;
  const i = s.input;
  if ("pass_fail" in i) return a === (i.pass_fail.positive_label ?? "Pass");
  if ("numeric" in i) return Number(a);
  if ("text_list" in i && typeof a === "string") return a.split("\n").map((x) => x.trim()).filter(Boolean);
  return a;
}

function rootSpan(spans: Span[]): Span | undefined {
  const ids = new Set(spans.map((s) => s.span_id));
  return spans.find((s) => !s.parent_span_id || !ids.has(s.parent_span_id));
}

function retrieved(spans: Span[]): { span: string; text: string }[] {
  const out: { span: string; text: string }[] = [];
  for (const s of spans) {
    if (s.span_type !== "RETRIEVER") continue;
    const docs = typeof s.outputs === "string" ? safeParse(s.outputs) : s.outputs;
    if (Array.isArray(docs)) {
      for (const d of docs) out.push({ span: s.name, text: typeof d === "object" && d && "page_content" in d ? String((d as { page_content: unknown }).page_content) : prettyJson(d) });
    } else if (docs !== undefined) {
      out.push({ span: s.name, text: prettyJson(docs) });
    }
  }
  return out;
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function plain(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "object" && v) {
    const vals = Object.values(v as Record<string, unknown>);
    if (vals.length === 1 && typeof vals[0] === "string") return vals[0];
  }
  return prettyJson(v);
}

function Countdown({ expiresAt, onExpired }: { expiresAt: string; onExpired: () => void }) {
  const [now, setNow] = useState(Date.now());
  const end = new Date(expiresAt).getTime();
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const left = Math.max(0, Math.round((end - now) / 1000));
  useEffect(() => {
    if (left === 0) onExpired();
  }, [left === 0]);
  const mm = Math.floor(left / 60),
    ss = String(left % 60).padStart(2, "0");
  return (
    <span class={`lease ${left < 60 ? "soon" : ""}`} aria-live="polite" title="Time left on your lease for this item">
      lease {mm}:{ss}
    </span>
  );
}

function SessionPicker() {
  const [sessions, setSessions] = useState<LabelingSession[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    listSessions().then(setSessions).catch(setError);
  }, []);
  return (
    <div class="page narrow">
      <h1>Review App</h1>
      <ErrorNote error={error} />
      <p class="muted">Pick a labeling session to review.</p>
      <ul class="plain">
        {(sessions ?? []).map((s) => (
          <li>
            <a href={`#/review/${encodeURIComponent(s.labeling_session_id)}`}>{s.name}</a>{" "}
            <span class="muted small">{s.progress?.pending ?? 0} waiting</span>
          </li>
        ))}
      </ul>
      {sessions && !sessions.length && <p class="muted">No labeling sessions yet (Labeling → Sessions).</p>}
    </div>
  );
}

export function ReviewApp({ sessionId, identity }: { sessionId: string; identity: Identity }) {
  const [session, setSession] = useState<LabelingSession | null>(null);
  const [schemas, setSchemas] = useState<LabelSchema[]>([]);
  const [item, setItem] = useState<Claim | null>(null);
  const [trace, setTrace] = useState<Trace | null>(null);
  const [empty, setEmpty] = useState(false);
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const [comments, setComments] = useState<Record<string, string>>({});
  const [active, setActive] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string>("");
  const [expired, setExpired] = useState(false);
  const [busy, setBusy] = useState(false);
  const [help, setHelp] = useState(false);
  const [done, setDone] = useState(0);
  const textRefs = useRef<Record<string, HTMLTextAreaElement | HTMLInputElement | null>>({});

  const loadSession = async () => {
    const s = await getSession(sessionId);
    setSession(s);
    setSchemas(await Promise.all(s.label_schemas.map(getLabelSchema)));
  };

  const next = async () => {
    setBusy(true);
    setError(null);
    setExpired(false);
    setAnswers({});
    setComments({});
    setActive(0);
    try {
      const c = await claim(sessionId, identity.name);
      if (!c) {
        setItem(null);
        setTrace(null);
        setEmpty(true);
        return;
      }
      setEmpty(false);
      setItem(c);
      setTrace((await getTrace(c.trace_id)).trace);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      void getSession(sessionId).then(setSession).catch(() => undefined);
    }
  };

  useEffect(() => {
    if (!sessionId) return;
    loadSession()
      .then(next)
      .catch(setError);
  }, [sessionId]);

  const pick = (i: number, option: string) => {
    const s = schemas[i];
    if (!s) return;
    if ("categorical_list" in s.input) {
      const cur = (answers[s.name] as string[] | undefined) ?? [];
      setAnswers({ ...answers, [s.name]: cur.includes(option) ? cur.filter((x) => x !== option) : [...cur, option] });
    } else {
      setAnswers({ ...answers, [s.name]: option });
      // Single-choice answered: move on to the next question.
      const n = Math.min(i + 1, schemas.length - 1);
      setActive(n);
      if (n !== i && isTextual(schemas[n])) setTimeout(() => textRefs.current[schemas[n].name]?.focus(), 0);
    }
  };

  const submit = async () => {
    if (!item || busy) return;
    const labels: Record<string, unknown> = {};
    for (const s of schemas) {
      const v = toLabel(s, answers[s.name]);
      if (v !== undefined) labels[s.name] = v;
    }
    if (!Object.keys(labels).length) {
      setError(new Error("Answer at least one question before submitting (or skip with S)."));
      return;
    }
    const c: Record<string, string> = {};
    for (const [k, v] of Object.entries(comments)) if (v.trim()) c[k] = v.trim();
    setBusy(true);
    setError(null);
    try {
      await submitReview(sessionId, item.trace_id, { reviewer: identity.name, lease_token: item.lease.token, labels, comments: c });
      setDone((d) => d + 1);
      setNotice("Submitted. Next item…");
      setBusy(false);
      await next();
    } catch (e) {
      setBusy(false);
      if (e instanceof ApiError && e.status === 409) {
        setExpired(true);
        setError(new Error(`Your lease on this item expired or was taken over (${e.message}). Your answers were not recorded; claim the next item.`));
      } else {
        setError(e);
      }
    }
  };

  const skip = async () => {
    if (!item || busy) return;
    setBusy(true);
    try {
      await skipReview(sessionId, item.trace_id, { reviewer: identity.name, lease_token: item.lease.token });
      setNotice("Skipped.");
      setBusy(false);
      await next();
    } catch (e) {
      setBusy(false);
      setError(e);
    }
  };

  // Keyboard shortcuts.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      const typing = t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && (t as HTMLInputElement).type !== "checkbox" && (t as HTMLInputElement).type !== "radio"));
      if (typing) {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey || t.tagName === "INPUT")) {
          e.preventDefault();
          void submit();
        } else if (e.key === "Escape") {
          (t as HTMLElement).blur();
        }
        return;
      }
      if (e.key === "?") setHelp((h) => !h);
      else if (e.key === "s" || e.key === "S") void skip();
      else if (e.key === "Enter") {
        if (t.tagName === "BUTTON" || t.tagName === "A") return; // let buttons act themselves
        e.preventDefault();
        void (expired || empty ? next() : submit());
      } else if (/^[1-9]$/.test(e.key)) {
        const s = schemas[active];
        const opts = s ? optionsOf(s) : [];
        const o = opts[Number(e.key) - 1];
        if (o) pick(active, o);
      } else if (e.key === "ArrowDown" || e.key === "j") {
        setActive((a) => Math.min(a + 1, schemas.length - 1));
      } else if (e.key === "ArrowUp" || e.key === "k") {
        setActive((a) => Math.max(a - 1, 0));
      } else if (e.key === "t") {
        const s = schemas[active];
        if (s) {
          e.preventDefault();
          textRefs.current[s.name]?.focus();
        }
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  });

  const spans = trace?.spans ?? [];
  const root = useMemo(() => rootSpan(spans), [trace]);
  const context = useMemo(() => retrieved(spans), [trace]);
  const feedback = (trace?.trace_info.assessments ?? []).filter(
    (a) => a.valid !== false && a.feedback && !a.metadata?.["tracefeed.labeling_session_id"],
  );
  const mine = session?.reviewers
    ? Array.isArray(session.reviewers)
      ? session.reviewers.find((r) => r.reviewer === identity.name)
      : session.reviewers[identity.name]
    : undefined;

  if (!sessionId) return <SessionPicker />;

  return (
    <div class="page review">
      <div class="page-head">
        <h1>Review · {session?.name ?? sessionId}</h1>
        <span class="muted">
          {identity.name} · {done} this visit
          {mine ? ` · ${String((mine as Record<string, unknown>).completed ?? (mine as Record<string, unknown>).submitted ?? 0)} in total` : ""}
          {session?.progress ? ` · ${session.progress.pending ?? 0} waiting` : ""}
        </span>
        {item && !expired && <Countdown expiresAt={item.lease.expires_at} onExpired={() => setExpired(true)} />}
        <button type="button" class="link" onClick={() => setHelp(!help)} aria-expanded={help}>
          Keyboard ?
        </button>
      </div>
      {help && (
        <Card title="Keyboard shortcuts">
          <ul class="plain small">
            <li>
              <kbd>1</kbd>–<kbd>9</kbd> pick an option of the highlighted question (<kbd>↑</kbd>/<kbd>↓</kbd> or <kbd>j</kbd>/<kbd>k</kbd> move)
            </li>
            <li>
              <kbd>t</kbd> type into the highlighted text answer, <kbd>Esc</kbd> leave it
            </li>
            <li>
              <kbd>Enter</kbd> submit (<kbd>Ctrl</kbd>+<kbd>Enter</kbd> inside a text box) · <kbd>S</kbd> skip · <kbd>?</kbd> this help
            </li>
          </ul>
        </Card>
      )}
      {notice && !error && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorNote error={error} />
      {expired && (
        <p class="warning" role="alert">
          This item's lease has expired: it went back to the queue for someone else.{" "}
          <button type="button" onClick={() => void next()}>
            Claim the next item
          </button>
        </p>
      )}
      {empty && (
        <Card title="All done">
          <p>Nothing is waiting for you in this session right now. New items arrive as rules route traces here.</p>
          <button type="button" class="primary" onClick={() => void next()}>
            Check again
          </button>
        </Card>
      )}
      {item && trace && (
        <div class="split">
          <div>
            <Card title="Question">
              <p class="big">{plain(root?.inputs) || trace.trace_info.request_preview}</p>
            </Card>
            <Card title="Response">
              <p class="big">{plain(root?.outputs) || trace.trace_info.response_preview}</p>
            </Card>
            {feedback.length > 0 && (
              <Card title="Feedback already on this trace">
                <ul class="plain">
                  {feedback.map((a) => (
                    <li>
                      <ValueBadge value={assessmentValue(a)} label={a.assessment_name} /> <strong>{a.assessment_name}</strong>{" "}
                      <span class="muted small">{a.source?.source_id}</span>
                      {a.rationale && <p class="rationale">“{a.rationale}”</p>}
                    </li>
                  ))}
                </ul>
              </Card>
            )}
            {context.length > 0 && (
              <Card title="Retrieved context">
                <ol class="context">
                  {context.map((c) => (
                    <li>
                      <span class="muted small">{c.span}</span>
                      <p>{c.text}</p>
                    </li>
                  ))}
                </ol>
              </Card>
            )}
            <p class="small">
              <a href={`#/traces/${item.trace_id}`} target="_blank" rel="noopener">
                Open the full trace ↗
              </a>
            </p>
          </div>
          <div>
            <form
              class="questions"
              onSubmit={(e) => {
                e.preventDefault();
                void submit();
              }}
              aria-label="Labels"
            >
              {schemas.map((s, i) => (
                <fieldset class={`question ${i === active ? "active" : ""}`} onFocusIn={() => setActive(i)} data-schema={s.name}>
                  <legend>
                    <span class="qnum">{i + 1}</span> {s.title || s.name} <span class="muted small">({s.type})</span>
                  </legend>
                  {s.instruction && <p class="muted small">{s.instruction}</p>}
                  {optionsOf(s).length > 0 && (
                    <div class="options" role={"categorical_list" in s.input ? "group" : "radiogroup"} aria-label={s.title || s.name}>
                      {optionsOf(s).map((o, k) => {
                        const a = answers[s.name];
                        const checked = Array.isArray(a) ? a.includes(o) : a === o;
                        return (
                          <label class={`option ${checked ? "checked" : ""}`}>
                            <input
                              type={"categorical_list" in s.input ? "checkbox" : "radio"}
                              name={`q-${s.name}`}
                              checked={checked}
                              onChange={() => pick(i, o)}
                            />
                            <kbd>{k + 1}</kbd> {o}
                          </label>
                        );
                      })}
                    </div>
                  )}
                  {"text" in s.input && (
                    <label>
                      <span class="sr-only">{s.title || s.name}</span>
                      <textarea
                        ref={(el) => {
                          textRefs.current[s.name] = el;
                        }}
                        rows={4}
                        maxLength={s.input.text.max_length}
                        value={(answers[s.name] as string) ?? ""}
                        onInput={(e) => setAnswers({ ...answers, [s.name]: (e.target as HTMLTextAreaElement).value })}
                      />
                      {s.input.text.max_length && (
                        <span class="muted small">
                          {((answers[s.name] as string) ?? "").length}/{s.input.text.max_length}
                        </span>
                      )}
                    </label>
                  )}
                  {"text_list" in s.input && (
                    <label>
                      <span class="muted small">One per line</span>
                      <textarea
                        ref={(el) => {
                          textRefs.current[s.name] = el;
                        }}
                        rows={4}
                        value={(answers[s.name] as string) ?? ""}
                        onInput={(e) => setAnswers({ ...answers, [s.name]: (e.target as HTMLTextAreaElement).value })}
                      />
                    </label>
                  )}
                  {"numeric" in s.input && (
                    <label>
                      <span class="sr-only">{s.title || s.name}</span>
                      <input
                        ref={(el) => {
                          textRefs.current[s.name] = el;
                        }}
                        type="number"
                        step="any"
                        min={s.input.numeric.min_value}
                        max={s.input.numeric.max_value}
                        value={(answers[s.name] as string) ?? ""}
                        onInput={(e) => setAnswers({ ...answers, [s.name]: (e.target as HTMLInputElement).value })}
                      />
                      <span class="muted small">
                        {s.input.numeric.min_value ?? "−∞"} … {s.input.numeric.max_value ?? "∞"}
                      </span>
                    </label>
                  )}
                  {s.enable_comment && (
                    <label class="comment">
                      Comment
                      <input value={comments[s.name] ?? ""} onInput={(e) => setComments({ ...comments, [s.name]: (e.target as HTMLInputElement).value })} />
                    </label>
                  )}
                </fieldset>
              ))}
              <div class="row">
                <button type="submit" class="primary" disabled={busy || expired}>
                  Submit <kbd>Enter</kbd>
                </button>
                <button type="button" disabled={busy || expired} onClick={() => void skip()}>
                  Skip <kbd>S</kbd>
                </button>
              </div>
            </form>
          </div>
        </div>
      )}
    </div>
  );
}
