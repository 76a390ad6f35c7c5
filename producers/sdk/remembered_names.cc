#include "producers/sdk/remembered_names.h"

#include <functional>

namespace tracefeed::detail {

size_t RememberedNames::home(std::string_view id) const noexcept {
  return std::hash<std::string_view>{}(id) & (_index.size() - 1);
}

size_t RememberedNames::find_cell(std::string_view id) const noexcept {
  const size_t mask = _index.size() - 1;
  size_t cell = home(id);
  while (_index[cell] != kEmpty && _ring[_index[cell] - 1].id != id) cell = (cell + 1) & mask;
  return cell;
}

// Backward-shift deletion: later entries of the probe run move up so that no lookup stops early
// at the hole (no tombstones to accumulate).
void RememberedNames::erase_cell(size_t cell) noexcept {
  const size_t mask = _index.size() - 1;
  size_t hole = cell;
  size_t next = cell;
  while (true) {
    next = (next + 1) & mask;
    if (_index[next] == kEmpty) break;
    const size_t want = home(_ring[_index[next] - 1].id);
    // The entry at `next` may move into the hole unless its home lies cyclically in (hole, next].
    const bool stays = hole <= next ? (hole < want && want <= next) : (hole < want || want <= next);
    if (stays) continue;
    _index[hole] = _index[next];
    hole = next;
  }
  _index[hole] = kEmpty;
}

void RememberedNames::grow_index() {
  size_t size = _index.empty() ? 16 : _index.size() * 2;
  _index.assign(size, kEmpty);
  for (size_t pos = 0; pos < _ring.size(); ++pos)
    _index[find_cell(_ring[pos].id)] = static_cast<uint32_t>(pos + 1);
}

void RememberedNames::remember(std::string_view id, std::string_view name) {
  if (_capacity == 0) return;
  if (!_index.empty()) {
    const size_t cell = find_cell(id);
    if (_index[cell] != kEmpty) {
      _ring[_index[cell] - 1].name.assign(name);
      return;
    }
  }
  size_t pos;
  if (_ring.size() < _capacity) {
    if ((_ring.size() + 1) * 2 > _index.size()) grow_index();  // before the new entry exists
    pos = _ring.size();
    _ring.emplace_back();
  } else {
    pos = _oldest;
    _oldest = (_oldest + 1) % _capacity;
    erase_cell(find_cell(_ring[pos].id));
  }
  Entry& e = _ring[pos];
  e.id.assign(id);  // reuses the evicted entry's capacity
  e.name.assign(name);
  _index[find_cell(id)] = static_cast<uint32_t>(pos + 1);
}

std::optional<std::string> RememberedNames::name_of(std::string_view id) const {
  if (_index.empty()) return std::nullopt;
  const size_t cell = find_cell(id);
  if (_index[cell] == kEmpty) return std::nullopt;
  return _ring[_index[cell] - 1].name;
}

}  // namespace tracefeed::detail
