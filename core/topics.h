#pragma once
// Kafka topic names under a configurable prefix (kafka.topic_prefix, default "tracefeed.").

#include <string>
#include <vector>

namespace tracefeed {

struct Topics {
  std::string traces, assessments, review, eval, dead_letter;

  static Topics with_prefix(const std::string& prefix) {
    return Topics{prefix + "traces", prefix + "assessments", prefix + "review", prefix + "eval",
                  prefix + "dead-letter"};
  }
  std::vector<std::string> all() const { return {traces, assessments, review, eval, dead_letter}; }
};

}  // namespace tracefeed
