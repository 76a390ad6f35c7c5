#pragma once
// The labeling HTTP API (PRODUCT.md §4). `{id}` is a labeling_session_id or a session name.
//
// clang-format off
//   POST   /api/v1/label-schemas                  {name, type, title, instruction, enable_comment,
//                                                   input: {<kind>: {...}}, overwrite} → 201 schema
//   GET    /api/v1/label-schemas                  → {label_schemas: [...]}
//   GET    /api/v1/label-schemas/{name}           → schema
//   DELETE /api/v1/label-schemas/{name}           → {}
//   POST   /api/v1/labeling-sessions              {name, label_schemas, assigned_users,
//                                                   reviews_per_item, lease_duration ("15m"),
//                                                   experiment_id} → 201 session
//   GET    /api/v1/labeling-sessions              → {labeling_sessions: [...], orphaned_items: {name: n}}
//   GET    /api/v1/labeling-sessions/{id}         → session with progress, reviewers, agreement
//   DELETE /api/v1/labeling-sessions/{id}         → {}
//   POST   /api/v1/labeling-sessions/{id}/items   {trace_ids: [...]} | {filter: "..."}
//                                                   → {added, already_present}
//   GET    /api/v1/labeling-sessions/{id}/items?status=&max_results=&page_token=
//                                                   → {items, next_page_token}
//   POST   /api/v1/labeling-sessions/{id}/claim   {reviewer} → {trace_id, lease: {token, expires_at}} | 204
//   POST   /api/v1/labeling-sessions/{id}/items/{trace_id}/submit
//                                                  {reviewer, lease_token, labels: {schema: value},
//                                                   comments: {schema: text}}
//                                                   → {trace_id, status, assessments}
//   POST   /api/v1/labeling-sessions/{id}/items/{trace_id}/skip
//                                                  {reviewer, lease_token} → {trace_id, status}
// clang-format on
//
// The reviewer: when the server authenticates requests (http.auth_tokens), the token's user IS
// the reviewer — a body `reviewer` naming someone else is refused (403). Without
// authentication the body's `reviewer` is taken as given.
//
// Errors are {"error_code", "message"} with the field at fault named in the message: 400 bad
// input, 403 reviewer not assigned, 404 unknown session/schema/item, 409 stale or foreign lease
// token and name clashes, 503 Kafka did not acknowledge the labels (retry the same submit).
//
// Handlers run on the HTTP worker threads; the service is thread-safe.

#include "sinks/labeling/labeling_service.h"

namespace tracefeed::http {
class Server;
}

namespace tracefeed::labeling {

// Registers the routes; `service` must outlive the server.
void register_labeling_routes(http::Server& server, LabelingService& service);

// JSON of a session as the API returns it (also for the UI and other modules).
void write_session_json(JsonWriter& w, const SessionView& session);

// A session as MLflow's GetRun answer, {"run": {"info": {...}, "data": {"tags": [...]}}}: what
// GET /api/2.0/mlflow/runs/get?run_id=<mlflow_run_id> must return for
// mlflow.search_traces(run_id=...) (the client reads run.info.experiment_id first). For whichever
// module serves MLflow's runs endpoints; the labeling API does not register that path itself.
void write_mlflow_run_json(JsonWriter& w, const SessionRun& run);

}  // namespace tracefeed::labeling
