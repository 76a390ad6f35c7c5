#include "kafka/advisory_commit.h"

#include <vector>

#include "kafka/consumer.h"

namespace tracefeed::kafka {

AdvisoryCommitter::AdvisoryCommitter(Consumer& consumer, bool commit_watermark_when_idle)
    : _consumer(consumer), _watermark_when_idle(commit_watermark_when_idle) {}

void AdvisoryCommitter::applied(std::string_view topic, int32_t partition, int64_t next) {
  _applied[{std::string(topic), partition}] = next;
}

void AdvisoryCommitter::forget(std::string_view topic, int32_t partition) {
  const Partition tp{std::string(topic), partition};
  _applied.erase(tp);
  _committed.erase(tp);
}

Status AdvisoryCommitter::maybe_commit(bool idle, std::chrono::steady_clock::time_point now) {
  if (now - _last < _interval) return Status::ok();
  _last = now;  // also bounds the watermark requests of an idle consumer to one a second
  std::vector<TopicPartitionOffset> commits;
  for (const auto& [tp, next] : _applied) {
    int64_t offset = next;
    if (idle && _watermark_when_idle) {
      auto marks = _consumer.watermark_offsets({tp.first, tp.second}, std::chrono::seconds(1));
      if (marks.is_ok() && marks->high > offset) offset = marks->high;
    }
    auto it = _committed.find(tp);
    if (it != _committed.end() && it->second == offset) continue;
    commits.push_back({tp.first, tp.second, offset});
  }
  if (commits.empty()) return Status::ok();
  TF_RETURN_IF_ERROR(_consumer.commit(commits));
  for (const auto& c : commits) _committed[{c.topic, c.partition}] = c.offset;
  return Status::ok();
}

}  // namespace tracefeed::kafka
