#include "sinks/labeling/labeling_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/event_json.h"
#include "core/ids.h"
#include "sinks/labeling/tests/test_support.h"
#include "state/write_batch.h"

namespace tracefeed::labeling {
namespace {

using namespace testing;
using std::chrono::minutes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

JsonTree json(const std::string& text) {
  auto v = parse_json(text);
  EXPECT_TRUE(v.is_ok()) << text;
  return v.is_ok() ? std::move(v).value() : JsonTree();
}

class LabelingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    _schemas = {
        categorical("response_accuracy", {"Accurate", "Partially Accurate", "Inaccurate"}, true),
        text_expectation("expected_response", 20)};
    config::LabelingSession quickstart;
    quickstart.name = "quickstart_review";
    quickstart.label_schemas = {"response_accuracy", "expected_response"};
    quickstart.lease_duration = minutes(15);
    _sessions = {quickstart};
    start();
  }

  void start() {
    _service = std::make_unique<LabelingService>(*_store, _sink, _clock, _options);
    ASSERT_TRUE(_service->load(_schemas, _sessions).is_ok());
  }

  // A process restart: a new service over the reopened store.
  void restart() {
    _service.reset();
    _store.reopen();
    start();
  }

  ClaimResult claim_ok(std::string_view session, std::string_view reviewer) {
    auto c = _service->claim(session, reviewer);
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    EXPECT_TRUE(c.is_ok() && c->has_value()) << "nothing to claim for " << reviewer;
    return c.is_ok() && c->has_value() ? **c : ClaimResult{};
  }

  Result<SubmitResult> submit(std::string_view session, const ClaimResult& c,
                              std::string_view reviewer, const std::string& labels,
                              const std::string& comments = "") {
    JsonTree l = json(labels);
    JsonTree cm = comments.empty() ? JsonTree() : json(comments);
    return _service->submit(session, c.trace_id, reviewer, c.lease.token, l,
                            comments.empty() ? nullptr : &cm);
  }

  ManualClock _clock;
  TempStore _store{_clock};
  FakeSink _sink;
  LabelingOptions _options;
  std::vector<config::LabelSchema> _schemas;
  std::vector<config::LabelingSession> _sessions;
  std::unique_ptr<LabelingService> _service;
};

TEST_F(LabelingServiceTest, ConfigSessionsKeepTheirIdsAcrossRestarts) {
  auto first = _service->get_session("quickstart_review");
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->record.id.size(), 32u);
  EXPECT_TRUE(is_lower_hex(first->record.id));
  EXPECT_EQ(first->record.mlflow_run_id.size(), 32u);
  EXPECT_NE(first->record.mlflow_run_id, first->record.id);
  EXPECT_TRUE(first->record.from_config);
  EXPECT_EQ(first->url, "/#/review/" + first->record.id);
  ASSERT_TRUE(_service->add_items("quickstart_review", {trace(1)}).is_ok());

  _sessions[0].reviews_per_item = 2;  // the config changed between runs
  restart();
  auto second = _service->get_session(first->record.id);  // by id this time
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(second->record.id, first->record.id);
  EXPECT_EQ(second->record.mlflow_run_id, first->record.mlflow_run_id);
  EXPECT_EQ(second->record.reviews_per_item, 2);
  EXPECT_EQ(second->counts.total(), 1u);

  // Dropped from the config: kept with its items, now deletable.
  _sessions.clear();
  restart();
  auto third = _service->get_session("quickstart_review");
  ASSERT_TRUE(third.is_ok());
  EXPECT_FALSE(third->record.from_config);
  EXPECT_EQ(third->counts.total(), 1u);
  EXPECT_TRUE(_service->delete_session("quickstart_review").is_ok());
}

TEST_F(LabelingServiceTest, SchemasFromTheApi) {
  config::LabelSchema helpful = categorical("helpful", {"yes", "no"});
  ASSERT_TRUE(_service->put_schema(helpful, false).is_ok());
  EXPECT_EQ(_service->put_schema(helpful, false).code(), ErrorCode::already_exists);
  helpful.title = "Was it helpful?";
  ASSERT_TRUE(_service->put_schema(helpful, true).is_ok());
  EXPECT_EQ(_service->get_schema("helpful")->schema.title, "Was it helpful?");
  EXPECT_EQ(_service->put_schema(categorical("response_accuracy", {"x"}), true).code(),
            ErrorCode::already_exists)
      << "config schemas are changed in the config file";
  EXPECT_EQ(_service->put_schema(categorical("bad", {"x", "x"}), false).code(),
            ErrorCode::invalid_argument);

  SessionRecord spec;
  spec.name = "api_session";
  spec.label_schemas = {"helpful"};
  ASSERT_TRUE(_service->create_session(spec).is_ok());
  auto in_use = _service->delete_schema("helpful");
  EXPECT_EQ(in_use.code(), ErrorCode::conflict);
  EXPECT_THAT(in_use.message(), HasSubstr("api_session"));
  EXPECT_EQ(_service->delete_schema("response_accuracy").code(), ErrorCode::conflict);
  EXPECT_EQ(_service->delete_schema("nope").code(), ErrorCode::not_found);

  restart();
  ASSERT_TRUE(_service->get_schema("helpful").has_value()) << "API schemas survive restarts";
  EXPECT_FALSE(_service->get_schema("helpful")->from_config);
  ASSERT_TRUE(_service->delete_session("api_session").is_ok());
  ASSERT_TRUE(_service->delete_schema("helpful").is_ok());
  restart();
  EXPECT_FALSE(_service->get_schema("helpful").has_value());
  EXPECT_EQ(_service->list_schemas().size(), 2u);
}

TEST_F(LabelingServiceTest, SessionSpecsAreValidatedFieldByField) {
  auto error = [&](SessionRecord spec) {
    return _service->create_session(std::move(spec)).status();
  };
  SessionRecord ok;
  ok.name = "s";
  ok.label_schemas = {"response_accuracy"};

  SessionRecord s = ok;
  s.name = "a.b";
  EXPECT_THAT(error(s).message(), HasSubstr("name:"));
  s = ok;
  s.label_schemas = {};
  EXPECT_THAT(error(s).message(), HasSubstr("label_schemas: expected 1 to 100"));
  s = ok;
  s.label_schemas = {"response_accuracy", "nope"};
  EXPECT_THAT(error(s).message(), HasSubstr("label_schemas[1]: label schema nope does not exist"));
  s = ok;
  s.label_schemas = {"response_accuracy", "response_accuracy"};
  EXPECT_THAT(error(s).message(), HasSubstr("label_schemas[1]: duplicate"));
  s = ok;
  s.reviews_per_item = 0;
  EXPECT_THAT(error(s).message(), HasSubstr("reviews_per_item: expected 1 to 100, got 0"));
  s = ok;
  s.lease_duration = std::chrono::seconds(1);
  EXPECT_THAT(error(s).message(), HasSubstr("lease_duration: expected 10s to 1d"));
  s = ok;
  s.assigned_users = {"alice", "alice"};
  EXPECT_THAT(error(s).message(), HasSubstr("assigned_users[0]: duplicate"));
  s = ok;
  s.name = "quickstart_review";
  EXPECT_EQ(error(s).code(), ErrorCode::already_exists);
  EXPECT_TRUE(_service->create_session(ok).is_ok());
}

TEST_F(LabelingServiceTest, ClaimSubmitProducesOrdinaryAssessments) {
  ASSERT_TRUE(_service->add_items("quickstart_review", {trace(1)}).is_ok());
  const ClaimResult c = claim_ok("quickstart_review", "alice");
  EXPECT_EQ(c.trace_id, trace(1));
  auto done =
      submit("quickstart_review", c, "alice",
             R"({"response_accuracy":"Inaccurate","expected_response":"MLflow has Projects."})",
             R"({"response_accuracy":"misses the Model Registry"})");
  ASSERT_TRUE(done.is_ok()) << done.status().to_string();
  EXPECT_EQ(done->status, ItemStatus::completed);
  ASSERT_EQ(done->assessment_ids.size(), 2u);

  const auto session = _service->get_session("quickstart_review");
  const auto events = _sink.snapshot();
  ASSERT_EQ(events.size(), 2u);
  for (const auto& e : events) {
    EXPECT_TRUE(validate_envelope(e).is_ok());
    EXPECT_EQ(e.type, EventType::assessment);
    const Assessment& a = e.assessment();
    EXPECT_EQ(a.trace_id, trace(1));
    EXPECT_EQ(a.source.source_type, SourceType::human);
    EXPECT_EQ(a.source.source_id, "alice");
    EXPECT_THAT(a.metadata, ::testing::Contains(std::pair<std::string, std::string>{
                                "tracefeed.labeling_session_id", session->record.id}));
  }
  const Assessment& accuracy = events[0].assessment();
  EXPECT_EQ(accuracy.assessment_name, "response_accuracy");
  ASSERT_TRUE(accuracy.is_feedback());
  EXPECT_EQ(std::get<Feedback>(accuracy.value).value, R"("Inaccurate")");
  EXPECT_EQ(accuracy.rationale, "misses the Model Registry");
  EXPECT_EQ(accuracy.assessment_id, done->assessment_ids[0].second);
  const Assessment& expected = events[1].assessment();
  EXPECT_EQ(expected.assessment_name, "expected_response");
  ASSERT_TRUE(expected.is_expectation()) << "an expectation schema gives an expectation";
  EXPECT_EQ(std::get<Expectation>(expected.value).value, R"("MLflow has Projects.")");

  // A retried submit (same token) is answered from the record: nothing produced again.
  auto retry = submit("quickstart_review", c, "alice", R"({"response_accuracy":"Inaccurate"})");
  ASSERT_TRUE(retry.is_ok()) << retry.status().to_string();
  EXPECT_TRUE(retry->retried);
  EXPECT_EQ(retry->assessment_ids, done->assessment_ids);
  EXPECT_EQ(_sink.size(), 2u);
  EXPECT_EQ(_service->stats().submits.load(), 1u);
}

TEST_F(LabelingServiceTest, BadLabelsAre400AndChangeNothing) {
  ASSERT_TRUE(_service->add_items("quickstart_review", {trace(1)}).is_ok());
  const ClaimResult c = claim_ok("quickstart_review", "alice");
  auto code_and_message = [&](const std::string& labels, const std::string& comments = "") {
    auto r = submit("quickstart_review", c, "alice", labels, comments);
    EXPECT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), ErrorCode::invalid_argument) << r.status().to_string();
    return r.status().message();
  };
  EXPECT_THAT(code_and_message(R"({"response_accuracy":"Great"})"),
              HasSubstr("labels.response_accuracy: \"Great\" is not one of"));
  EXPECT_THAT(code_and_message(R"({"expected_response":")" + std::string(21, 'x') + "\"}"),
              HasSubstr("labels.expected_response: longer than 20 characters"));
  EXPECT_THAT(code_and_message(R"({"helpfulness":"yes"})"),
              HasSubstr("labels.helpfulness: not a label schema of this session"));
  EXPECT_THAT(code_and_message(R"({})"), HasSubstr("labels: at least one label"));
  EXPECT_THAT(code_and_message(R"(["Accurate"])"), HasSubstr("labels: expected an object"));
  EXPECT_THAT(
      code_and_message(R"({"expected_response":"x"})", R"({"expected_response":"why"})"),
      HasSubstr(
          "comments.expected_response: label schema expected_response does not take comments"));
  EXPECT_THAT(code_and_message(R"({"expected_response":"x"})", R"({"response_accuracy":"why"})"),
              HasSubstr("comments.response_accuracy: no label given for response_accuracy"));
  EXPECT_EQ(_sink.size(), 0u);
  // The lease is untouched: a good answer with the same token still goes through.
  auto good = submit("quickstart_review", c, "alice", R"({"response_accuracy":"Accurate"})");
  ASSERT_TRUE(good.is_ok()) << good.status().to_string();
  EXPECT_EQ(_sink.size(), 1u);
}

TEST_F(LabelingServiceTest, OnlyAssignedUsersReview) {
  SessionRecord spec;
  spec.name = "experts";
  spec.label_schemas = {"response_accuracy"};
  spec.assigned_users = {"alice@example.com"};
  ASSERT_TRUE(_service->create_session(spec).is_ok());
  ASSERT_TRUE(_service->add_items("experts", {trace(1)}).is_ok());
  auto denied = _service->claim("experts", "mallory");
  EXPECT_EQ(denied.status().code(), ErrorCode::permission_denied);
  const ClaimResult c = claim_ok("experts", "alice@example.com");
  JsonTree labels = json(R"({"response_accuracy":"Accurate"})");
  EXPECT_EQ(_service->submit("experts", c.trace_id, "mallory", c.lease.token, labels, nullptr)
                .status()
                .code(),
            ErrorCode::permission_denied);
  EXPECT_EQ(_service->skip("experts", c.trace_id, "mallory", c.lease.token).status().code(),
            ErrorCode::permission_denied);
  EXPECT_EQ(_service->claim("nope", "alice@example.com").status().code(), ErrorCode::not_found);
}

TEST_F(LabelingServiceTest, KafkaDownMeans503AndTheSameTokenRetries) {
  ASSERT_TRUE(_service->add_items("quickstart_review", {trace(1)}).is_ok());
  const ClaimResult c = claim_ok("quickstart_review", "alice");
  _sink.fail = true;
  auto down = submit("quickstart_review", c, "alice", R"({"response_accuracy":"Accurate"})");
  EXPECT_EQ(down.status().code(), ErrorCode::unavailable);
  EXPECT_EQ(_service->get_session("quickstart_review")->counts.in_progress, 1u)
      << "the lease is kept";
  _sink.fail = false;
  auto up = submit("quickstart_review", c, "alice", R"({"response_accuracy":"Accurate"})");
  ASSERT_TRUE(up.is_ok()) << up.status().to_string();
  EXPECT_EQ(up->status, ItemStatus::completed);
}

TEST_F(LabelingServiceTest, ALeaseSurvivesARestartAndIsNeverGrantedTwice) {
  ASSERT_TRUE(_service->add_items("quickstart_review", {trace(1), trace(2)}).is_ok());
  const ClaimResult a = claim_ok("quickstart_review", "alice");
  EXPECT_EQ(a.trace_id, trace(1));
  restart();
  const ClaimResult b = claim_ok("quickstart_review", "bob");
  EXPECT_EQ(b.trace_id, trace(2)) << "alice's lease was stored before it was handed out";
  auto none = _service->claim("quickstart_review", "carol");
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->has_value());
  // alice's token still works after the restart.
  auto done = submit("quickstart_review", a, "alice", R"({"response_accuracy":"Accurate"})");
  ASSERT_TRUE(done.is_ok()) << done.status().to_string();

  // bob's lease expires; carol gets the item with a higher fencing number, bob's token is stale.
  _clock.advance(minutes(16));
  const ClaimResult c = claim_ok("quickstart_review", "carol");
  EXPECT_EQ(c.trace_id, trace(2));
  EXPECT_EQ(c.lease.token.substr(0, 2), "2-");
  auto stale = submit("quickstart_review", b, "bob", R"({"response_accuracy":"Accurate"})");
  EXPECT_EQ(stale.status().code(), ErrorCode::conflict);
  restart();
  auto stale_after_restart =
      submit("quickstart_review", b, "bob", R"({"response_accuracy":"Accurate"})");
  EXPECT_EQ(stale_after_restart.status().code(), ErrorCode::conflict);
  EXPECT_TRUE(
      submit("quickstart_review", c, "carol", R"({"response_accuracy":"Accurate"})").is_ok());
  EXPECT_EQ(_service->stats().conflicts.load(), 1u);
}

TEST_F(LabelingServiceTest, SkipIsRecordedAndIdempotent) {
  ASSERT_TRUE(_service->add_items("quickstart_review", {trace(1)}).is_ok());
  const ClaimResult c = claim_ok("quickstart_review", "alice");
  auto s = _service->skip("quickstart_review", c.trace_id, "alice", c.lease.token);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->status, ItemStatus::skipped);
  auto again = _service->skip("quickstart_review", c.trace_id, "alice", c.lease.token);
  ASSERT_TRUE(again.is_ok()) << "a retried skip is answered";
  EXPECT_EQ(submit("quickstart_review", c, "alice", R"({"response_accuracy":"Accurate"})")
                .status()
                .code(),
            ErrorCode::conflict);
  restart();
  auto page = _service->list_items("quickstart_review", ItemStatus::skipped, 0, 10);
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].first.skips.size(), 1u);
}

TEST_F(LabelingServiceTest, AddingItemsIsIdempotent) {
  auto first = _service->add_items("quickstart_review", {trace(1), trace(2), trace(1)});
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->added, 2u);
  EXPECT_EQ(first->already_present, 1u);
  auto second = _service->add_items("quickstart_review", {trace(2), trace(3)});
  EXPECT_EQ(second->added, 1u);
  EXPECT_EQ(second->already_present, 1u);
  auto bad = _service->add_items("quickstart_review", {trace(4), "tr-nope"});
  EXPECT_EQ(bad.status().code(), ErrorCode::invalid_argument);
  EXPECT_THAT(bad.status().message(), HasSubstr("trace_ids[1]"));
  EXPECT_EQ(_service->get_session("quickstart_review")->counts.total(), 3u)
      << "a bad request adds nothing";
  EXPECT_EQ(_service->add_items_matching("quickstart_review", "feedback.x = 1").status().code(),
            ErrorCode::unavailable)
      << "no search wired";
}

TEST_F(LabelingServiceTest, ItemsFromASearchFilter) {
  _options.search = [](std::string_view filter, size_t) -> Result<std::vector<std::string>> {
    if (filter == "bad") return Status::invalid_argument("column 1: unexpected token");
    return std::vector<std::string>{trace(7), trace(8)};
  };
  restart();
  auto added = _service->add_items_matching("quickstart_review", "feedback.user_feedback = false");
  ASSERT_TRUE(added.is_ok()) << added.status().to_string();
  EXPECT_EQ(added->added, 2u);
  auto bad = _service->add_items_matching("quickstart_review", "bad");
  EXPECT_EQ(bad.status().code(), ErrorCode::invalid_argument);
  EXPECT_THAT(bad.status().message(), HasSubstr("filter: column 1"));
}

TEST_F(LabelingServiceTest, RoutedItemsAndOffsetsLandTogether) {
  std::vector<RoutedItem> batch = {
      {"quickstart_review", trace(1), "thumbs_down", 0, 1'699'999'999'000'000'000},
      {"quickstart_review", trace(2), "vip", 10, 1'699'999'999'500'000'000},
      {"quickstart_review", trace(1), "thumbs_down", 0,
       1'699'999'999'000'000'000},  // a re-produced output
      {"later_session", trace(3), "r", 0, 0},
  };
  std::vector<int64_t> latencies;
  _options.on_routed = [&](std::string_view session, int64_t ns) {
    EXPECT_EQ(session, "quickstart_review");
    latencies.push_back(ns);
  };
  restart();
  ConsumedOffset off{"tracefeed.review", 0, 4};
  ASSERT_TRUE(_service->apply_routed(batch, "cluster-a", std::span(&off, 1)).is_ok());
  EXPECT_EQ(_service->stats().items_routed.load(), 2u);
  EXPECT_EQ(_service->stats().duplicates.load(), 1u);
  EXPECT_EQ(latencies, (std::vector<int64_t>{1'000'000'000, 500'000'000}))
      << "ManualClock: 1.0 s and 0.5 s after the feedback";
  EXPECT_EQ(_service->orphaned_items(), (std::map<std::string, uint64_t>{{"later_session", 1}}));
  auto offsets = _store->stored_offsets("cluster-a");
  ASSERT_TRUE(offsets.is_ok());
  EXPECT_EQ(offsets->at(state::TopicPartition{"tracefeed.review", 0}), 4);

  // Priority first: the vip item is claimed first even though it arrived later.
  EXPECT_EQ(claim_ok("quickstart_review", "alice").trace_id, trace(2));

  // Orphans survive a restart and move into a session created with their name.
  restart();
  EXPECT_EQ(_service->orphaned_items().size(), 1u);
  SessionRecord spec;
  spec.name = "later_session";
  spec.label_schemas = {"response_accuracy"};
  auto created = _service->create_session(spec);
  ASSERT_TRUE(created.is_ok());
  EXPECT_EQ(created->counts.pending, 1u);
  EXPECT_TRUE(_service->orphaned_items().empty());
  restart();
  EXPECT_EQ(_service->get_session("later_session")->counts.pending, 1u);
  EXPECT_TRUE(_service->orphaned_items().empty());
}

TEST_F(LabelingServiceTest, CompletingAnItemCallsTheHookOnceWithEveryReviewsAssessments) {
  config::LabelingSession pair;
  pair.name = "pair";
  pair.label_schemas = {"response_accuracy", "expected_response"};
  pair.reviews_per_item = 2;
  _sessions.push_back(pair);
  std::vector<CompletedItemInfo> completed;
  _options.on_item_completed = [&](const CompletedItemInfo& c) { completed.push_back(c); };
  restart();
  ASSERT_TRUE(_service->add_items("pair", {trace(1)}).is_ok());
  const std::string labels = R"({"response_accuracy":"Accurate","expected_response":"x"})";
  const ClaimResult a = claim_ok("pair", "alice");
  ASSERT_TRUE(submit("pair", a, "alice", labels).is_ok());
  EXPECT_TRUE(completed.empty()) << "one review of two: not completed yet";
  const ClaimResult b = claim_ok("pair", "bob");
  auto done = submit("pair", b, "bob", labels);
  ASSERT_TRUE(done.is_ok());
  ASSERT_EQ(done->status, ItemStatus::completed);
  ASSERT_TRUE(submit("pair", b, "bob", labels).is_ok());  // a retry: no second call
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].session_name, "pair");
  EXPECT_EQ(completed[0].session_id, _service->get_session("pair")->record.id);
  EXPECT_EQ(completed[0].trace_id, trace(1));
  EXPECT_EQ(completed[0].assessment_ids.size(), 4u) << "two schemas from each of two reviews";
}

TEST_F(LabelingServiceTest, AgreementPerSchema) {
  _schemas.push_back(numeric("score", 1, 5));
  config::LabelingSession pair;
  pair.name = "pair";
  pair.label_schemas = {"response_accuracy", "expected_response", "score"};
  pair.reviews_per_item = 2;
  _sessions.push_back(pair);
  restart();
  // alice: A A I I, bob: A I I I → p_o = 3/4, p_e = (2/4)(1/4) + (2/4)(3/4) = 1/2, kappa = 1/2.
  const std::vector<std::pair<std::string, std::string>> answers = {{"Accurate", "Accurate"},
                                                                    {"Accurate", "Inaccurate"},
                                                                    {"Inaccurate", "Inaccurate"},
                                                                    {"Inaccurate", "Inaccurate"}};
  std::vector<std::string> traces;
  for (int i = 0; i < 4; ++i) traces.push_back(trace(i + 1));
  ASSERT_TRUE(_service->add_items("pair", traces).is_ok());
  for (const auto& [reviewer, column] :
       std::vector<std::pair<std::string, int>>{{"alice", 0}, {"bob", 1}}) {
    for (int i = 0; i < 4; ++i) {
      const ClaimResult c = claim_ok("pair", reviewer);
      const size_t idx = std::stoul(c.trace_id.substr(3)) - 1;
      const std::string& answer = column == 0 ? answers[idx].first : answers[idx].second;
      ASSERT_TRUE(submit("pair", c, reviewer,
                         R"({"response_accuracy":")" + answer +
                             R"(","expected_response":"free text","score":3})")
                      .is_ok());
    }
  }
  auto view = _service->get_session("pair");
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->counts.completed, 4u);
  ASSERT_EQ(view->agreement.size(), 2u) << "free text has no agreement figure";
  EXPECT_EQ(view->agreement[0].schema, "response_accuracy");
  EXPECT_EQ(view->agreement[0].agreement.method, AgreementMethod::cohen);
  ASSERT_TRUE(view->agreement[0].agreement.kappa.has_value());
  EXPECT_NEAR(*view->agreement[0].agreement.kappa, 0.5, 1e-12);
  EXPECT_EQ(view->agreement[1].schema, "score");
  EXPECT_FALSE(view->agreement[1].agreement.kappa.has_value()) << "everyone said 3: undefined";
  EXPECT_EQ(view->agreement[1].agreement.observed_agreement, 1.0);

  auto values = _service->agreement();
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].session, "pair");
  restart();
  EXPECT_NEAR(*_service->get_session("pair")->agreement[0].agreement.kappa, 0.5, 1e-12)
      << "from stored reviews";
  auto metrics = _service->session_metrics();
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0].session, "pair");
  EXPECT_EQ(metrics[0].reviewers["alice"].reviewed, 4u);
}

TEST_F(LabelingServiceTest, DeletingASessionDropsItsItems) {
  SessionRecord spec;
  spec.name = "temp";
  spec.label_schemas = {"response_accuracy"};
  ASSERT_TRUE(_service->create_session(spec).is_ok());
  ASSERT_TRUE(_service->add_items("temp", {trace(1), trace(2), trace(3)}).is_ok());
  _options.delete_batch_items = 2;  // several writes
  restart();
  EXPECT_EQ(_service->delete_session("quickstart_review").code(), ErrorCode::conflict);
  ASSERT_TRUE(_service->delete_session("temp").is_ok());
  EXPECT_EQ(_service->get_session("temp").status().code(), ErrorCode::not_found);
  restart();
  EXPECT_EQ(_service->get_session("temp").status().code(), ErrorCode::not_found);
  size_t items = 0;
  ASSERT_TRUE(_store
                  ->scan_prefix(state::Family::labeling, all_items_prefix(),
                                [&](std::string_view, std::string_view) {
                                  ++items;
                                  return true;
                                })
                  .is_ok());
  EXPECT_EQ(items, 0u);
}

TEST_F(LabelingServiceTest, LeftoverItemsOfADeletedSessionAreDroppedAtLoad) {
  // A crash after the session record was erased but before its items were.
  state::WriteBatch batch(*_store);
  Item item;
  item.trace_id = trace(1);
  item.seq = 1;
  std::string value;
  encode_item(item, value);
  batch.put(state::Family::labeling, item_key("0123456789abcdef0123456789abcdef", trace(1)), value);
  ASSERT_TRUE(_store->write(batch).is_ok());
  restart();
  restart();
  size_t items = 0;
  ASSERT_TRUE(_store
                  ->scan_prefix(state::Family::labeling, all_items_prefix(),
                                [&](std::string_view, std::string_view) {
                                  ++items;
                                  return true;
                                })
                  .is_ok());
  EXPECT_EQ(items, 0u);
}

TEST_F(LabelingServiceTest, ListsItemsByStatusInPages) {
  std::vector<std::string> traces;
  for (int i = 1; i <= 5; ++i) traces.push_back(trace(i));
  ASSERT_TRUE(_service->add_items("quickstart_review", traces).is_ok());
  claim_ok("quickstart_review", "alice");
  auto first = _service->list_items("quickstart_review", ItemStatus::pending, 0, 2);
  ASSERT_TRUE(first.is_ok());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].first.trace_id, trace(2));
  EXPECT_NE(first->next_seq, 0u);
  auto second = _service->list_items("quickstart_review", ItemStatus::pending, first->next_seq, 2);
  ASSERT_EQ(second->items.size(), 2u);
  EXPECT_EQ(second->items[1].first.trace_id, trace(5));
  EXPECT_EQ(second->next_seq, 0u);
  auto progress = _service->list_items("quickstart_review", ItemStatus::in_progress, 0, 10);
  ASSERT_EQ(progress->items.size(), 1u);
  EXPECT_EQ(progress->items[0].first.lease->reviewer, "alice");
  // Once the lease expires the item reads as pending again.
  _clock.advance(minutes(15));
  EXPECT_EQ(_service->list_items("quickstart_review", ItemStatus::in_progress, 0, 10)->items.size(),
            0u);
}

TEST_F(LabelingServiceTest, MembershipForSearchByRunId) {
  ASSERT_TRUE(_service->add_items("quickstart_review", {trace(2), trace(1)}).is_ok());
  const auto session = _service->get_session("quickstart_review");
  auto run = _service->find_run(session->record.mlflow_run_id);
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->session_id, session->record.id);
  EXPECT_EQ(run->experiment_id, "0");
  EXPECT_EQ(run->name, "quickstart_review");
  EXPECT_THAT(*_service->traces_of_run(session->record.mlflow_run_id),
              ElementsAre(trace(2), trace(1)));
  EXPECT_FALSE(_service->traces_of_run("ffffffffffffffffffffffffffffffff").has_value());
  auto of_trace = _service->sessions_of_trace(trace(1));
  ASSERT_EQ(of_trace.size(), 1u);
  EXPECT_EQ(of_trace[0].run_id, session->record.mlflow_run_id);
  EXPECT_TRUE(_service->sessions_of_trace(trace(9)).empty());
}

TEST_F(LabelingServiceTest, ReviewAppUrlUsesTheBase) {
  _options.review_app_base_url = [] { return std::string("http://127.0.0.1:8080/"); };
  restart();
  auto v = _service->get_session("quickstart_review");
  EXPECT_EQ(v->url, "http://127.0.0.1:8080/#/review/" + v->record.id);
}

}  // namespace
}  // namespace tracefeed::labeling
