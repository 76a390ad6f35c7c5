#pragma once
// Test doubles for the gateway: an EventSink that records what it was given and answers with
// scripted statuses, and a DeadLetterSink that records rejections. Thread-safe.

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/event_sink.h"
#include "producers/publish/kafka_event_sink.h"

namespace tracefeed::gateway::testing {

class FakeEventSink final : public EventSink {
 public:
  // Decides the status of the n-th envelope ever published (0-based); default: ok.
  std::function<Status(size_t n, const Envelope&)> verdict;

  std::vector<Status> publish(std::span<const Envelope> events) override {
    std::lock_guard lock(_mu);
    std::vector<Status> out;
    for (const Envelope& e : events) {
      Status s = verdict ? verdict(_count, e) : Status::ok();
      ++_count;
      if (s.is_ok()) published.push_back(e);
      out.push_back(std::move(s));
    }
    ++calls;
    return out;
  }
  std::vector<Envelope> published;  // acknowledged envelopes, in order
  size_t calls = 0;

 private:
  std::mutex _mu;
  size_t _count = 0;
};

class FakeDeadLetters final : public publish::DeadLetterSink {
 public:
  struct Record {
    std::string reason, error_code, message, raw;
  };
  void dead_letter(std::string_view reason, const Status& error, std::string_view raw) override {
    std::lock_guard lock(_mu);
    records.push_back({std::string(reason), std::string(error_code_name(error.code())), error.message(), std::string(raw)});
  }
  std::vector<Record> records;

 private:
  std::mutex _mu;
};

}  // namespace tracefeed::gateway::testing
