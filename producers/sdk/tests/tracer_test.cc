#include "producers/sdk/tracer.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "core/event_json.h"
#include "core/ids.h"
#include "producers/sdk/tests/fake_transport.h"

namespace tracefeed {
namespace {

using namespace std::chrono_literals;
using testing::FakeTransport;

Envelope parse(const std::string& json) {
  EventParser parser;
  auto e = parser.parse_envelope(json);
  EXPECT_TRUE(e.is_ok()) << e.status().to_string() << "\n" << json;
  return e.is_ok() ? std::move(*e) : Envelope{};
}

const Span* find_span(const Trace& t, std::string_view name) {
  for (const auto& s : t.spans) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

constexpr UnixNanos kStart = 1'700'000'000'000LL * 1'000'000;

TEST(Tracer, RootEndEmitsOneTraceWithNestedSpansAndTiming) {
  FakeTransport transport;
  ManualClock clock;
  Tracer tracer(transport, clock);
  std::string root_id, child_id, trace_id;
  {
    auto root = tracer.span("my_chatbot", SpanType::Chain);
    root.set_inputs(JsonValue::object({{"user_question", "What is MLflow?"}}));
    root_id = root.span_id();
    trace_id = root.trace_id();
    EXPECT_TRUE(root.is_root());
    clock.advance(10ms);
    {
      auto child = tracer.span("retrieve_context", SpanType::Retriever);
      child_id = child.span_id();
      EXPECT_EQ(child.trace_id(), trace_id);
      EXPECT_FALSE(child.is_root());
      child.set_outputs("MLflow is an open-source platform");
      child.set_attribute("k", 3);
      clock.advance(20ms);
    }
    EXPECT_TRUE(transport.sent().empty()) << "nothing is emitted before the root ends";
    clock.advance(5ms);
    root.set_outputs("MLflow is a platform.");
  }
  EXPECT_TRUE(is_trace_id(trace_id));
  EXPECT_TRUE(is_span_id(root_id));
  EXPECT_TRUE(is_span_id(child_id));
  EXPECT_EQ(tracer.last_trace_id(), trace_id);
  EXPECT_EQ(tracer.get_last_active_trace_id(), trace_id);

  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type, EventType::trace);
  EXPECT_EQ(sent[0].trace_id, trace_id);
  Envelope e = parse(sent[0].json);
  EXPECT_EQ(e.event_id, sent[0].event_id);
  EXPECT_FALSE(e.event_id.empty());
  ASSERT_EQ(e.type, EventType::trace);
  const Trace& t = e.trace();
  EXPECT_EQ(t.trace_info.trace_id, trace_id);
  EXPECT_EQ(t.trace_info.state, TraceState::ok);
  EXPECT_EQ(t.trace_info.request_time, kStart);
  EXPECT_EQ(t.trace_info.execution_duration_ns, 35'000'000);
  EXPECT_EQ(t.trace_info.request_preview, "What is MLflow?");
  EXPECT_EQ(t.trace_info.response_preview, "MLflow is a platform.");
  ASSERT_EQ(t.spans.size(), 2u);
  const Span* root = find_span(t, "my_chatbot");
  const Span* child = find_span(t, "retrieve_context");
  ASSERT_TRUE(root && child);
  EXPECT_EQ(root->span_id, root_id);
  EXPECT_TRUE(root->parent_span_id.empty());
  EXPECT_EQ(root->span_type, "CHAIN");
  EXPECT_EQ(root->status, SpanStatus::ok);
  EXPECT_EQ(root->start_time_unix_nano, kStart);
  EXPECT_EQ(root->end_time_unix_nano, kStart + 35'000'000);
  EXPECT_EQ(root->inputs, R"({"user_question":"What is MLflow?"})");
  EXPECT_EQ(child->parent_span_id, root_id);
  EXPECT_EQ(child->span_type, "RETRIEVER");
  EXPECT_EQ(child->start_time_unix_nano, kStart + 10'000'000);
  EXPECT_EQ(child->end_time_unix_nano, kStart + 30'000'000);
  EXPECT_EQ(child->outputs, R"("MLflow is an open-source platform")");
  ASSERT_EQ(child->attributes.size(), 1u);
  EXPECT_EQ(child->attributes[0].second, "3");
}

TEST(Tracer, SiblingsGrandchildrenAndSeparateTraces) {
  FakeTransport transport;
  ManualClock clock;
  Tracer tracer(transport, clock);
  std::string first;
  {
    auto root = tracer.span("root", SpanType::Agent);
    first = root.trace_id();
    {
      auto a = tracer.span("a", SpanType::Tool);
      auto grand = tracer.span("a.1", "MY_TYPE");
      EXPECT_EQ(grand.trace_id(), first);
    }
    auto b = tracer.span("b", SpanType::ChatModel);
  }
  {
    auto other = tracer.span("second");
    EXPECT_NE(other.trace_id(), first);
    EXPECT_TRUE(other.is_root());
  }
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 2u);
  Envelope e = parse(sent[0].json);
  const Trace& t = e.trace();
  ASSERT_EQ(t.spans.size(), 4u);
  const Span* root = find_span(t, "root");
  const Span* a = find_span(t, "a");
  const Span* a1 = find_span(t, "a.1");
  const Span* b = find_span(t, "b");
  ASSERT_TRUE(root && a && a1 && b);
  EXPECT_EQ(a->parent_span_id, root->span_id);
  EXPECT_EQ(a1->parent_span_id, a->span_id);
  EXPECT_EQ(a1->span_type, "MY_TYPE");
  EXPECT_EQ(b->parent_span_id, root->span_id);
  EXPECT_EQ(b->span_type, "CHAT_MODEL");
  EXPECT_EQ(parse(sent[1].json).trace().trace_info.trace_id, tracer.last_trace_id());
}

TEST(Tracer, ErrorRootMakesAnErrorTraceAndMetadataIsSent) {
  FakeTransport transport;
  TracerOptions options;
  options.trace_metadata = {{"mlflow.trace.session", "s1"}};
  Tracer tracer(transport, SystemClock::instance(), options);
  {
    auto root = tracer.span("root");
    root.set_trace_metadata("mlflow.trace.user", "u1").set_trace_tag("env", "test");
    root.set_status(SpanStatus::error);
  }
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 1u);
  Envelope e = parse(sent[0].json);
  const TraceInfo& info = e.trace().trace_info;
  EXPECT_EQ(info.state, TraceState::error);
  EXPECT_EQ(info.trace_metadata, (StringMap{{"mlflow.trace.session", "s1"}, {"mlflow.trace.user", "u1"}}));
  EXPECT_EQ(info.tags, (StringMap{{"env", "test"}}));
  EXPECT_EQ(e.trace().spans[0].status, SpanStatus::error);
}

TEST(Tracer, SpansAsTheyEndArePartialTraces) {
  FakeTransport transport;
  TracerOptions options;
  options.emit_spans_as_they_end = true;
  Tracer tracer(transport, SystemClock::instance(), options);
  std::string trace_id;
  {
    auto root = tracer.span("root", SpanType::Chain);
    trace_id = root.trace_id();
    { auto child = tracer.span("child", SpanType::Retriever); }
    ASSERT_EQ(transport.sent().size(), 1u);
  }
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 2u);
  Envelope part = parse(sent[0].json);
  EXPECT_EQ(part.trace().trace_info.trace_id, trace_id);
  EXPECT_EQ(part.trace().trace_info.state, TraceState::in_progress);
  ASSERT_EQ(part.trace().spans.size(), 1u);
  EXPECT_EQ(part.trace().spans[0].name, "child");
  Envelope whole = parse(sent[1].json);
  EXPECT_EQ(whole.trace().trace_info.state, TraceState::ok);
  ASSERT_EQ(whole.trace().spans.size(), 1u);
  EXPECT_EQ(whole.trace().spans[0].name, "root");
  EXPECT_NE(part.event_id, whole.event_id);
}

TEST(Tracer, ChildEndingAfterItsRootIsSentAsAPart) {
  FakeTransport transport;
  Tracer tracer(transport);
  ActiveSpan late;
  {
    auto root = tracer.span("root");
    late = tracer.span("late");
  }
  ASSERT_EQ(transport.sent().size(), 1u);
  EXPECT_EQ(parse(transport.sent()[0].json).trace().spans.size(), 1u);
  EXPECT_TRUE(late.end().is_ok());
  ASSERT_EQ(transport.sent().size(), 2u);
  Envelope part = parse(transport.sent()[1].json);
  EXPECT_EQ(part.trace().spans[0].name, "late");
  EXPECT_EQ(part.trace().trace_info.state, TraceState::ok);
}

TEST(Tracer, SpansOnOtherThreadsStartTheirOwnTracesUnlessChildOf) {
  FakeTransport transport;
  Tracer tracer(transport);
  auto root = tracer.span("root");
  std::string independent, child_trace, child_parent;
  std::thread([&] {
    auto s = tracer.span("independent");
    independent = s.trace_id();
    auto c = tracer.span_child_of(root, "worker", SpanType::Tool);
    child_trace = c.trace_id();
  }).join();
  EXPECT_NE(independent, root.trace_id());
  EXPECT_EQ(child_trace, root.trace_id());
  ASSERT_TRUE(root.end().is_ok());
  Envelope e = parse(transport.sent().back().json);
  ASSERT_EQ(e.trace().spans.size(), 2u);
  EXPECT_EQ(find_span(e.trace(), "worker")->parent_span_id, root.span_id());
}

TEST(Tracer, FeedbackEnvelopeMatchesMlflowArguments) {
  FakeTransport transport;
  ManualClock clock;
  Tracer tracer(transport, clock);
  const std::string trace_id = new_trace_id();
  auto id = tracer.log_feedback({.trace_id = trace_id,
                                 .name = "user_feedback",
                                 .value = false,
                                 .rationale = "Missing details about MLflow's key features",
                                 .source = {SourceType::human, "enduser_123"},
                                 .metadata = {{"app", "chatbot"}}});
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  EXPECT_TRUE(is_assessment_id(*id));
  EXPECT_EQ(id->size(), 34u);
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type, EventType::assessment);
  EXPECT_EQ(sent[0].trace_id, trace_id);
  Envelope e = parse(sent[0].json);
  ASSERT_EQ(e.type, EventType::assessment);
  const Assessment& a = e.assessment();
  EXPECT_EQ(a.assessment_id, *id);
  EXPECT_EQ(a.assessment_name, "user_feedback");
  EXPECT_EQ(a.trace_id, trace_id);
  EXPECT_EQ(a.source.source_type, SourceType::human);
  EXPECT_EQ(a.source.source_id, "enduser_123");
  ASSERT_TRUE(a.is_feedback());
  EXPECT_EQ(std::get<Feedback>(a.value).value, "false");
  EXPECT_EQ(a.rationale, "Missing details about MLflow's key features");
  EXPECT_EQ(a.metadata, (StringMap{{"app", "chatbot"}}));
  EXPECT_EQ(a.create_time, kStart);
  EXPECT_EQ(a.last_update_time, kStart);
  EXPECT_TRUE(a.valid);
  EXPECT_TRUE(a.overrides.empty());
  EXPECT_EQ(e.time, kStart);
}

TEST(Tracer, ValueTypesRoundTrip) {
  FakeTransport transport;
  Tracer tracer(transport);
  const std::string trace_id = new_trace_id();
  const std::vector<std::pair<JsonValue, std::string>> cases = {
      {true, "true"},
      {42, "42"},
      {0.75, "0.75"},
      {"good", R"("good")"},
      {JsonValue::array({1, "two", false}), R"([1,"two",false])"},
      {JsonValue::object({{"score", 4}, {"tags", JsonValue::array({"a"})}}), R"({"score":4,"tags":["a"]})"},
  };
  for (const auto& [value, text] : cases) {
    ASSERT_TRUE(tracer.log_feedback({.trace_id = trace_id, .name = "v", .value = value}).is_ok());
  }
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    Envelope e = parse(sent[i].json);
    EXPECT_EQ(std::get<Feedback>(e.assessment().value).value, cases[i].second);
    EXPECT_EQ(e.assessment().source.source_type, SourceType::code) << "MLflow's default source";
    EXPECT_EQ(e.assessment().source.source_id, "default");
  }
  // Expectations, including a structured value (sent as serialized_value, parsed back).
  auto ex = tracer.log_expectation({.trace_id = trace_id,
                                    .name = "expected_response",
                                    .value = JsonValue::object({{"facts", JsonValue::array({"Projects", "Model Registry"})}}),
                                    .source = {SourceType::human, "expert_1"}});
  ASSERT_TRUE(ex.is_ok()) << ex.status().to_string();
  Envelope e = parse(transport.sent().back().json);
  ASSERT_TRUE(e.assessment().is_expectation());
  EXPECT_EQ(std::get<Expectation>(e.assessment().value).value, R"({"facts":["Projects","Model Registry"]})");
}

TEST(Tracer, InvalidAssessmentsAreRejectedAndNotSent) {
  FakeTransport transport;
  Tracer tracer(transport);
  auto dotted = tracer.log_feedback({.trace_id = new_trace_id(), .name = "user.feedback", .value = true});
  EXPECT_EQ(dotted.status().code(), ErrorCode::invalid_argument);
  EXPECT_NE(dotted.status().message().find("assessment_name"), std::string::npos) << dotted.status().to_string();
  auto bad_trace = tracer.log_feedback({.trace_id = "tr-12", .name = "x", .value = true});
  EXPECT_EQ(bad_trace.status().code(), ErrorCode::invalid_argument);
  auto no_value = tracer.log_feedback({.trace_id = new_trace_id(), .name = "x"});
  EXPECT_EQ(no_value.status().code(), ErrorCode::invalid_argument);
  auto no_expectation = tracer.log_expectation({.trace_id = new_trace_id(), .name = "x"});
  EXPECT_EQ(no_expectation.status().code(), ErrorCode::invalid_argument);
  EXPECT_TRUE(transport.sent().empty());
  // Feedback that failed to compute: no value, an error instead.
  auto errored = tracer.log_feedback({.trace_id = new_trace_id(), .name = "judge",
                                      .error = AssessmentError{"TIMEOUT", "judge timed out"}});
  EXPECT_TRUE(errored.is_ok()) << errored.status().to_string();
}

TEST(Tracer, OverrideFeedbackIsANewAssessmentThatOverridesTheOld) {
  FakeTransport transport;
  Tracer tracer(transport);
  const std::string trace_id = new_trace_id();
  auto original = tracer.log_feedback({.trace_id = trace_id, .name = "user_feedback", .value = false});
  ASSERT_TRUE(original.is_ok());
  auto replaced = tracer.override_feedback(trace_id, *original, true, "the user misclicked",
                                           {SourceType::human, "support_7"}, {{"ticket", "T-1"}});
  ASSERT_TRUE(replaced.is_ok()) << replaced.status().to_string();
  EXPECT_NE(*replaced, *original);
  Envelope e = parse(transport.sent().back().json);
  const Assessment& a = e.assessment();
  EXPECT_EQ(e.type, EventType::assessment);
  EXPECT_EQ(a.assessment_id, *replaced);
  EXPECT_EQ(a.overrides, *original);
  EXPECT_EQ(a.assessment_name, "user_feedback");
  EXPECT_EQ(std::get<Feedback>(a.value).value, "true");
  EXPECT_EQ(a.rationale, "the user misclicked");
  EXPECT_EQ(a.source.source_id, "support_7");
  EXPECT_TRUE(a.valid);

  // An id this tracer never logged needs the name.
  auto unknown = tracer.override_feedback(trace_id, new_assessment_id(), true);
  EXPECT_EQ(unknown.status().code(), ErrorCode::invalid_argument);
  auto named = tracer.override_feedback({.trace_id = trace_id, .assessment_id = new_assessment_id(), .value = 1,
                                         .name = "relevance"});
  EXPECT_TRUE(named.is_ok()) << named.status().to_string();
}

TEST(Tracer, RememberedNamesAreBounded) {
  FakeTransport transport;
  TracerOptions options;
  options.remembered_assessments = 2;
  Tracer tracer(transport, SystemClock::instance(), options);
  const std::string trace_id = new_trace_id();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(*tracer.log_feedback({.trace_id = trace_id, .name = "f", .value = i}));
  EXPECT_FALSE(tracer.override_feedback(trace_id, ids[0], true).is_ok()) << "the oldest is forgotten";
  EXPECT_TRUE(tracer.override_feedback(trace_id, ids[2], true).is_ok());
}

TEST(Tracer, FullTransportIsAnErrorNeverASilentDrop) {
  FakeTransport transport(/*capacity=*/1);
  Tracer tracer(transport);
  const std::string trace_id = new_trace_id();
  ASSERT_TRUE(tracer.log_feedback({.trace_id = trace_id, .name = "f", .value = true}).is_ok());
  auto second = tracer.log_feedback({.trace_id = trace_id, .name = "f", .value = true});
  EXPECT_EQ(second.status().code(), ErrorCode::unavailable);
  // A span ending in its destructor cannot return the error: it is counted and kept.
  { auto s = tracer.span("dropped"); }
  EXPECT_EQ(tracer.emit_errors(), 1u);
  EXPECT_EQ(tracer.last_emit_error().code(), ErrorCode::unavailable);
  // end() returns it directly.
  auto s = tracer.span("explicit");
  EXPECT_EQ(s.end().code(), ErrorCode::unavailable);
  EXPECT_TRUE(s.end().is_ok()) << "a second end() is a no-op";
  EXPECT_EQ(transport.sent().size(), 1u);
}

TEST(Tracer, EveryEnvelopeHasAUniqueEventId) {
  FakeTransport transport;
  Tracer tracer(transport);
  for (int i = 0; i < 100; ++i) {
    auto s = tracer.span("s");
    (void)tracer.log_feedback({.trace_id = s.trace_id(), .name = "f", .value = i});
  }
  std::set<std::string> ids;
  for (const auto& s : transport.sent()) ids.insert(s.event_id);
  EXPECT_EQ(ids.size(), 200u);
}

}  // namespace
}  // namespace tracefeed
