#include "processors/evaluate/text_match.h"

#include <algorithm>

namespace tracefeed::evaluate {
namespace {

// Byte → its lower-cased form when it belongs to a token, 0 when it separates tokens: ASCII
// whitespace, controls and punctuation separate; letters, digits and every byte of a multi-byte
// UTF-8 sequence (>= 0x80) are word characters.
struct ByteTable {
  unsigned char lower[256] = {};
  constexpr ByteTable() {
    for (int c = 0; c < 256; ++c) {
      if (c >= 'a' && c <= 'z') lower[c] = static_cast<unsigned char>(c);
      else if (c >= 'A' && c <= 'Z') lower[c] = static_cast<unsigned char>(c - 'A' + 'a');
      else if (c >= '0' && c <= '9') lower[c] = static_cast<unsigned char>(c);
      else if (c >= 0x80) lower[c] = static_cast<unsigned char>(c);
    }
  }
};
constexpr ByteTable kBytes;

bool is_article(const char* t, size_t n) noexcept {
  return (n == 1 && t[0] == 'a') || (n == 2 && t[0] == 'a' && t[1] == 'n') ||
         (n == 3 && t[0] == 't' && t[1] == 'h' && t[2] == 'e');
}

}  // namespace

const std::vector<std::string_view>& Tokenizer::tokenize(std::string_view text) {
  _tokens.clear();
  _hashes.clear();
  // Sized once per call (no reallocation below), so the views stay valid while it fills.
  if (_buffer.size() < text.size()) _buffer.resize(text.size());
  char* out = _buffer.data();
  size_t n = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    while (p < end && kBytes.lower[*p] == 0) ++p;
    if (p == end) break;
    const size_t start = n;
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
    unsigned char c;
    while (p < end && (c = kBytes.lower[*p]) != 0) {
      out[n++] = static_cast<char>(c);
      h = (h ^ c) * 0x100000001b3ull;
      ++p;
    }
    if (is_article(out + start, n - start)) {
      n = start;
    } else {
      _tokens.emplace_back(out + start, n - start);
      _hashes.push_back(h);
    }
  }
  return _tokens;
}

std::string normalize_answer(std::string_view text) {
  Tokenizer t;
  std::string out;
  for (std::string_view token : t.tokenize(text)) {
    if (!out.empty()) out.push_back(' ');
    out += token;
  }
  return out;
}

double TokenOverlap::precision() const noexcept {
  return predicted == 0 ? 0.0 : static_cast<double>(common) / static_cast<double>(predicted);
}

double TokenOverlap::recall() const noexcept {
  return expected == 0 ? 0.0 : static_cast<double>(common) / static_cast<double>(expected);
}

double TokenOverlap::f1() const noexcept {
  if (predicted == 0 && expected == 0) return 1.0;
  if (common == 0) return 0.0;
  const double p = precision(), r = recall();
  return 2 * p * r / (p + r);
}

namespace {

// Matches of a sorted multiset `a` against a sorted multiset `b`.
size_t merge_count(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  size_t common = 0, i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) {
      ++common;
      ++i;
      ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return common;
}

}  // namespace

TokenOverlap token_overlap(std::vector<uint64_t>& predicted, std::vector<uint64_t>& expected) {
  std::sort(predicted.begin(), predicted.end());
  std::sort(expected.begin(), expected.end());
  return TokenOverlap{merge_count(predicted, expected), predicted.size(), expected.size()};
}

bool fact_covered(const std::vector<uint64_t>& sorted_output, std::string_view fact, double threshold, Tokenizer& scratch,
                  std::vector<uint64_t>& fact_hashes) {
  scratch.tokenize(fact);
  fact_hashes = scratch.hashes();
  if (fact_hashes.empty()) return true;
  std::sort(fact_hashes.begin(), fact_hashes.end());
  const size_t found = merge_count(sorted_output, fact_hashes);
  // Compare counts, not a rounded ratio: 3 of 4 tokens at threshold 0.75 is covered.
  return static_cast<double>(found) >= threshold * static_cast<double>(fact_hashes.size()) - 1e-9;
}

}  // namespace tracefeed::evaluate
