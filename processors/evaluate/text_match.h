#pragma once
// Token-level text comparison for the deterministic scorers (exact_match, token_f1,
// expected_facts_coverage and the correctness fallback).
//
// Normalization follows the SQuAD evaluation script, the usual yardstick for "same answer":
// ASCII letters are lower-cased, ASCII punctuation separates tokens (so "open-source" matches
// "open source"), the articles a/an/the are dropped and whitespace collapses. Bytes >= 0x80 are
// kept as word characters, so UTF-8 text is compared byte-exactly within a token.
//
// Thread: a Tokenizer is used by one thread at a time (it owns reused buffers); the free
// functions are thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tracefeed::evaluate {

// Splits text into normalized tokens. The views point into the tokenizer's buffer and stay
// valid until the next tokenize() on the same tokenizer. Allocates nothing once warm.
//
// Each token also gets a 64-bit hash (FNV-1a): overlaps are counted by sorting and merging
// integers, several times faster than comparing strings, and a collision between two distinct
// tokens of one record (odds ~n²/2^64) is not a practical concern.
class Tokenizer {
 public:
  const std::vector<std::string_view>& tokenize(std::string_view text);
  const std::vector<std::string_view>& tokens() const noexcept { return _tokens; }
  // The hashes of tokens(), in the same order.
  const std::vector<uint64_t>& hashes() const noexcept { return _hashes; }

 private:
  std::string _buffer;
  std::vector<std::string_view> _tokens;
  std::vector<uint64_t> _hashes;
};

// The normalized text: tokens joined by single spaces.
[[nodiscard]] std::string normalize_answer(std::string_view text);

// Multiset overlap of two token lists (a token counted as often as it occurs in both).
struct TokenOverlap {
  size_t common = 0;
  size_t predicted = 0;  // tokens of the output
  size_t expected = 0;   // tokens of the reference

  // common / predicted; 0 when the output is empty.
  [[nodiscard]] double precision() const noexcept;
  // common / expected; 0 when the reference is empty.
  [[nodiscard]] double recall() const noexcept;
  // Harmonic mean of precision and recall; 1 when both lists are empty (SQuAD's convention:
  // an empty answer matches an empty reference), 0 when only one is.
  [[nodiscard]] double f1() const noexcept;
};

// Token hashes (Tokenizer::hashes) of the output and the reference: sorts both lists in place
// (the caller's scratch) and counts the overlap by merging.
[[nodiscard]] TokenOverlap token_overlap(std::vector<uint64_t>& predicted, std::vector<uint64_t>& expected);

// Whether `fact` is stated in the output: at least `threshold` (0..1] of the fact's tokens
// occur among the output's token hashes (`sorted_output`, sorted ascending; multiset). A fact
// with no tokens after normalization counts as covered. `scratch` and `fact_hashes` are reused
// between calls.
[[nodiscard]] bool fact_covered(const std::vector<uint64_t>& sorted_output, std::string_view fact, double threshold,
                                Tokenizer& scratch, std::vector<uint64_t>& fact_hashes);

}  // namespace tracefeed::evaluate
