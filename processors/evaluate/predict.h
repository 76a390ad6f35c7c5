#pragma once
// Re-running the app (MLflow's predict_fn, over HTTP): `predict_url` receives each record's
// inputs and answers with new outputs, which are scored instead of the trace's.
//
// Contract (README.md "predict_url"):
//   request   POST <predict_url>, Content-Type: application/json, body = the record's inputs
//             (a JSON object, as MLflow passes inputs to predict_fn as keyword arguments; inputs
//             that are not an object are sent as {"request": <inputs>}), header
//             `tracefeed-source-trace-id: <trace id>` when the record has one.
//   response  2xx; the body is the outputs: JSON as it is, or, when the body is not JSON, the
//             text as a JSON string. An optional `tracefeed-trace-id: tr-...` header names the
//             trace the app recorded for this call: the scores are then written to that trace
//             (MLflow logs them to the new trace of predict_fn, too); otherwise to the source
//             trace, marked with metadata tracefeed.evaluation.outputs = "predicted".
//   latency   the call's duration becomes the record's latency_ms.
// Retries, timeout and concurrency come from HttpEndpoint.
//
// Thread-safe.

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "processors/evaluate/http_endpoint.h"
#include "processors/evaluate/record.h"

namespace tracefeed::evaluate {

inline constexpr std::string_view kPredictError = "PREDICT_ERROR";

class PredictClient {
 public:
  // `options.url` is the predict_url. Errors: a bad URL.
  [[nodiscard]] static Result<std::unique_ptr<PredictClient>> create(EndpointOptions options, const Clock& clock);

  // Replaces record.outputs (and latency_ms, and trace_id when the app names its new trace) with
  // the app's answer; on failure sets record.error_code = PREDICT_ERROR (or MISSING_INPUTS).
  // The trace's RETRIEVER spans describe the old run, so they are dropped.
  void predict(EvalRecord& record) const;

  void cancel() { _endpoint->cancel(); }

 private:
  PredictClient(std::unique_ptr<HttpEndpoint> endpoint, const Clock& clock) : _endpoint(std::move(endpoint)), _clock(clock) {}
  std::unique_ptr<HttpEndpoint> _endpoint;
  const Clock& _clock;
};

}  // namespace tracefeed::evaluate
