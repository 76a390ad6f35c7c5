// The HTTP API of PRODUCT.md §4, typed. Every call carries the signed-in identity (a bearer
// token when the server has auth tokens configured) and turns error bodies
// ({"error_code","message"}) into ApiError, so pages can show the server's own words.

export interface AssessmentSource {
  source_type: string;
  source_id?: string;
}

export interface Assessment {
  assessment_id: string;
  assessment_name: string;
  trace_id: string;
  span_id?: string;
  source?: AssessmentSource;
  create_time?: string;
  last_update_time?: string;
  feedback?: { value?: unknown; error?: { error_code?: string; error_message?: string } };
  expectation?: { value?: unknown; serialized_value?: { value: string } };
  rationale?: string;
  metadata?: Record<string, string>;
  overrides?: string;
  valid?: boolean;
}

export interface TraceInfo {
  trace_id: string;
  request_time?: string;
  execution_duration?: string;
  state?: string;
  request_preview?: string;
  response_preview?: string;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
  assessments?: Assessment[];
}

export interface Span {
  span_id: string;
  parent_span_id?: string;
  name: string;
  span_type?: string;
  start_time_unix_nano?: string | number;
  end_time_unix_nano?: string | number;
  status?: string | { code?: string; message?: string };
  inputs?: unknown;
  outputs?: unknown;
  attributes?: Record<string, unknown>;
  events?: unknown;
}

export interface Trace {
  trace_info: TraceInfo;
  spans?: Span[];
}

export interface Decision {
  trace_id: string;
  rule: string;
  decision: "routed" | "filtered_out" | "sampled_out" | "waiting_for_trace" | "failed" | string;
  reason?: string;
  time?: string;
}

export interface Rule {
  name: string;
  filter: string;
  sample_rate?: number;
  priority?: number;
  backfill?: boolean;
  actions: Record<string, string>[];
  [k: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

const IDENTITY_KEY = "tracefeed.identity";

export interface Identity {
  name: string; // reviewer / annotator name
  token?: string; // bearer token, when the server requires one
}

export function loadIdentity(): Identity | null {
  try {
    const raw = localStorage.getItem(IDENTITY_KEY);
    return raw ? (JSON.parse(raw) as Identity) : null;
  } catch {
    return null;
  }
}

export function saveIdentity(id: Identity | null): void {
  if (id) localStorage.setItem(IDENTITY_KEY, JSON.stringify(id));
  else localStorage.removeItem(IDENTITY_KEY);
}

// A 401 from any call (the server has http.auth_tokens and our token is missing or wrong):
// the app listens and shows the sign-in prompt with the server's reason, instead of every page
// showing its own broken state. `hadToken` tells "token required" from "token rejected".
export interface Unauthenticated {
  message: string;
  hadToken: boolean;
}
type UnauthenticatedListener = (u: Unauthenticated) => void;
const unauthenticatedListeners = new Set<UnauthenticatedListener>();

export function onUnauthenticated(listener: UnauthenticatedListener): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

// index.html starts the Traces page's first search before this script has loaded. The app's
// first request takes it over when it is the same request (method, path, body), else drops it.
declare global {
  interface Window {
    __tracefeedEarly?: { key: string; response: Promise<Response> };
  }
}

function takeEarly(key: string): Promise<Response> | undefined {
  const early = window.__tracefeedEarly;
  window.__tracefeedEarly = undefined;
  return early && early.key === key ? early.response : undefined;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const identity = loadIdentity();
  if (identity?.token) headers.Authorization = `Bearer ${identity.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const early = takeEarly(`${method} ${path} ${payload ?? ""}`);
  let res: Response | undefined;
  if (early) res = await early.catch(() => undefined);
  if (!res) res = await fetch(path, { method, headers, body: payload });
  const text = await res.text();
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = text || res.statusText;
    try {
      const parsed = JSON.parse(text);
      code = parsed.error_code ?? code;
      message = parsed.message ?? message;
    } catch {
      /* not JSON: keep the text */
    }
    if (res.status === 401) for (const l of unauthenticatedListeners) l({ message, hadToken: !!identity?.token });
    throw new ApiError(res.status, code, message);
  }
  if (res.status === 204 || text === "") return undefined as T;
  return JSON.parse(text) as T;
}

export interface SearchResult {
  traces: TraceInfo[];
  next_page_token?: string;
}

export function searchTraces(filter: string, orderBy: string[], pageToken?: string, maxResults = 50) {
  return request<SearchResult>("POST", "/api/3.0/mlflow/traces/search", {
    filter: filter || undefined,
    order_by: orderBy,
    max_results: maxResults,
    page_token: pageToken,
  });
}

export function getTrace(id: string) {
  return request<{ trace: Trace }>("GET", `/api/3.0/mlflow/traces/get?trace_id=${encodeURIComponent(id)}`);
}

export function getDecisions(id: string) {
  return request<{ decisions: Decision[] }>("GET", `/api/v1/traces/${encodeURIComponent(id)}/decisions`);
}

export function createAssessment(traceId: string, assessment: Partial<Assessment>) {
  return request<{ assessment: Assessment }>("POST", `/api/3.0/mlflow/traces/${encodeURIComponent(traceId)}/assessments`, {
    assessment,
  });
}

export function updateAssessment(traceId: string, id: string, assessment: Partial<Assessment>, mask: string[]) {
  return request<{ assessment: Assessment }>(
    "PATCH",
    `/api/3.0/mlflow/traces/${encodeURIComponent(traceId)}/assessments/${encodeURIComponent(id)}`,
    { assessment, update_mask: mask.join(",") },
  );
}

export function deleteAssessment(traceId: string, id: string) {
  return request<void>(
    "DELETE",
    `/api/3.0/mlflow/traces/${encodeURIComponent(traceId)}/assessments/${encodeURIComponent(id)}`,
  );
}

export function listRules() {
  return request<{ rules: Rule[] }>("GET", "/api/v1/rules");
}

export function createRule(rule: Rule) {
  return request<Rule>("POST", "/api/v1/rules", rule);
}

export function deleteRule(name: string) {
  return request<void>("DELETE", `/api/v1/rules/${encodeURIComponent(name)}`);
}

// Labeling (PRODUCT.md §3, §4).
export type LabelInput =
  | { categorical: { options: string[] } }
  | { categorical_list: { options: string[] } }
  | { text: { max_length?: number } }
  | { text_list: { max_length_each?: number; max_count?: number } }
  | { numeric: { min_value?: number; max_value?: number } }
  | { pass_fail: { positive_label?: string; negative_label?: string } };

export interface LabelSchema {
  name: string;
  type: "feedback" | "expectation";
  title: string;
  instruction?: string;
  enable_comment?: boolean;
  input: LabelInput;
}

export interface SessionProgress {
  pending?: number;
  in_progress?: number;
  completed?: number;
  skipped?: number;
  total?: number;
  [k: string]: unknown;
}

export interface LabelingSession {
  labeling_session_id: string;
  name: string;
  label_schemas: string[];
  assigned_users?: string[];
  reviews_per_item?: number;
  url?: string;
  mlflow_run_id?: string;
  progress?: SessionProgress;
  reviewers?: Record<string, SessionProgress> | { reviewer: string; [k: string]: unknown }[];
  agreement?: { schema: string; kappa?: number | null; value?: number | null; method?: string; [k: string]: unknown }[];
  [k: string]: unknown;
}

export interface Claim {
  trace_id: string;
  lease: { token: string | number; expires_at: string };
}

// List endpoints answer {"<plural>": [...]}; accept a bare array too.
function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const v = (body as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(v) ? (v as T[]) : [];
}

export async function listLabelSchemas() {
  return listOf<LabelSchema>(await request<unknown>("GET", "/api/v1/label-schemas"), "label_schemas");
}
export function createLabelSchema(schema: LabelSchema, overwrite = false) {
  return request<unknown>("POST", "/api/v1/label-schemas", { ...schema, overwrite });
}
export function getLabelSchema(name: string) {
  return request<LabelSchema | { label_schema: LabelSchema }>("GET", `/api/v1/label-schemas/${encodeURIComponent(name)}`).then((r) =>
    "label_schema" in r ? r.label_schema : r,
  );
}
export function deleteLabelSchema(name: string) {
  return request<void>("DELETE", `/api/v1/label-schemas/${encodeURIComponent(name)}`);
}
export async function listSessions() {
  return listOf<LabelingSession>(await request<unknown>("GET", "/api/v1/labeling-sessions"), "labeling_sessions");
}
export function getSession(id: string) {
  return request<LabelingSession | { labeling_session: LabelingSession }>("GET", `/api/v1/labeling-sessions/${encodeURIComponent(id)}`).then(
    (r) => ("labeling_session" in r ? (r.labeling_session as LabelingSession) : (r as LabelingSession)),
  );
}
export function createSession(s: { name: string; label_schemas: string[]; assigned_users: string[]; reviews_per_item: number }) {
  return request<unknown>("POST", "/api/v1/labeling-sessions", s);
}
export function deleteSession(id: string) {
  return request<void>("DELETE", `/api/v1/labeling-sessions/${encodeURIComponent(id)}`);
}
export function addItems(id: string, body: { trace_ids?: string[]; filter?: string }) {
  return request<unknown>("POST", `/api/v1/labeling-sessions/${encodeURIComponent(id)}/items`, body);
}
export function claim(id: string, reviewer: string) {
  return request<Claim | undefined>("POST", `/api/v1/labeling-sessions/${encodeURIComponent(id)}/claim`, { reviewer });
}
export function submitReview(
  id: string,
  traceId: string,
  body: { reviewer: string; lease_token: string | number; labels: Record<string, unknown>; comments: Record<string, string> },
) {
  return request<unknown>(
    "POST",
    `/api/v1/labeling-sessions/${encodeURIComponent(id)}/items/${encodeURIComponent(traceId)}/submit`,
    body,
  );
}
export function skipReview(id: string, traceId: string, body: { reviewer: string; lease_token: string | number }) {
  return request<unknown>("POST", `/api/v1/labeling-sessions/${encodeURIComponent(id)}/items/${encodeURIComponent(traceId)}/skip`, body);
}

// Validates a filter with the server's own parser (the search endpoint; one result at most).
export async function validateFilter(filter: string): Promise<string | null> {
  if (!filter.trim()) return null;
  try {
    await searchTraces(filter, [], undefined, 1);
    return null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 400) return e.message;
    throw e;
  }
}

// A route this server does not have (an older or differently wired build): the HTTP layer's
// 404 says "no route for <METHOD> <path>", unlike a 404 about a missing object.
export function isMissingRoute(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && e.message.startsWith("no route for");
}

// Datasets (docs/datasets.md).
export interface Dataset {
  name: string;
  dataset_id?: string;
  latest_version?: number;
  record_count?: number;
}
export async function listDatasets() {
  return listOf<Dataset>(await request<unknown>("GET", "/api/v1/datasets"), "datasets");
}

// Evaluation runs (processors/evaluate/README.md, "Evaluations API").
export type ScorerSpec = string | { name: string; type?: string; guidelines?: string[]; url?: string };

export interface EvaluationRequest {
  labeling_session_id?: string;
  dataset?: string | { name: string; version?: number };
  filter?: string;
  scorers: ScorerSpec[];
  predict_url?: string;
  evaluation_id?: string;
  name?: string;
  max_records?: number;
}

export type RunStatus = "pending" | "running" | "done" | "failed";

export interface ErrorBody {
  error_code?: string;
  message?: string;
  error_message?: string;
}

export interface EvaluationRun {
  evaluation_id: string;
  name?: string;
  status: RunStatus | string;
  request: EvaluationRequest;
  created_time?: string;
  started_time?: string;
  finished_time?: string;
  progress?: { total?: number; completed?: number; record_errors?: number };
  aggregates?: Record<string, number>;
  assessments?: { written?: number; failed?: number };
  warnings?: string[];
  error?: ErrorBody;
}

export interface EvalScore {
  value?: unknown;
  rationale?: string;
  source?: AssessmentSource;
  error?: { error_code?: string; error_message?: string };
  span_id?: string;
  assessment_id?: string;
}

export interface EvalResult {
  index: number;
  record_id: string;
  trace_id?: string;
  inputs?: unknown;
  outputs?: unknown;
  outputs_predicted?: boolean;
  expectations?: Record<string, unknown>;
  latency_ms?: number;
  scores?: Record<string, EvalScore>;
  error?: ErrorBody;
}

export interface EvaluationDetail extends EvaluationRun {
  results?: EvalResult[];
  next_page_token?: string;
}

export async function listEvaluations() {
  return listOf<EvaluationRun>(await request<unknown>("GET", "/api/v1/evaluations"), "evaluations");
}
export function getEvaluation(id: string, pageToken?: string, maxResults = 100) {
  const q = new URLSearchParams({ max_results: String(maxResults) });
  if (pageToken) q.set("page_token", pageToken);
  return request<EvaluationDetail>("GET", `/api/v1/evaluations/${encodeURIComponent(id)}?${q}`);
}
export function createEvaluation(body: EvaluationRequest) {
  return request<{ evaluation_id: string; status: RunStatus }>("POST", "/api/v1/evaluations", body);
}
export function deleteEvaluation(id: string) {
  return request<unknown>("DELETE", `/api/v1/evaluations/${encodeURIComponent(id)}`);
}
