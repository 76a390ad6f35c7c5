#include "processors/filter/filter_lexer.h"

#include <charconv>
#include <cmath>

namespace tracefeed::filter::detail {
namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
// Non-ASCII bytes (UTF-8 letters) may appear in bare keys, as sqlparse allows.
bool is_word_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_word_char(char c) noexcept {
  return is_word_start(c) || is_digit(c);
}
bool is_op_char(char c) noexcept {
  return c == '=' || c == '!' || c == '<' || c == '>';
}
char ascii_upper(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : _text(text) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      while (_pos < _text.size() && is_space(_text[_pos])) ++_pos;
      Token t;
      t.begin = _pos;
      if (_pos >= _text.size()) {
        t.kind = TokenKind::end;
        t.end = _pos;
        out.push_back(std::move(t));
        return out;
      }
      char c = _text[_pos];
      if (c == '\'' || c == '"') {
        lex_string(t);
      } else if (is_word_start(c) || c == '`') {
        lex_word(t);
      } else if (is_digit(c) ||
                 ((c == '-' || c == '+' || c == '.') && _pos + 1 < _text.size() &&
                  (is_digit(_text[_pos + 1]) || (_text[_pos + 1] == '.' && c != '.')))) {
        lex_number(t);
      } else if (is_op_char(c)) {
        while (_pos < _text.size() && is_op_char(_text[_pos])) ++_pos;
        t.kind = TokenKind::op;
      } else if (c == '(') {
        ++_pos;
        t.kind = TokenKind::lparen;
      } else if (c == ')') {
        ++_pos;
        t.kind = TokenKind::rparen;
      } else if (c == ',') {
        ++_pos;
        t.kind = TokenKind::comma;
      } else {
        // One whole UTF-8 character, so the message quotes it intact.
        ++_pos;
        while (_pos < _text.size() && (static_cast<unsigned char>(_text[_pos]) & 0xC0) == 0x80)
          ++_pos;
        t.kind = TokenKind::other;
      }
      t.end = _pos;
      bool stop = t.kind == TokenKind::bad;
      out.push_back(std::move(t));
      if (stop) {
        Token e;
        e.kind = TokenKind::end;
        e.begin = e.end = _text.size();
        out.push_back(std::move(e));
        return out;
      }
    }
  }

 private:
  void bad(Token& t, size_t at, std::string message) {
    t.kind = TokenKind::bad;
    t.begin = at;
    t.value = std::move(message);
  }

  // '...' or "...": the quote doubled or backslash-escaped stands for itself; \\ \n \t \r;
  // \% and \_ are kept as written so LIKE patterns can match a literal % or _.
  void lex_string(Token& t) {
    char q = _text[_pos++];
    t.kind = TokenKind::string;
    while (true) {
      if (_pos >= _text.size()) {
        bad(t, t.begin, "unterminated string: missing closing " + std::string(1, q));
        return;
      }
      char c = _text[_pos];
      if (c == q) {
        if (_pos + 1 < _text.size() && _text[_pos + 1] == q) {
          t.value.push_back(q);
          _pos += 2;
          continue;
        }
        ++_pos;
        return;
      }
      if (c == '\\') {
        if (_pos + 1 >= _text.size()) {
          bad(t, t.begin, "unterminated string: missing closing " + std::string(1, q));
          return;
        }
        char e = _text[_pos + 1];
        switch (e) {
          case '\\':
            t.value.push_back('\\');
            break;
          case '\'':
            t.value.push_back('\'');
            break;
          case '"':
            t.value.push_back('"');
            break;
          case 'n':
            t.value.push_back('\n');
            break;
          case 't':
            t.value.push_back('\t');
            break;
          case 'r':
            t.value.push_back('\r');
            break;
          case '%':
            t.value += "\\%";
            break;
          case '_':
            t.value += "\\_";
            break;
          default: {
            size_t len = 1;
            while (_pos + 1 + len < _text.size() &&
                   (static_cast<unsigned char>(_text[_pos + 1 + len]) & 0xC0) == 0x80) {
              ++len;
            }
            bad(t, _pos,
                "invalid escape \"\\" + std::string(_text.substr(_pos + 1, len)) +
                    "\" in string (use \\\\, \\', \\\", \\n, \\t, \\r, \\% or \\_)");
            return;
          }
        }
        _pos += 2;
        continue;
      }
      t.value.push_back(c);
      ++_pos;
    }
  }

  // Backtick-quoted part: `a.b`; a doubled backtick stands for itself.
  bool lex_backtick_part(Token& t, std::string& out) {
    size_t start = _pos++;
    while (true) {
      if (_pos >= _text.size()) {
        bad(t, start, "unterminated `quoted` key: missing closing `");
        return false;
      }
      char c = _text[_pos];
      if (c == '`') {
        if (_pos + 1 < _text.size() && _text[_pos + 1] == '`') {
          out.push_back('`');
          _pos += 2;
          continue;
        }
        ++_pos;
        return true;
      }
      out.push_back(c);
      ++_pos;
    }
  }

  void lex_word(Token& t) {
    t.kind = TokenKind::word;
    bool first = true;
    while (true) {
      std::string part;
      t.part_begins.push_back(_pos);
      char c = _pos < _text.size() ? _text[_pos] : '\0';
      if (c == '`') {
        if (first) t.first_part_quoted = true;
        if (!lex_backtick_part(t, part)) return;
      } else if (!first && c == '"') {
        // MLflow also accepts tag."a.b"; a double-quoted part is a key, never a value here.
        Token s;
        s.begin = _pos;
        lex_string(s);
        if (s.kind == TokenKind::bad) {
          bad(t, s.begin, s.value);
          return;
        }
        part = std::move(s.value);
      } else if (is_word_char(c)) {
        while (_pos < _text.size() && is_word_char(_text[_pos])) part.push_back(_text[_pos++]);
      } else {
        // "tag." followed by nothing usable: an empty part, reported by the parser.
        t.parts.push_back(std::string());
        return;
      }
      t.parts.push_back(std::move(part));
      first = false;
      if (_pos < _text.size() && _text[_pos] == '.') {
        ++_pos;
        continue;
      }
      return;
    }
  }

  void lex_number(Token& t) {
    size_t start = _pos;
    if (_text[_pos] == '-' || _text[_pos] == '+') ++_pos;
    while (_pos < _text.size() && (is_word_char(_text[_pos]) || _text[_pos] == '.' ||
                                   ((_text[_pos] == '-' || _text[_pos] == '+') &&
                                    (_text[_pos - 1] == 'e' || _text[_pos - 1] == 'E')))) {
      ++_pos;
    }
    std::string_view s = _text.substr(start, _pos - start);
    std::string_view digits = s;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    double v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || !std::isfinite(v)) {
      bad(t, start, "invalid number \"" + std::string(s) + "\"");
      return;
    }
    t.kind = TokenKind::number;
    t.number = v;
  }

  std::string_view _text;
  size_t _pos = 0;
};

}  // namespace

bool Token::is_keyword(std::string_view kw) const noexcept {
  if (kind != TokenKind::word || first_part_quoted || parts.size() != 1) return false;
  const std::string& p = parts[0];
  if (p.size() != kw.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (ascii_upper(p[i]) != kw[i]) return false;
  }
  return true;
}

std::vector<Token> tokenize(std::string_view text) {
  return Lexer(text).run();
}

ErrorPosition position_of(std::string_view text, size_t offset) {
  ErrorPosition p;
  p.offset = offset;
  if (offset > text.size()) offset = text.size();
  for (size_t i = 0; i < offset; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++p.column;
    }
  }
  return p;
}

std::string describe(std::string_view text, const Token& token, std::string_view end_name) {
  if (token.kind == TokenKind::end) return std::string(end_name);
  std::string_view raw = text.substr(token.begin, token.end - token.begin);
  if (raw.size() > 40) {
    size_t cut = 40;
    while (cut > 0 && (static_cast<unsigned char>(raw[cut]) & 0xC0) == 0x80) --cut;
    return "\"" + std::string(raw.substr(0, cut)) + "...\"";
  }
  return "\"" + std::string(raw) + "\"";
}

}  // namespace tracefeed::filter::detail
