#include "state/keys.h"

namespace tracefeed::state {

std::string child_key(std::string_view parent, std::string_view child) {
  std::string out;
  assign_child_key(out, parent, child);
  return out;
}

void assign_child_key(std::string& out, std::string_view parent, std::string_view child) {
  out.clear();
  out.reserve(parent.size() + 1 + child.size());
  out.append(parent);
  out.push_back(key_separator);
  out.append(child);
}

std::string child_prefix(std::string_view parent) {
  std::string out;
  out.reserve(parent.size() + 1);
  out.append(parent);
  out.push_back(key_separator);
  return out;
}

std::string_view parent_of(std::string_view key) noexcept {
  const auto pos = key.find(key_separator);
  return pos == std::string_view::npos ? key : key.substr(0, pos);
}

std::string_view child_of(std::string_view key) noexcept {
  const auto pos = key.find(key_separator);
  return pos == std::string_view::npos ? std::string_view{} : key.substr(pos + 1);
}

std::string prefix_successor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(out.back());
    if (last != 0xff) {
      ++last;
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace tracefeed::state
