// The human-feedback quickstart, steps 1-2, with tracefeed's C++ SDK:
//   1. trace a tiny RAG chatbot (a CHAIN root span and a RETRIEVER child) and get its trace id;
//   2. record an end user's thumbs-down on that trace with log_feedback.
//
//   quickstart_example                                 # to the gateway at http://127.0.0.1:8080
//   quickstart_example --gateway http://host:8080
//   quickstart_example --kafka 127.0.0.1:9092 [--topic-prefix tracefeed.]
//
// Start tracefeed first (`tracefeed run`); the trace then shows in the UI with user_feedback=false.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "producers/sdk/http_transport.h"
#include "producers/sdk/kafka_transport.h"
#include "producers/sdk/tracer.h"

namespace {

using namespace std::chrono_literals;
using tracefeed::JsonValue;
using tracefeed::SpanType;
using tracefeed::Tracer;

// @mlflow.trace(span_type="RETRIEVER") in the quickstart.
std::string retrieve_context(Tracer& tracer, const std::string& query) {
  auto span = tracer.span("retrieve_context", SpanType::Retriever);
  span.set_inputs(JsonValue::object({{"query", query}}));
  std::string lower = query;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Simulated retrieval; in production this would search a vector database.
  std::string context = lower.find("mlflow") != std::string::npos
                            ? "MLflow is an open-source platform for managing the end-to-end machine learning "
                              "lifecycle. It provides tools for experiment tracking, model packaging, and deployment."
                            : "General information about machine learning and data science.";
  span.set_outputs(context);
  return context;
}

// @mlflow.trace in the quickstart: the root span of every trace.
std::string my_chatbot(Tracer& tracer, const std::string& user_question) {
  auto span = tracer.span("my_chatbot", SpanType::Chain);
  span.set_inputs(JsonValue::object({{"user_question", user_question}}));
  const std::string context = retrieve_context(tracer, user_question);
  std::string response;
  {
    // Stands in for the chat completion call (the quickstart's OpenAI client).
    auto llm = tracer.span("chat_completion", SpanType::ChatModel);
    llm.set_inputs(JsonValue::object(
        {{"model", "databricks-claude-3-7-sonnet"},
         {"messages", JsonValue::array({JsonValue::object({{"role", "system"},
                                                           {"content", "You are a helpful assistant. Use the provided "
                                                                       "context to answer questions."}}),
                                        JsonValue::object({{"role", "user"},
                                                           {"content", "Context: " + context +
                                                                           "\n\nQuestion: " + user_question}})})},
         {"temperature", 0.7},
         {"max_tokens", 150}}));
    response = "MLflow is an open-source platform that helps you track experiments and deploy models.";
    llm.set_outputs(response);
  }
  span.set_outputs(response);
  return response;
}

void usage() {
  std::fprintf(stderr, "usage: quickstart_example [--gateway URL | --kafka BROKERS] [--topic-prefix P]\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string gateway = "http://127.0.0.1:8080", kafka_brokers, topic_prefix = "tracefeed.";
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--gateway") == 0 && has_value) {
      gateway = argv[++i];
    } else if (std::strcmp(argv[i], "--kafka") == 0 && has_value) {
      kafka_brokers = argv[++i];
    } else if (std::strcmp(argv[i], "--topic-prefix") == 0 && has_value) {
      topic_prefix = argv[++i];
    } else {
      usage();
      return 2;
    }
  }

  std::unique_ptr<tracefeed::Transport> transport;
  if (!kafka_brokers.empty()) {
    tracefeed::KafkaTransportOptions o;
    o.brokers = kafka_brokers;
    o.topic_prefix = topic_prefix;
    auto t = tracefeed::KafkaTransport::create(o);
    if (!t.is_ok()) {
      std::fprintf(stderr, "kafka: %s\n", t.status().to_string().c_str());
      return 1;
    }
    transport = std::move(*t);
  } else {
    tracefeed::HttpTransportOptions o;
    o.url = gateway;
    o.retry_timeout = 30s;
    auto t = tracefeed::HttpTransport::create(o);
    if (!t.is_ok()) {
      std::fprintf(stderr, "gateway: %s\n", t.status().to_string().c_str());
      return 1;
    }
    transport = std::move(*t);
  }
  Tracer tracer(*transport);

  // Step 1: run the app to generate a trace, then get its id.
  const std::string response = my_chatbot(tracer, "What is MLflow?");
  std::printf("Response: %s\n", response.c_str());
  const std::string trace_id = tracer.get_last_active_trace_id();
  std::printf("Trace ID: %s\n", trace_id.c_str());

  // Step 2: simulate an end user's thumbs-down. In a real app the frontend gets trace_id with
  // the response and calls your backend, which calls log_feedback.
  auto assessment_id = tracer.log_feedback({
      .trace_id = trace_id,
      .name = "user_feedback",
      .value = false,  // thumbs down: the user is unsatisfied
      .rationale = "Missing details about MLflow's key features like Projects and Model Registry",
      .source = {tracefeed::SourceType::human, "enduser_123"},  // would be the actual user id
  });
  if (!assessment_id.is_ok()) {
    std::fprintf(stderr, "log_feedback: %s\n", assessment_id.status().to_string().c_str());
    return 1;
  }

  // Wait until Kafka / the gateway acknowledged both events.
  tracefeed::Status flushed = tracer.flush(30s);
  const auto stats = transport->stats();
  if (!flushed.is_ok() || stats.failed > 0) {
    std::fprintf(stderr, "not delivered: %s %s\n", flushed.to_string().c_str(), stats.first_error.c_str());
    return 1;
  }
  std::printf("End-user feedback recorded! (assessment %s)\n", assessment_id->c_str());
  (void)tracer.close(10s);
  return 0;
}
