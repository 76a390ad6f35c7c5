#pragma once
// Tokens of the filter and order_by grammars (internal to processors/filter).
//
// The whole text is tokenized up front; a lexical error (unterminated string, bad escape)
// becomes a `bad` token carrying its message, so the parser reports errors in text order:
// a syntax error before the bad token is reported first.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "processors/filter/filter.h"

namespace tracefeed::filter::detail {

enum class TokenKind : uint8_t {
  end,     // end of text
  word,    // identifier path: a.b.`c.d` (keywords like AND, LIKE are one-part words)
  string,  // '...' or "..."
  number,  // 12, -3.5, 1e3
  op,      // a run of = ! < > characters, validated by the parser
  lparen,
  rparen,
  comma,
  other,  // any other character
  bad,    // lexical error; `value` is the message
};

struct Token {
  TokenKind kind = TokenKind::end;
  size_t begin = 0;  // byte offsets into the text
  size_t end = 0;
  std::string value;                // decoded string, bad-token message
  std::vector<std::string> parts;   // word: decoded parts (backticks removed)
  std::vector<size_t> part_begins;  // word: byte offset of each part
  bool first_part_quoted = false;   // word: the first part was in backticks (never a keyword)
  double number = 0;                // number

  bool is_keyword(std::string_view kw) const noexcept;  // case-insensitive one-part bare word
};

std::vector<Token> tokenize(std::string_view text);

// Line and column (1-based, column in code points) of a byte offset.
ErrorPosition position_of(std::string_view text, size_t offset);

// How a token reads in a "got ..." message: "end of filter" or the raw text in quotes,
// shortened past 40 bytes.
std::string describe(std::string_view text, const Token& token, std::string_view end_name);

}  // namespace tracefeed::filter::detail
