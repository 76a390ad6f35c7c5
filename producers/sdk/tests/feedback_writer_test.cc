// The feedback fast path writes exactly what core's generic writer writes, accepts only what
// core's validation accepts, and the Tracer falls back to the general path (and its error
// messages) for everything else.
#include "producers/sdk/feedback_writer.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/event_json.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "producers/sdk/tests/fake_transport.h"
#include "producers/sdk/tracer.h"

namespace tracefeed {
namespace {

using detail::FeedbackView;
using detail::write_feedback_envelope;

constexpr UnixNanos kTime = 1'717'243'200'250'000'000LL;  // 2024-06-01T12:00:00.250Z

// Everything a feedback event can carry, owned, so cases can be listed as values.
struct Args {
  std::string trace_id = "tr-0123456789abcdef0123456789abcdef";
  std::string name = "user_feedback";
  std::string span_id;
  AssessmentSource source;
  JsonValue value = true;
  std::string rationale;
  StringMap metadata;
  std::optional<AssessmentError> error;
  std::string overrides;

  FeedbackView view() const {
    return {trace_id, name, span_id, source, value, rationale, metadata, error, overrides};
  }
};

// What core writes for the event the fast path wrote: parse (which validates) and write again.
// Equal bytes mean the fast path wrote what write_json(Envelope) writes for the same envelope.
std::string canonical(std::string_view json) {
  EventParser parser;
  auto e = parser.parse_envelope(json);
  EXPECT_TRUE(e.is_ok()) << e.status().to_string() << "\n" << json;
  return e.is_ok() ? to_json(*e) : std::string();
}

std::vector<Args> valid_cases() {
  std::vector<Args> cases;
  cases.push_back({});  // defaults: MLflow's default source {CODE, "default"}
  Args mlflow;
  mlflow.value = false;
  mlflow.rationale = "Missing details about MLflow's key features";
  mlflow.source = {SourceType::human, "enduser_123"};
  mlflow.metadata = {{"app", "chatbot"}, {"session", "s-1"}};
  cases.push_back(mlflow);
  for (JsonValue v :
       {JsonValue(42), JsonValue(-0.125), JsonValue("good"), JsonValue::array({1, "two", false}),
        JsonValue::object({{"score", 4}, {"tags", JsonValue::array({"a", "b\"c"})}})}) {
    Args a;
    a.value = v;
    cases.push_back(a);
  }
  Args on_span;
  on_span.span_id = "00f0e0d0c0b0a090";
  on_span.source = {SourceType::llm_judge, "gpt-judge"};
  cases.push_back(on_span);
  Args errored;  // failed to compute: an error and no value
  errored.value = nullptr;
  errored.error = AssessmentError{"TIMEOUT", "judge timed out after 30 s"};
  cases.push_back(errored);
  Args errored_with_value;  // both, and an error without a message
  errored_with_value.value = 0.5;
  errored_with_value.error = AssessmentError{"PARTIAL", ""};
  cases.push_back(errored_with_value);
  Args escapes;  // everything that needs escaping, and non-ASCII UTF-8
  escapes.name = "r\u00e9sum\u00e9 \"quality\"";
  escapes.rationale =
      "line 1\nline 2\t\"quoted\" back\\slash \x01 ctrl, \u65e5\u672c\u8a9e, \U0001F44D";
  escapes.source = {SourceType::human, "user\\\"7\""};
  escapes.metadata = {{"k\"ey", "v\nal"}, {"empty", ""}, {"\u00fc", "\x1f"}};
  cases.push_back(escapes);
  Args odd_source;  // a source id without a type is kept as sent
  odd_source.source = {SourceType::unspecified, "someone"};
  cases.push_back(odd_source);
  Args typed_no_id;
  typed_no_id.source = {SourceType::code, ""};
  cases.push_back(typed_no_id);
  Args override_;
  override_.overrides = "a-0123456789abcdef0123456789abcdef";
  override_.rationale = "the user misclicked";
  cases.push_back(override_);
  Args limits;  // exactly at every size limit: still valid
  limits.name = std::string(kMaxNameBytes, 'n');
  limits.source = {SourceType::human, std::string(kMaxNameBytes, 's')};
  limits.rationale = std::string(kMaxRationaleBytes, 'r');
  limits.value = JsonValue(std::string(kMaxAssessmentValueBytes - 2, 'v'));  // + 2 quotes
  cases.push_back(limits);
  return cases;
}

TEST(FeedbackWriter, WritesWhatCoreWritesForEveryShapeOfFeedback) {
  const auto cases = valid_cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    auto written = write_feedback_envelope(cases[i].view(), kTime);
    ASSERT_TRUE(written.has_value());
    EXPECT_EQ(written->event.json, canonical(written->event.json));
    EXPECT_EQ(written->event.type, EventType::assessment);
    EXPECT_EQ(written->event.trace_id, cases[i].trace_id);

    EventParser parser;
    auto e = parser.parse_envelope(written->event.json);
    ASSERT_TRUE(e.is_ok());
    EXPECT_EQ(e->event_id, written->event.event_id);
    EXPECT_TRUE(is_lower_hex(e->event_id));
    EXPECT_EQ(e->event_id.size(), 32u);
    EXPECT_EQ(e->time, kTime);
    const Assessment& a = e->assessment();
    EXPECT_EQ(a.assessment_id, written->assessment_id);
    EXPECT_TRUE(is_assessment_id(a.assessment_id));
    EXPECT_EQ(a.assessment_id.size(), 34u);
    EXPECT_EQ(a.assessment_name, cases[i].name);
    EXPECT_EQ(a.rationale, cases[i].rationale);
    EXPECT_EQ(a.metadata, cases[i].metadata);
    EXPECT_EQ(a.overrides, cases[i].overrides);
    EXPECT_EQ(a.create_time, kTime);
    EXPECT_EQ(a.last_update_time, kTime);
    EXPECT_TRUE(a.valid);
  }
}

TEST(FeedbackWriter, EveryEventGetsFreshIds) {
  const Args args;
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    auto written = write_feedback_envelope(args.view(), kTime + i);
    ASSERT_TRUE(written.has_value());
    ids.insert(std::string(written->event.event_id));
    ids.insert(std::string(written->assessment_id));
  }
  EXPECT_EQ(ids.size(), 2000u);
}

std::vector<Args> invalid_cases() {
  std::vector<Args> cases;
  Args a;
  a.trace_id = "tr-12";
  cases.push_back(a);
  a = {};
  a.trace_id = "tr-0123456789ABCDEF0123456789abcdef";  // upper case
  cases.push_back(a);
  a = {};
  a.name = "user.feedback";
  cases.push_back(a);
  a = {};
  a.name = "";
  cases.push_back(a);
  a = {};
  a.name = std::string(kMaxNameBytes + 1, 'n');
  cases.push_back(a);
  a = {};
  a.span_id = "123";
  cases.push_back(a);
  a = {};
  a.value = nullptr;  // neither value nor error
  cases.push_back(a);
  a = {};
  a.value = nullptr;
  a.error = AssessmentError{"", "no code"};
  cases.push_back(a);
  a = {};
  a.rationale = std::string(kMaxRationaleBytes + 1, 'r');
  cases.push_back(a);
  a = {};
  a.source = {SourceType::human, std::string(kMaxNameBytes + 1, 's')};
  cases.push_back(a);
  a = {};
  a.value = JsonValue(std::string(kMaxAssessmentValueBytes, 'v'));  // + 2 quotes: over
  cases.push_back(a);
  a = {};
  a.overrides = "b-123";
  cases.push_back(a);
  return cases;
}

TEST(FeedbackWriter, RejectsWhatCoreRejectsAndTheTracerSaysWhyInCoresWords) {
  const auto cases = invalid_cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    EXPECT_FALSE(write_feedback_envelope(cases[i].view(), kTime).has_value());
    // Core's validator on the same assessment rejects it too.
    Assessment a;
    a.trace_id = cases[i].trace_id;
    a.assessment_name = cases[i].name;
    a.span_id = cases[i].span_id;
    a.source = cases[i].source;
    a.rationale = cases[i].rationale;
    a.overrides = cases[i].overrides;
    Feedback fb;
    if (!cases[i].value.is_null()) fb.value = cases[i].value.text();
    fb.error = cases[i].error;
    a.value = fb;
    a.present = Assessment::f_source;
    const Status core = validate_assessment(a, EventType::assessment, "assessment");
    ASSERT_FALSE(core.is_ok());
    // The Tracer answers with core's message.
    if (!cases[i].overrides.empty()) continue;  // override_feedback takes no span_id/error: below
    testing::FakeTransport transport;
    Tracer tracer(transport);
    auto r = tracer.log_feedback({.trace_id = cases[i].trace_id,
                                  .name = cases[i].name,
                                  .value = cases[i].value,
                                  .rationale = cases[i].rationale,
                                  .source = cases[i].source,
                                  .span_id = cases[i].span_id,
                                  .error = cases[i].error});
    EXPECT_EQ(r.status().code(), ErrorCode::invalid_argument);
    EXPECT_EQ(r.status().message(), core.message());
    EXPECT_TRUE(transport.sent().empty());
  }
  testing::FakeTransport transport;
  Tracer tracer(transport);
  auto r = tracer.override_feedback(
      {.trace_id = new_trace_id(), .assessment_id = "b-123", .value = 1, .name = "n"});
  EXPECT_EQ(r.status().code(), ErrorCode::invalid_argument);
  EXPECT_NE(r.status().message().find("overrides"), std::string::npos) << r.status().to_string();
}

TEST(FeedbackWriter, TimesAreWrittenAsCoreWritesThem) {
  const Args args;
  constexpr int64_t kSec = 1'000'000'000;
  const UnixNanos whole = 1'717'243'200LL * kSec;
  // Every fraction width (none, ms, µs, ns), the same second twice (the cached prefix), then the
  // next second, the next day and a leap day.
  const std::vector<UnixNanos> times = {
      whole,
      whole + 7,
      whole + 250'000'000,
      whole + 250'000'001,
      whole + 123'456'000,
      whole + 999'999'999,
      whole + kSec,
      whole + kSec + 5'000'000,
      whole + 86'400 * kSec + 1,
      1'709'164'800LL * kSec + 42'000,  // 2024-02-29T00:00:00.000042Z
      1,
      4'102'444'799LL * kSec + 999'999'999};  // 2099-12-31T23:59:59.999999999Z
  for (UnixNanos t : times) {
    SCOPED_TRACE(t);
    auto written = write_feedback_envelope(args.view(), t);
    ASSERT_TRUE(written.has_value());
    EXPECT_EQ(written->event.json, canonical(written->event.json));
    EXPECT_NE(written->event.json.find("\"time\":\"" + format_rfc3339(t) + "\""),
              std::string_view::npos)
        << written->event.json;
    EXPECT_EQ(written->event.time, t);
  }
}

TEST(FeedbackWriter, ZeroAndPre1970TimesAreLeftToTheGeneralPath) {
  const Args args;
  EXPECT_FALSE(write_feedback_envelope(args.view(), 0).has_value());
  EXPECT_FALSE(write_feedback_envelope(args.view(), -1'000'000'000).has_value());
}

TEST(FeedbackWriter, TheTracerSendsTheFastEnvelopeAndReturnsItsId) {
  testing::FakeTransport transport;
  ManualClock clock;
  Tracer tracer(transport, clock);
  const auto cases = valid_cases();
  for (const auto& c : cases) {
    if (!c.overrides.empty()) continue;
    auto id = tracer.log_feedback({.trace_id = c.trace_id,
                                   .name = c.name,
                                   .value = c.value,
                                   .rationale = c.rationale,
                                   .source = c.source,
                                   .span_id = c.span_id,
                                   .metadata = c.metadata,
                                   .error = c.error});
    ASSERT_TRUE(id.is_ok()) << id.status().to_string();
    const auto sent = transport.sent().back();
    EXPECT_EQ(sent.json, canonical(sent.json));
    EventParser parser;
    auto e = parser.parse_envelope(sent.json);
    ASSERT_TRUE(e.is_ok());
    EXPECT_EQ(e->assessment().assessment_id, *id);
    EXPECT_EQ(e->event_id, sent.event_id);
    EXPECT_EQ(sent.trace_id, c.trace_id);
    EXPECT_EQ(e->time, clock.monotonic_ns());
  }
}

}  // namespace
}  // namespace tracefeed
