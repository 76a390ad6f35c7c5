#pragma once
// The datasets API (PRODUCT.md §4; bodies in docs/datasets.md):
//   GET    /api/v1/datasets                                  → {datasets: [DatasetInfo]}
//   POST   /api/v1/datasets {name}                           → 201 {dataset}
//   GET    /api/v1/datasets/{name}                           → {dataset}
//   GET    /api/v1/datasets/{name}/versions?max_results=&page_token=
//                                                            → {versions: [...], next_page_token}
//   GET    /api/v1/datasets/{name}/records?version=&max_results=&page_token=
//                                                            → JSONL (application/x-ndjson)
//   POST   /api/v1/datasets/{name}/records {trace_ids: [...]} | {labeling_session_id}
//                                                            → {dataset, version, changed, added, updated, unchanged}
//   DELETE /api/v1/datasets/{name}/records/{trace_id}         → {dataset, version, removed}
//
// The records export answers every record of the version in one body unless max_results asks
// for pages; each page carries X-Tracefeed-Dataset-Version, X-Tracefeed-Record-Count (records in
// the whole version) and, while more remain, X-Tracefeed-Next-Page-Token (pass it back as
// page_token; it pins the version). An unpaged export larger than max_unpaged_export_bytes is
// refused with a message asking for max_results (the HTTP layer has no streaming bodies yet).
//
// Handlers run on HTTP worker threads; DatasetStore is thread-safe.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tracefeed::http {
class Server;
}

namespace tracefeed::eval {

class DatasetStore;

struct DatasetApiOptions {
  // Largest export answered without max_results. Default: 256 MiB.
  size_t max_unpaged_export_bytes = 256u << 20;
  // A page ends after the record that takes it past this size. Default: 8 MiB.
  size_t max_page_bytes = 8u << 20;
  // Largest max_results for records. Default: 10000.
  size_t max_page_records = 10000;
  // Largest max_results for versions. Default: 1000.
  size_t max_page_versions = 1000;
  // The trace ids of a labeling session's completed items, for POST .../records
  // {labeling_session_id}; not_found for an unknown session. Default: empty (the field is
  // refused with 400: this role has no labeling state).
  std::function<Result<std::vector<std::string>>(std::string_view session_id)> session_traces;
};

// Registers the routes; `datasets` must outlive the server.
void register_dataset_routes(http::Server& server, DatasetStore& datasets, DatasetApiOptions options);

// The page token of the records export: "<version>.<seq>", and back.
[[nodiscard]] std::string records_page_token(int64_t version, int64_t seq);
[[nodiscard]] Result<std::pair<int64_t, int64_t>> parse_records_page_token(std::string_view token);

}  // namespace tracefeed::eval
