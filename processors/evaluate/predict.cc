#include "processors/evaluate/predict.h"

#include "core/event_json.h"
#include "core/ids.h"
#include "core/json_tree.h"
#include "processors/evaluate/score.h"

namespace tracefeed::evaluate {

Result<std::unique_ptr<PredictClient>> PredictClient::create(EndpointOptions options, const Clock& clock) {
  TF_ASSIGN_OR_RETURN(auto endpoint, HttpEndpoint::create(std::move(options)));
  return std::unique_ptr<PredictClient>(new PredictClient(std::move(endpoint), clock));
}

void PredictClient::predict(EvalRecord& record) const {
  record.retrievals.clear();
  if (record.inputs.empty()) {
    record.error_code = std::string(kMissingInputs);
    record.error_message = "predict_url needs the record's inputs: it has none";
    return;
  }
  std::string body;
  if (!record.inputs.empty() && record.inputs.front() == '{') {
    body = record.inputs;
  } else {
    body = "{\"request\":" + record.inputs + "}";
  }
  HeaderList headers;
  if (!record.trace_id.empty()) headers.emplace_back("tracefeed-source-trace-id", record.trace_id);
  const int64_t start = _clock.monotonic_ns();
  auto reply = _endpoint->post_json("", body, headers);
  const int64_t elapsed = _clock.monotonic_ns() - start;
  if (!reply.is_ok()) {
    record.error_code = std::string(kPredictError);
    record.error_message = reply.status().message();
    return;
  }
  if (reply->status < 200 || reply->status > 299) {
    record.error_code = std::string(kPredictError);
    record.error_message = "POST " + _endpoint->url() + ": HTTP " + std::to_string(reply->status) + ": " + clip_utf8(reply->body, 300);
    return;
  }
  auto tree = parse_json(reply->body);
  if (tree.is_ok()) {
    record.outputs = tree->to_json();
  } else if (is_valid_utf8(reply->body)) {
    record.outputs.clear();
    JsonWriter w(record.outputs);
    w.string(reply->body);
  } else {
    record.error_code = std::string(kPredictError);
    record.error_message = "POST " + _endpoint->url() + ": the reply is neither JSON nor UTF-8 text";
    return;
  }
  record.outputs_predicted = true;
  record.latency_ms = static_cast<double>(elapsed) / 1e6;
  if (auto id = reply->header("tracefeed-trace-id"); is_trace_id(id)) {
    record.trace_id = std::string(id);
    record.trace.reset();  // the old trace describes the old run
  }
}

}  // namespace tracefeed::evaluate
