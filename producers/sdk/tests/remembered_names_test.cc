// RememberedNames against a plain model (a map and an insertion-order queue): same answers for
// every lookup, through growth, eviction of the oldest, renames and collisions.
#include "producers/sdk/remembered_names.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>

#include "core/ids.h"

namespace tracefeed::detail {
namespace {

class Model {
 public:
  explicit Model(size_t capacity) : _capacity(capacity) {}
  void remember(const std::string& id, const std::string& name) {
    if (_capacity == 0) return;
    if (auto it = _names.find(id); it != _names.end()) {
      it->second = name;
      return;
    }
    if (_order.size() == _capacity) {
      _names.erase(_order.front());
      _order.pop_front();
    }
    _names[id] = name;
    _order.push_back(id);
  }
  std::optional<std::string> name_of(const std::string& id) const {
    auto it = _names.find(id);
    return it == _names.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  size_t size() const { return _order.size(); }

 private:
  size_t _capacity;
  std::map<std::string, std::string> _names;
  std::deque<std::string> _order;
};

TEST(RememberedNames, AgreesWithAPlainModelThroughGrowthEvictionAndRenames) {
  for (size_t capacity : {size_t{0}, size_t{1}, size_t{2}, size_t{7}, size_t{100}, size_t{1000}}) {
    SCOPED_TRACE("capacity " + std::to_string(capacity));
    RememberedNames names(capacity);
    Model model(capacity);
    std::mt19937_64 rng(capacity + 1);
    std::vector<std::string> ids;
    for (int step = 0; step < 20000; ++step) {
      const auto dice = rng() % 10;
      if (dice < 6 || ids.empty()) {  // a new id
        ids.push_back(new_assessment_id());
        const std::string name = "n" + std::to_string(rng() % 5);
        names.remember(ids.back(), name);
        model.remember(ids.back(), name);
      } else if (dice < 7) {  // an id seen before, renamed (kept or long forgotten)
        const std::string& id = ids[rng() % ids.size()];
        const std::string name = "r" + std::to_string(step);
        names.remember(id, name);
        model.remember(id, name);
      } else {  // a lookup: recent, old, or never seen
        const std::string id =
            dice < 9 ? ids[ids.size() - 1 - rng() % std::min<size_t>(ids.size(), 2 * capacity + 2)]
                     : new_assessment_id();
        ASSERT_EQ(names.name_of(id), model.name_of(id)) << "step " << step;
      }
      ASSERT_EQ(names.size(), model.size());
    }
    for (const auto& id : ids) ASSERT_EQ(names.name_of(id), model.name_of(id));
  }
}

TEST(RememberedNames, ForgetsTheOldestFirst) {
  RememberedNames names(3);
  for (const char* id : {"a-1", "a-2", "a-3", "a-4"})
    names.remember(id, std::string("name of ") + id);
  EXPECT_EQ(names.name_of("a-1"), std::nullopt);
  EXPECT_EQ(names.name_of("a-2"), "name of a-2");
  EXPECT_EQ(names.name_of("a-4"), "name of a-4");
  EXPECT_EQ(names.size(), 3u);
}

}  // namespace
}  // namespace tracefeed::detail
