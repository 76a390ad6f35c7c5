#include "processors/evaluate/score.h"

#include <charconv>

namespace tracefeed::evaluate {

std::optional<double> Score::numeric() const {
  if (is_error()) return std::nullopt;
  const std::string& v = feedback.value;
  if (v == "\"yes\"" || v == "true") return 1.0;
  if (v == "\"no\"" || v == "false") return 0.0;
  double d = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec == std::errc() && end == v.data() + v.size()) return d;
  return std::nullopt;
}

bool Score::is_yes_no() const noexcept {
  const std::string& v = feedback.value;
  return v == "\"yes\"" || v == "\"no\"" || v == "true" || v == "false";
}

Score Score::yes_no(std::string name, bool yes, std::string rationale, AssessmentSource source) {
  Score s;
  s.name = std::move(name);
  s.feedback.value = yes ? "\"yes\"" : "\"no\"";
  s.rationale = std::move(rationale);
  s.source = std::move(source);
  return s;
}

Score Score::number(std::string name, double value, std::string rationale, AssessmentSource source) {
  Score s;
  s.name = std::move(name);
  JsonWriter w(s.feedback.value);
  w.number(value);
  s.rationale = std::move(rationale);
  s.source = std::move(source);
  return s;
}

Score Score::error(std::string name, std::string_view code, std::string message, AssessmentSource source) {
  Score s;
  s.name = std::move(name);
  s.feedback.error = AssessmentError{std::string(code), std::move(message)};
  s.source = std::move(source);
  return s;
}

void Score::write(JsonWriter& w) const {
  w.begin_object();
  if (!feedback.value.empty()) w.field_raw("value", feedback.value);
  if (!rationale.empty()) w.field("rationale", rationale);
  w.key("source");
  w.begin_object();
  w.field("source_type", to_string(source.source_type));
  w.field("source_id", source.source_id);
  w.end_object();
  if (feedback.error) {
    w.key("error");
    w.begin_object();
    w.field("error_code", feedback.error->error_code);
    w.field("error_message", feedback.error->error_message);
    w.end_object();
  }
  if (!span_id.empty()) w.field("span_id", span_id);
  w.end_object();
}

}  // namespace tracefeed::evaluate
