// Labeling: label schemas (a form per input type), labeling sessions (progress per status and
// per reviewer, agreement) and routing rules (the filter is checked by the server's own parser
// as you type).
import { useEffect, useState } from "preact/hooks";
import {
  addItems,
  createLabelSchema,
  createRule,
  createSession,
  deleteLabelSchema,
  deleteRule,
  deleteSession,
  listLabelSchemas,
  listRules,
  listSessions,
  validateFilter,
  type LabelInput,
  type LabelSchema,
  type LabelingSession,
  type Rule,
  type SessionProgress,
} from "../api";
import { Card, ErrorNote, NumHeads, useAsyncAction } from "../components";
import { EvaluationRunView, EvaluationsTab } from "./Evaluations";

function useLoad<T>(load: () => Promise<T>, initial: T): [T, () => void, unknown] {
  const [value, setValue] = useState<T>(initial);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    load()
      .then((v) => (setValue(v), setError(null)))
      .catch(setError);
  }, [n]);
  return [value, () => setN((x) => x + 1), error];
}

function inputSummary(input: LabelInput): string {
  if ("categorical" in input) return `one of ${input.categorical.options.join(" · ")}`;
  if ("categorical_list" in input) return `any of ${input.categorical_list.options.join(" · ")}`;
  if ("text" in input) return `text${input.text.max_length ? ` ≤ ${input.text.max_length} chars` : ""}`;
  if ("text_list" in input) return `list of texts${input.text_list.max_count ? ` (≤ ${input.text_list.max_count})` : ""}`;
  if ("numeric" in input) return `number ${input.numeric.min_value ?? "−∞"} … ${input.numeric.max_value ?? "∞"}`;
  if ("pass_fail" in input) return `${input.pass_fail.positive_label ?? "Pass"} / ${input.pass_fail.negative_label ?? "Fail"}`;
  return JSON.stringify(input);
}

type InputKind = "categorical" | "categorical_list" | "text" | "text_list" | "numeric" | "pass_fail";

function SchemaForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [title, setTitle] = useState("");
  const [instruction, setInstruction] = useState("");
  const [type, setType] = useState<"feedback" | "expectation">("feedback");
  const [kind, setKind] = useState<InputKind>("categorical");
  const [options, setOptions] = useState("");
  const [maxLength, setMaxLength] = useState("");
  const [maxCount, setMaxCount] = useState("");
  const [min, setMin] = useState("");
  const [max, setMax] = useState("");
  const [pos, setPos] = useState("Pass");
  const [neg, setNeg] = useState("Fail");
  const [comment, setComment] = useState(false);
  const [overwrite, setOverwrite] = useState(false);
  const action = useAsyncAction();

  const optional = (s: string) => (s.trim() === "" ? undefined : Number(s));
  const buildInput = (): LabelInput => {
    const opts = options
      .split("\n")
      .map((o) => o.trim())
      .filter(Boolean);
    switch (kind) {
      case "categorical":
        return { categorical: { options: opts } };
      case "categorical_list":
        return { categorical_list: { options: opts } };
      case "text":
        return { text: { max_length: optional(maxLength) } };
      case "text_list":
        return { text_list: { max_length_each: optional(maxLength), max_count: optional(maxCount) } };
      case "numeric":
        return { numeric: { min_value: optional(min), max_value: optional(max) } };
      case "pass_fail":
        return { pass_fail: { positive_label: pos, negative_label: neg } };
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const ok = await action.run(() =>
      createLabelSchema({ name: name.trim(), title, instruction: instruction || undefined, type, enable_comment: comment, input: buildInput() }, overwrite),
    );
    if (ok) {
      setName("");
      setTitle("");
      setInstruction("");
      setOptions("");
      onCreated();
    }
  };
  return (
    <form class="form-grid" onSubmit={submit} aria-label="Create label schema">
      <label>
        Name
        <input aria-label="Name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="response_accuracy" />
      </label>
      <label>
        Type
        <select aria-label="Type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value as "feedback" | "expectation")}>
          <option value="feedback">feedback</option>
          <option value="expectation">expectation</option>
        </select>
      </label>
      <label class="wide">
        Title (the question reviewers see)
        <input aria-label="Title (the question reviewers see)" value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} placeholder="Is the response factually accurate?" />
      </label>
      <label class="wide">
        Instruction
        <input aria-label="Instruction" value={instruction} onInput={(e) => setInstruction((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Input
        <select aria-label="Input" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as InputKind)}>
          <option value="categorical">categorical (one option)</option>
          <option value="categorical_list">categorical list (several)</option>
          <option value="text">text</option>
          <option value="text_list">text list</option>
          <option value="numeric">numeric</option>
          <option value="pass_fail">pass / fail</option>
        </select>
      </label>
      {(kind === "categorical" || kind === "categorical_list") && (
        <label class="wide">
          Options (one per line)
          <textarea aria-label="Options (one per line)" rows={3} value={options} onInput={(e) => setOptions((e.target as HTMLTextAreaElement).value)} />
        </label>
      )}
      {(kind === "text" || kind === "text_list") && (
        <label>
          {kind === "text" ? "Max length" : "Max length of each"}
          <input type="number" min={1} value={maxLength} onInput={(e) => setMaxLength((e.target as HTMLInputElement).value)} />
        </label>
      )}
      {kind === "text_list" && (
        <label>
          Max count
          <input aria-label="Max count" type="number" min={1} value={maxCount} onInput={(e) => setMaxCount((e.target as HTMLInputElement).value)} />
        </label>
      )}
      {kind === "numeric" && (
        <>
          <label>
            Min value
            <input aria-label="Min value" type="number" step="any" value={min} onInput={(e) => setMin((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Max value
            <input aria-label="Max value" type="number" step="any" value={max} onInput={(e) => setMax((e.target as HTMLInputElement).value)} />
          </label>
        </>
      )}
      {kind === "pass_fail" && (
        <>
          <label>
            Positive label
            <input aria-label="Positive label" value={pos} onInput={(e) => setPos((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Negative label
            <input aria-label="Negative label" value={neg} onInput={(e) => setNeg((e.target as HTMLInputElement).value)} />
          </label>
        </>
      )}
      <label class="inline">
        <input type="checkbox" checked={comment} onChange={(e) => setComment((e.target as HTMLInputElement).checked)} /> Allow a comment
      </label>
      <label class="inline">
        <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite((e.target as HTMLInputElement).checked)} /> Overwrite if it exists
      </label>
      <div class="wide row">
        <button type="submit" class="primary" disabled={action.busy}>
          Create schema
        </button>
        <ErrorNote error={action.error} />
      </div>
    </form>
  );
}

function Bar({ progress }: { progress: SessionProgress }) {
  const parts: [string, number][] = [
    ["completed", progress.completed ?? 0],
    ["in_progress", progress.in_progress ?? 0],
    ["skipped", progress.skipped ?? 0],
    ["pending", progress.pending ?? 0],
  ];
  const total = parts.reduce((a, [, n]) => a + n, 0);
  return (
    <div class="progress" role="img" aria-label={parts.map(([k, n]) => `${n} ${k.replace("_", " ")}`).join(", ")}>
      {total > 0 && parts.map(([k, n]) => (n ? <span class={`seg ${k}`} style={{ width: `${(n / total) * 100}%` }} title={`${n} ${k}`} /> : null))}
    </div>
  );
}

function reviewerRows(s: LabelingSession): [string, SessionProgress][] {
  const r = s.reviewers;
  if (!r) return [];
  if (Array.isArray(r)) return r.map((x) => [String(x.reviewer), x as SessionProgress]);
  return Object.entries(r);
}

function SessionsTab({ schemas }: { schemas: LabelSchema[] }) {
  const [sessions, reload, error] = useLoad(listSessions, [] as LabelingSession[]);
  const [name, setName] = useState("");
  const [picked, setPicked] = useState<string[]>([]);
  const [users, setUsers] = useState("");
  const [reviews, setReviews] = useState("1");
  const [addTo, setAddTo] = useState<Record<string, string>>({});
  const action = useAsyncAction();
  useEffect(() => {
    const t = setInterval(reload, 5000);
    return () => clearInterval(t);
  }, []);

  const create = async (e: Event) => {
    e.preventDefault();
    const ok = await action.run(() =>
      createSession({
        name: name.trim(),
        label_schemas: picked,
        assigned_users: users
          .split(",")
          .map((u) => u.trim())
          .filter(Boolean),
        reviews_per_item: Number(reviews) || 1,
      }),
    );
    if (ok) {
      setName("");
      setPicked([]);
      reload();
    }
  };
  const add = async (s: LabelingSession) => {
    const text = (addTo[s.labeling_session_id] ?? "").trim();
    if (!text) return;
    const ids = text.split(/[\s,]+/).filter((x) => /^tr-[0-9a-f]{32}$/.test(x));
    const ok = await action.run(() => addItems(s.labeling_session_id, ids.length ? { trace_ids: ids } : { filter: text }));
    if (ok) {
      setAddTo({ ...addTo, [s.labeling_session_id]: "" });
      reload();
    }
  };
  return (
    <>
      <Card title="Labeling sessions">
        <ErrorNote error={error} />
        {sessions.length ? (
          <ul class="sessions">
            {sessions.map((s) => (
              <li key={s.labeling_session_id} data-session={s.name}>
                <div class="row spread">
                  <div>
                    <strong>{s.name}</strong> <span class="muted small">{s.label_schemas.join(", ")}</span>
                  </div>
                  <div class="row">
                    <a class="button primary" href={`#/review/${encodeURIComponent(s.labeling_session_id)}`}>
                      Open Review App
                    </a>
                    <a class="button" href={`#/labeling/evaluations?session=${encodeURIComponent(s.labeling_session_id)}`} aria-label={`Evaluate ${s.name}`}>
                      Evaluate
                    </a>
                    <button
                      type="button"
                      class="danger"
                      onClick={async () => confirm(`Delete session ${s.name}?`) && (await action.run(() => deleteSession(s.labeling_session_id))) && reload()}
                    >
                      Delete
                    </button>
                  </div>
                </div>
                {s.progress && <Bar progress={s.progress} />}
                <p class="muted small">
                  {s.progress?.completed ?? 0} completed · {s.progress?.in_progress ?? 0} in progress · {s.progress?.pending ?? 0} pending ·{" "}
                  {s.progress?.skipped ?? 0} skipped · {s.reviews_per_item ?? 1} review(s) per item ·{" "}
                  {s.assigned_users?.length ? `reviewers: ${s.assigned_users.join(", ")}` : "anyone may review"}
                </p>
                {reviewerRows(s).length > 0 && (
                  <table class="compact">
                    <thead>
                      <tr>
                        <th scope="col">Reviewer</th>
                        <NumHeads names={["Completed", "Skipped", "In progress"]} />
                      </tr>
                    </thead>
                    <tbody>
                      {reviewerRows(s).map(([who, p]) => (
                        <tr>
                          <td>{who}</td>
                          <td class="num">{p.completed ?? p.submitted ?? 0}</td>
                          <td class="num">{p.skipped ?? 0}</td>
                          <td class="num">{p.in_progress ?? 0}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
                {s.agreement && s.agreement.length > 0 && (
                  <p class="small">
                    Agreement:{" "}
                    {s.agreement
                      .map((a) => {
                        const k = a.kappa ?? a.value;
                        return `${a.schema} κ=${k === null || k === undefined ? "–" : Number(k).toFixed(2)}${a.method ? ` (${a.method})` : ""}`;
                      })
                      .join(" · ")}
                  </p>
                )}
                <form
                  class="row"
                  onSubmit={(e) => {
                    e.preventDefault();
                    void add(s);
                  }}
                  aria-label={`Add traces to ${s.name}`}
                >
                  <label class="grow">
                    <span class="sr-only">Trace ids or a filter</span>
                    <input
                      value={addTo[s.labeling_session_id] ?? ""}
                      placeholder="trace ids (tr-…) or a filter, e.g. feedback.user_feedback = false"
                      onInput={(e) => setAddTo({ ...addTo, [s.labeling_session_id]: (e.target as HTMLInputElement).value })}
                    />
                  </label>
                  <button type="submit">Add traces</button>
                </form>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">No sessions yet.</p>
        )}
      </Card>
      <Card title="New session">
        <form class="form-grid" onSubmit={create} aria-label="Create labeling session">
          <label>
            Name
            <input aria-label="Name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="quickstart_review" />
          </label>
          <label>
            Reviews per item
            <input aria-label="Reviews per item" type="number" min={1} value={reviews} onInput={(e) => setReviews((e.target as HTMLInputElement).value)} />
          </label>
          <label class="wide">
            Assigned reviewers (comma-separated; empty = anyone)
            <input aria-label="Assigned reviewers (comma-separated; empty = anyone)" value={users} onInput={(e) => setUsers((e.target as HTMLInputElement).value)} />
          </label>
          <fieldset class="wide">
            <legend>Label schemas</legend>
            {schemas.length ? (
              schemas.map((s) => (
                <label class="inline">
                  <input
                    type="checkbox"
                    checked={picked.includes(s.name)}
                    onChange={(e) =>
                      setPicked((e.target as HTMLInputElement).checked ? [...picked, s.name] : picked.filter((x) => x !== s.name))
                    }
                  />{" "}
                  {s.name}
                </label>
              ))
            ) : (
              <span class="muted">Create a label schema first.</span>
            )}
          </fieldset>
          <div class="wide row">
            <button type="submit" class="primary" disabled={action.busy}>
              Create session
            </button>
            <ErrorNote error={action.error} />
          </div>
        </form>
      </Card>
    </>
  );
}

function RulesTab({ sessions }: { sessions: LabelingSession[] }) {
  const [rules, reload, error] = useLoad(async () => (await listRules()).rules ?? [], [] as Rule[]);
  const [name, setName] = useState("");
  const [filter, setFilter] = useState("");
  const [filterError, setFilterError] = useState<string | null>(null);
  const [rate, setRate] = useState("1");
  const [target, setTarget] = useState("");
  const [backfill, setBackfill] = useState(false);
  const action = useAsyncAction();

  // Validate as you type, with the server's parser (debounced).
  useEffect(() => {
    const t = setTimeout(() => {
      validateFilter(filter)
        .then(setFilterError)
        .catch(() => setFilterError(null));
    }, 250);
    return () => clearTimeout(t);
  }, [filter]);

  const create = async (e: Event) => {
    e.preventDefault();
    const ok = await action.run(() =>
      createRule({
        name: name.trim(),
        filter,
        sample_rate: Number(rate),
        backfill,
        actions: target.startsWith("eval:") ? [{ eval: target.slice(5) }] : [{ labeling_session: target }],
      }),
    );
    if (ok) {
      setName("");
      setFilter("");
      reload();
    }
  };
  return (
    <>
      <Card title="Routing rules">
        <ErrorNote error={error} />
        <table class="compact">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Filter</th>
              <th scope="col" class="num">
                Sample
              </th>
              <th scope="col">Actions</th>
              <th scope="col">
                <span class="sr-only">Delete</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr>
                <td>{r.name}</td>
                <td>
                  <code>{r.filter}</code>
                </td>
                <td class="num">{r.sample_rate ?? 1}</td>
                <td>{r.actions.map((a) => Object.entries(a).map(([k, v]) => `${k}: ${v}`)).join("; ")}</td>
                <td>
                  <button
                    type="button"
                    class="danger"
                    onClick={async () => confirm(`Delete rule ${r.name}?`) && (await action.run(() => deleteRule(r.name))) && reload()}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!rules.length && <p class="muted">No rules.</p>}
      </Card>
      <Card title="New rule">
        <form class="form-grid" onSubmit={create} aria-label="Create rule">
          <label>
            Name
            <input aria-label="Name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="thumbs_down_to_review" />
          </label>
          <label>
            Sample rate (0–1)
            <input aria-label="Sample rate (0–1)" type="number" min={0} max={1} step="any" value={rate} onInput={(e) => setRate((e.target as HTMLInputElement).value)} />
          </label>
          <label class="wide">
            Filter
            <input aria-label="Filter"
              class={filterError ? "invalid" : ""}
              value={filter}
              spellcheck={false}
              aria-invalid={filterError ? "true" : "false"}
              aria-describedby="rule-filter-error"
              placeholder="feedback.user_feedback = false"
              onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
            />
          </label>
          <p id="rule-filter-error" class={filterError ? "error wide" : "muted small wide"} role={filterError ? "alert" : undefined}>
            {filterError ?? (filter ? "✓ valid filter" : "The search grammar: feedback.<name>, expectation.<name>, span.type, tag.<key>, …")}
          </p>
          <label>
            Send to
            <select aria-label="Send to" value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
              <option value="">choose…</option>
              {sessions.map((s) => (
                <option value={s.name}>labeling session {s.name}</option>
              ))}
              <option value="eval:default">evaluation dataset “default”</option>
            </select>
          </label>
          <label class="inline">
            <input type="checkbox" checked={backfill} onChange={(e) => setBackfill((e.target as HTMLInputElement).checked)} /> Backfill over
            traces already stored
          </label>
          <div class="wide row">
            <button type="submit" class="primary" disabled={action.busy || !!filterError || !target}>
              Create rule
            </button>
            <ErrorNote error={action.error} />
          </div>
        </form>
      </Card>
    </>
  );
}

// Tabs: sessions, schemas, rules, evaluations (and evaluations/<id>: one run).
export function LabelingPage({ tab, sub, query }: { tab: string; sub?: string; query?: URLSearchParams }) {
  const [schemas, reloadSchemas, schemasError] = useLoad(listLabelSchemas, [] as LabelSchema[]);
  const [sessions] = useLoad(listSessions, [] as LabelingSession[]);
  const action = useAsyncAction();
  const tabLink = (name: string, label: string) => (
    <a href={`#/labeling/${name}`} role="tab" aria-selected={tab === name} class={tab === name ? "active" : ""}>
      {label}
    </a>
  );
  return (
    <div class="page">
      <div class="page-head">
        <h1>Labeling</h1>
      </div>
      <nav class="tabs" role="tablist" aria-label="Labeling">
        {tabLink("sessions", "Sessions")}
        {tabLink("schemas", "Label schemas")}
        {tabLink("rules", "Rules")}
        {tabLink("evaluations", "Evaluations")}
      </nav>
      {tab === "sessions" && <SessionsTab schemas={schemas} />}
      {tab === "schemas" && (
        <>
          <Card title="Label schemas">
            <ErrorNote error={schemasError ?? action.error} />
            <table class="compact">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Question</th>
                  <th scope="col">Input</th>
                  <th scope="col">
                    <span class="sr-only">Delete</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {schemas.map((s) => (
                  <tr data-schema={s.name}>
                    <td>{s.name}</td>
                    <td>{s.type}</td>
                    <td>{s.title}</td>
                    <td>{inputSummary(s.input)}</td>
                    <td>
                      <button
                        type="button"
                        class="danger"
                        onClick={async () => confirm(`Delete schema ${s.name}?`) && (await action.run(() => deleteLabelSchema(s.name))) && reloadSchemas()}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {!schemas.length && <p class="muted">No label schemas.</p>}
          </Card>
          <Card title="New label schema">
            <SchemaForm onCreated={reloadSchemas} />
          </Card>
        </>
      )}
      {tab === "rules" && <RulesTab sessions={sessions} />}
      {tab === "evaluations" &&
        (sub ? <EvaluationRunView evaluationId={sub} sessions={sessions} /> : <EvaluationsTab sessions={sessions} presetSession={query?.get("session") ?? ""} />)}
    </div>
  );
}
