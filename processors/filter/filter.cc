#include "processors/filter/filter.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "processors/filter/filter_lexer.h"

namespace tracefeed::filter {

using detail::Token;
using detail::TokenKind;

std::string_view to_string(Op op) noexcept {
  switch (op) {
    case Op::eq:
      return "=";
    case Op::ne:
      return "!=";
    case Op::lt:
      return "<";
    case Op::le:
      return "<=";
    case Op::gt:
      return ">";
    case Op::ge:
      return ">=";
    case Op::like:
      return "LIKE";
    case Op::ilike:
      return "ILIKE";
    case Op::in:
      return "IN";
    case Op::not_in:
      return "NOT IN";
    case Op::is_null:
      return "IS NULL";
    case Op::is_not_null:
      return "IS NOT NULL";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// LIKE

namespace {

char fold(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

size_t next_code_point(std::string_view s, size_t i) noexcept {
  ++i;
  while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  return i;
}

}  // namespace

LikePattern::LikePattern(std::string_view pattern, bool case_insensitive)
    : _fold(case_insensitive) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char n = pattern[++i];
      _pieces.push_back({Piece::Kind::literal, _fold ? fold(n) : n});
    } else if (c == '%') {
      if (_pieces.empty() || _pieces.back().kind != Piece::Kind::many)
        _pieces.push_back({Piece::Kind::many, 0});
    } else if (c == '_') {
      _pieces.push_back({Piece::Kind::one, 0});
    } else {
      _pieces.push_back({Piece::Kind::literal, _fold ? fold(c) : c});
    }
  }
}

// Greedy matching with backtracking to the last `%`: O(|text| * |pattern|) worst case, no
// allocation. `_` consumes one UTF-8 code point; backtracking also advances by code points.
bool LikePattern::matches(std::string_view text) const noexcept {
  const size_t m = _pieces.size();
  const size_t n = text.size();
  size_t p = 0, t = 0;
  size_t star_p = SIZE_MAX, star_t = 0;
  while (t < n) {
    if (p < m) {
      const Piece& piece = _pieces[p];
      if (piece.kind == Piece::Kind::literal) {
        char c = _fold ? fold(text[t]) : text[t];
        if (c == piece.c) {
          ++p;
          ++t;
          continue;
        }
      } else if (piece.kind == Piece::Kind::one) {
        ++p;
        t = next_code_point(text, t);
        continue;
      } else {
        star_p = p++;
        star_t = t;
        continue;
      }
    }
    if (star_p == SIZE_MAX) return false;
    p = star_p + 1;
    star_t = next_code_point(text, star_t);
    t = star_t;
  }
  while (p < m && _pieces[p].kind == Piece::Kind::many) ++p;
  return p == m;
}

// ---------------------------------------------------------------------------------------------
// Parser

namespace {

enum class FieldType : uint8_t {
  number,           // = != < <= > >=
  string,           // = != LIKE ILIKE IN NOT IN
  nullable_string,  // + IS [NOT] NULL
  content,          // LIKE ILIKE
  json,             // everything
};

FieldType field_type(Field f) {
  switch (f) {
    case Field::trace_timestamp_ms:
    case Field::trace_execution_time_ms:
    case Field::trace_end_time_ms:
      return FieldType::number;
    case Field::trace_status:
    case Field::trace_request_id:
    case Field::trace_client_request_id:
    case Field::span_name:
    case Field::span_type:
    case Field::span_status:
    case Field::span_attribute:
      return FieldType::string;
    case Field::trace_name:
    case Field::tag:
    case Field::metadata:
      return FieldType::nullable_string;
    case Field::span_content:
      return FieldType::content;
    case Field::feedback:
    case Field::expectation:
      return FieldType::json;
  }
  return FieldType::string;
}

std::string_view allowed_ops(FieldType t) {
  switch (t) {
    case FieldType::number:
      return "=, !=, <, <=, >, >=";
    case FieldType::string:
      return "=, !=, LIKE, ILIKE, IN, NOT IN";
    case FieldType::nullable_string:
      return "=, !=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL";
    case FieldType::content:
      return "LIKE, ILIKE";
    case FieldType::json:
      return "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL";
  }
  return "";
}

std::string_view type_name(FieldType t) {
  switch (t) {
    case FieldType::number:
      return "number";
    case FieldType::string:
    case FieldType::nullable_string:
      return "string";
    case FieldType::content:
      return "span content";
    case FieldType::json:
      return "assessment";
  }
  return "";
}

bool op_allowed(FieldType t, Op op) {
  switch (t) {
    case FieldType::number:
      return op == Op::eq || op == Op::ne || op == Op::lt || op == Op::le || op == Op::gt ||
             op == Op::ge;
    case FieldType::string:
      return op == Op::eq || op == Op::ne || op == Op::like || op == Op::ilike || op == Op::in ||
             op == Op::not_in;
    case FieldType::nullable_string:
      return op == Op::eq || op == Op::ne || op == Op::like || op == Op::ilike || op == Op::in ||
             op == Op::not_in || op == Op::is_null || op == Op::is_not_null;
    case FieldType::content:
      return op == Op::like || op == Op::ilike;
    case FieldType::json:
      return true;
  }
  return false;
}

// MLflow's trace attributes (SearchTraceUtils.VALID_SEARCH_ATTRIBUTE_KEYS and its aliases).
struct AttributeName {
  std::string_view name;
  Field field;
  std::string_view key;  // for attributes MLflow maps to a tag or metadata key
};
constexpr AttributeName kAttributes[] = {
    {"status", Field::trace_status, ""},
    {"state", Field::trace_status, ""},
    {"timestamp_ms", Field::trace_timestamp_ms, ""},
    {"timestamp", Field::trace_timestamp_ms, ""},
    {"execution_time_ms", Field::trace_execution_time_ms, ""},
    {"execution_time", Field::trace_execution_time_ms, ""},
    {"end_time_ms", Field::trace_end_time_ms, ""},
    {"end_time", Field::trace_end_time_ms, ""},
    {"name", Field::trace_name, ""},
    {"request_id", Field::trace_request_id, ""},
    {"trace_id", Field::trace_request_id, ""},
    {"client_request_id", Field::trace_client_request_id, ""},
    {"run_id", Field::metadata, "mlflow.sourceRun"},
    {"prompt", Field::tag, "mlflow.linkedPrompts"},
};
constexpr std::string_view kAttributeList =
    "status, timestamp_ms, execution_time_ms, end_time_ms, name, request_id, client_request_id, "
    "run_id";
constexpr std::string_view kFieldList =
    "trace.<attribute>, tag.<key>, metadata.<key>, span.<attribute>, feedback.<name> or "
    "expectation.<name>";
constexpr std::string_view kOperatorList = "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS";

std::string join_parts(const std::vector<std::string>& parts, size_t from) {
  std::string out;
  for (size_t i = from; i < parts.size(); ++i) {
    if (i > from) out.push_back('.');
    out += parts[i];
  }
  return out;
}

struct ParseFailure {
  size_t offset;
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : _text(text), _tokens(detail::tokenize(text)) {}

  std::optional<ParseFailure> run(std::vector<Condition>& out) {
    if (peek().kind == TokenKind::end) return std::nullopt;
    while (true) {
      Condition c;
      if (auto f = parse_condition(c)) return f;
      const Token& after = peek();
      out.push_back(std::move(c));
      if (after.kind == TokenKind::end) return std::nullopt;
      if (after.kind == TokenKind::bad) return ParseFailure{after.begin, after.value};
      if (after.is_keyword("AND")) {
        next();
        if (peek().kind == TokenKind::end) {
          return fail(peek(), "expected a condition after AND, got end of filter");
        }
        continue;
      }
      if (after.is_keyword("OR")) {
        return fail(after, "OR is not supported: conditions can only be joined by AND");
      }
      return fail(after, "expected AND or the end of the filter after \"" + out.back().text +
                             "\", got " + got(after));
    }
  }

 private:
  const Token& peek() const { return _tokens[_i]; }
  const Token& next() {
    const Token& t = _tokens[_i];
    if (t.kind != TokenKind::end) ++_i;
    return t;
  }
  std::string got(const Token& t) const { return detail::describe(_text, t, "end of filter"); }
  std::optional<ParseFailure> fail(const Token& t, std::string message) const {
    return ParseFailure{t.begin, std::move(message)};
  }
  std::string_view raw(size_t begin, size_t end) const { return _text.substr(begin, end - begin); }

  std::optional<ParseFailure> parse_condition(Condition& c) {
    const Token& f = next();
    if (f.kind == TokenKind::bad) return ParseFailure{f.begin, f.value};
    if (f.kind != TokenKind::word ||
        (!f.first_part_quoted && f.parts.size() == 1 &&
         (f.is_keyword("AND") || f.is_keyword("OR") || f.is_keyword("NOT")))) {
      return fail(f, "expected a field (" + std::string(kFieldList) + "), got " + got(f));
    }
    c.offset = f.begin;
    if (auto e = resolve_field(f, c)) return e;
    std::string field_text(raw(f.begin, f.end));
    FieldType type = field_type(c.field);

    // Operator.
    const Token& o = next();
    size_t op_end = o.end;
    bool has_operand = true;
    if (o.kind == TokenKind::op) {
      std::string_view s = raw(o.begin, o.end);
      if (s == "=")
        c.op = Op::eq;
      else if (s == "!=")
        c.op = Op::ne;
      else if (s == "<")
        c.op = Op::lt;
      else if (s == "<=")
        c.op = Op::le;
      else if (s == ">")
        c.op = Op::gt;
      else if (s == ">=")
        c.op = Op::ge;
      else
        return expected_operator(field_text, o);
    } else if (o.is_keyword("LIKE")) {
      c.op = Op::like;
    } else if (o.is_keyword("ILIKE")) {
      c.op = Op::ilike;
    } else if (o.is_keyword("IN")) {
      c.op = Op::in;
    } else if (o.is_keyword("NOT")) {
      const Token& n = next();
      if (!n.is_keyword("IN")) {
        if (n.kind == TokenKind::bad) return ParseFailure{n.begin, n.value};
        return fail(n, "expected IN after NOT, got " + got(n));
      }
      c.op = Op::not_in;
      op_end = n.end;
    } else if (o.is_keyword("IS")) {
      const Token& n = next();
      if (n.is_keyword("NULL")) {
        c.op = Op::is_null;
      } else if (n.is_keyword("NOT") && peek().is_keyword("NULL")) {
        next();
        c.op = Op::is_not_null;
      } else if (n.is_keyword("NOT")) {
        const Token& n2 = peek();
        if (n2.kind == TokenKind::bad) return ParseFailure{n2.begin, n2.value};
        return fail(n2, "expected NULL after IS NOT, got " + got(n2));
      } else {
        if (n.kind == TokenKind::bad) return ParseFailure{n.begin, n.value};
        return fail(n, "expected NULL or NOT NULL after IS, got " + got(n));
      }
      has_operand = false;
      op_end = _tokens[_i - 1].end;
    } else if (o.is_keyword("RLIKE")) {
      return fail(o, "operator RLIKE is not supported (use LIKE or ILIKE)");
    } else if (o.kind == TokenKind::bad) {
      return ParseFailure{o.begin, o.value};
    } else {
      return expected_operator(field_text, o);
    }
    if (!op_allowed(type, c.op)) {
      return fail(o, "operator " + std::string(to_string(c.op)) + " is not allowed for " +
                         std::string(type_name(type)) + " field " + field_text +
                         " (allowed: " + std::string(allowed_ops(type)) + ")");
    }
    std::string lhs = field_text + " " + std::string(to_string(c.op));

    // Operand.
    if (has_operand) {
      if (c.op == Op::in || c.op == Op::not_in) {
        if (auto e = parse_list(c, type, lhs)) return e;
      } else {
        const Token& v = next();
        Literal lit;
        if (auto e = parse_literal(v, c, type, lhs, lit)) return e;
        c.values.push_back(std::move(lit));
        if (c.op == Op::like || c.op == Op::ilike)
          c.pattern = LikePattern(c.values[0].text, c.op == Op::ilike);
      }
      op_end = _tokens[_i - 1].end;
    }
    c.text = std::string(raw(c.offset, op_end));
    return std::nullopt;
  }

  std::optional<ParseFailure> expected_operator(const std::string& field_text,
                                                const Token& o) const {
    std::string message = "expected an operator (" + std::string(kOperatorList) + ") after \"" +
                          field_text + "\", got " + got(o);
    // tag.my-key: the key goes on past what a bare key may hold.
    if (o.begin == _tokens[_i - 2].end &&
        (o.kind == TokenKind::other || o.kind == TokenKind::number)) {
      message += " (quote keys with other characters in backticks, e.g. tag.`my-key`)";
    }
    return fail(o, std::move(message));
  }

  std::optional<ParseFailure> resolve_field(const Token& f, Condition& c) const {
    const auto& parts = f.parts;
    std::string_view full = raw(f.begin, f.end);
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].empty() && i > 0) {
        size_t at = f.part_begins[i];
        return ParseFailure{at, "expected a key after \"" + std::string(raw(f.begin, at)) + "\""};
      }
    }
    auto attribute = [&](const std::string& name, size_t at) -> std::optional<ParseFailure> {
      for (const auto& a : kAttributes) {
        if (a.name == name) {
          c.field = a.field;
          c.key = std::string(a.key);
          return std::nullopt;
        }
      }
      return ParseFailure{at, "unknown trace attribute \"" + name + "\": expected one of " +
                                  std::string(kAttributeList)};
    };
    if (parts.size() == 1) {
      if (auto e = attribute(parts[0], f.begin)) {
        return ParseFailure{f.begin, "unknown field \"" + std::string(full) + "\": expected " +
                                         std::string(kFieldList)};
      }
      return std::nullopt;
    }
    const std::string& prefix = parts[0];
    std::string rest = join_parts(parts, 1);
    if (prefix == "trace" || prefix == "attribute" || prefix == "attributes") {
      if (parts.size() > 2) {
        return ParseFailure{f.part_begins[1], "unknown trace attribute \"" + rest +
                                                  "\": expected one of " +
                                                  std::string(kAttributeList)};
      }
      return attribute(parts[1], f.part_begins[1]);
    }
    if (prefix == "tag" || prefix == "tags") {
      c.field = Field::tag;
      c.key = std::move(rest);
      return std::nullopt;
    }
    if (prefix == "metadata" || prefix == "request_metadata") {
      c.field = Field::metadata;
      c.key = std::move(rest);
      return std::nullopt;
    }
    if (prefix == "feedback" || prefix == "expectation") {
      c.field = prefix == "feedback" ? Field::feedback : Field::expectation;
      c.key = std::move(rest);
      return std::nullopt;
    }
    if (prefix == "span") {
      const std::string& attr = parts[1];
      if (parts.size() == 2 && attr == "name")
        c.field = Field::span_name;
      else if (parts.size() == 2 && attr == "type")
        c.field = Field::span_type;
      else if (parts.size() == 2 && attr == "status")
        c.field = Field::span_status;
      else if (parts.size() == 2 && attr == "content")
        c.field = Field::span_content;
      else if (attr == "attributes" && parts.size() > 2) {
        c.field = Field::span_attribute;
        c.key = join_parts(parts, 2);
      } else if (attr == "attributes") {
        return ParseFailure{f.end, "expected a key after \"" + std::string(full) + ".\""};
      } else {
        return ParseFailure{f.part_begins[1],
                            "unknown span attribute \"" + rest +
                                "\": expected name, type, status, content or attributes.<key>"};
      }
      return std::nullopt;
    }
    if (prefix == "assessment" || prefix == "assessments") {
      return ParseFailure{f.begin, "unknown field prefix \"" + prefix +
                                       "\": use feedback.<name> or expectation.<name>"};
    }
    return ParseFailure{
        f.begin, "unknown field prefix \"" + prefix + "\": expected " + std::string(kFieldList)};
  }

  // One literal for `lhs` (e.g. "tag.env =").
  std::optional<ParseFailure> parse_literal(const Token& v, const Condition& c, FieldType type,
                                            const std::string& lhs, Literal& lit) const {
    if (v.kind == TokenKind::bad) return ParseFailure{v.begin, v.value};
    if (v.kind == TokenKind::string) {
      lit.kind = Literal::Kind::string;
      lit.text = v.value;
    } else if (v.kind == TokenKind::number) {
      lit.kind = Literal::Kind::number;
      lit.number = v.number;
      lit.text = std::string(raw(v.begin, v.end));
    } else if (v.is_keyword("TRUE") || v.is_keyword("FALSE")) {
      lit.kind = Literal::Kind::boolean;
      lit.boolean = v.is_keyword("TRUE");
      lit.text = lit.boolean ? "true" : "false";
    } else {
      std::string what;
      switch (type) {
        case FieldType::number:
          what = "a number";
          break;
        case FieldType::json:
          what = (c.op == Op::like || c.op == Op::ilike) ? "a quoted string pattern"
                 : (c.op == Op::lt || c.op == Op::le || c.op == Op::gt || c.op == Op::ge)
                     ? "a number"
                     : "a quoted string, a number, true or false";
          break;
        default:
          what = (c.op == Op::like || c.op == Op::ilike) ? "a quoted string pattern"
                                                         : "a quoted string";
      }
      return fail(v, "expected " + what + " after \"" + lhs + "\", got " + got(v));
    }
    // Type check.
    bool ordering = c.op == Op::lt || c.op == Op::le || c.op == Op::gt || c.op == Op::ge;
    bool like = c.op == Op::like || c.op == Op::ilike;
    const char* need = nullptr;
    if (like) {
      if (lit.kind != Literal::Kind::string) need = "a quoted string pattern";
    } else if (type == FieldType::number || (type == FieldType::json && ordering)) {
      if (lit.kind != Literal::Kind::number) need = "a number";
    } else if (type != FieldType::json) {
      if (lit.kind != Literal::Kind::string) need = "a quoted string";
    }
    if (need)
      return fail(v, "expected " + std::string(need) + " after \"" + lhs + "\", got " + got(v));
    return std::nullopt;
  }

  std::optional<ParseFailure> parse_list(Condition& c, FieldType type, const std::string& lhs) {
    const Token& open = next();
    if (open.kind == TokenKind::bad) return ParseFailure{open.begin, open.value};
    if (open.kind != TokenKind::lparen)
      return fail(open, "expected \"(\" after \"" + lhs + "\", got " + got(open));
    while (true) {
      const Token& v = next();
      if (v.kind == TokenKind::rparen && c.values.empty()) {
        return fail(v, "expected a value in the list after \"" + lhs + " (\", got \")\"");
      }
      Literal lit;
      Condition eq = c;
      eq.op = Op::eq;
      if (auto e = parse_literal(v, eq, type, lhs + " (...", lit)) return e;
      c.values.push_back(std::move(lit));
      const Token& sep = next();
      if (sep.kind == TokenKind::rparen) return std::nullopt;
      if (sep.kind == TokenKind::comma) continue;
      if (sep.kind == TokenKind::bad) return ParseFailure{sep.begin, sep.value};
      return fail(sep,
                  "expected \",\" or \")\" in the list after \"" + lhs + "\", got " + got(sep));
    }
  }

  std::string_view _text;
  std::vector<Token> _tokens;
  size_t _i = 0;
};

// ---------------------------------------------------------------------------------------------
// Evaluation

// A JSON scalar as comparisons see it.
struct JsonValue {
  enum class Kind : uint8_t { null, boolean, number, string, other } kind = Kind::null;
  bool boolean = false;
  double number = 0;
  std::string_view text;  // string: the decoded content; otherwise the raw JSON text
};

thread_local std::string t_scratch;  // decoded escaped strings; grows once per thread

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t hex4(std::string_view s, size_t i) {
  uint32_t v = 0;
  for (size_t k = 0; k < 4 && i + k < s.size(); ++k) {
    char c = s[i + k];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= static_cast<uint32_t>(c - 'A' + 10);
  }
  return v;
}

// Decodes the body of a JSON string (between the quotes) into `out`.
void decode_json_string(std::string_view body, std::string& out) {
  out.clear();
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out.push_back(c);
      continue;
    }
    char e = body[++i];
    switch (e) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        uint32_t cp = hex4(body, i + 1);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < body.size() + 1 &&
            body.substr(i + 1, 2) == "\\u") {
          uint32_t lo = hex4(body, i + 3);
          if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        append_utf8(out, cp);
        break;
      }
      default:
        out.push_back(e);  // \" \\ \/
    }
  }
}

JsonValue classify(std::string_view json) {
  JsonValue v;
  if (json.empty() || json == "null") return v;
  v.text = json;
  char c = json.front();
  if (json == "true" || json == "false") {
    v.kind = JsonValue::Kind::boolean;
    v.boolean = json == "true";
  } else if (c == '"' && json.size() >= 2) {
    v.kind = JsonValue::Kind::string;
    std::string_view body = json.substr(1, json.size() - 2);
    if (body.find('\\') == std::string_view::npos) {
      v.text = body;
    } else {
      decode_json_string(body, t_scratch);
      v.text = t_scratch;
    }
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    double d = 0;
    auto [ptr, ec] = std::from_chars(json.data(), json.data() + json.size(), d);
    if (ec == std::errc() && ptr == json.data() + json.size()) {
      v.kind = JsonValue::Kind::number;
      v.number = d;
    } else {
      v.kind = JsonValue::Kind::other;
    }
  } else {
    v.kind = JsonValue::Kind::other;  // arrays and objects
  }
  return v;
}

bool parse_number(std::string_view s, double& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// `=` between a JSON value and a literal. A string literal also matches the raw JSON text of a
// non-string value ('false' matches false, '3' matches 3), as MLflow compares JSON text.
bool json_equals(const JsonValue& v, const Literal& lit) {
  switch (lit.kind) {
    case Literal::Kind::boolean:
      return v.kind == JsonValue::Kind::boolean && v.boolean == lit.boolean;
    case Literal::Kind::number:
      return v.kind == JsonValue::Kind::number && v.number == lit.number;
    case Literal::Kind::string:
      if (v.kind == JsonValue::Kind::string || v.kind == JsonValue::Kind::other ||
          v.kind == JsonValue::Kind::boolean) {
        return v.text == lit.text;
      }
      if (v.kind == JsonValue::Kind::number) {
        double d = 0;
        return v.text == lit.text || (parse_number(lit.text, d) && d == v.number);
      }
      return false;
  }
  return false;
}

bool eval_json(const Condition& c, const JsonValue& v) {
  if (c.op == Op::is_null) return v.kind == JsonValue::Kind::null;
  if (c.op == Op::is_not_null) return v.kind != JsonValue::Kind::null;
  if (v.kind == JsonValue::Kind::null) return false;
  switch (c.op) {
    case Op::eq:
      return json_equals(v, c.values[0]);
    case Op::ne:
      return !json_equals(v, c.values[0]);
    case Op::lt:
      return v.kind == JsonValue::Kind::number && v.number < c.values[0].number;
    case Op::le:
      return v.kind == JsonValue::Kind::number && v.number <= c.values[0].number;
    case Op::gt:
      return v.kind == JsonValue::Kind::number && v.number > c.values[0].number;
    case Op::ge:
      return v.kind == JsonValue::Kind::number && v.number >= c.values[0].number;
    case Op::like:
    case Op::ilike:
      return c.pattern.matches(v.text);
    case Op::in:
      for (const auto& lit : c.values) {
        if (json_equals(v, lit)) return true;
      }
      return false;
    case Op::not_in:
      for (const auto& lit : c.values) {
        if (json_equals(v, lit)) return false;
      }
      return true;
    default:
      return false;
  }
}

// String comparisons; `value` null (absent) only satisfies IS NULL.
bool eval_string(const Condition& c, const std::string_view* value) {
  if (c.op == Op::is_null) return value == nullptr;
  if (c.op == Op::is_not_null) return value != nullptr;
  if (value == nullptr) return false;
  std::string_view v = *value;
  switch (c.op) {
    case Op::eq:
      return v == c.values[0].text;
    case Op::ne:
      return v != c.values[0].text;
    case Op::like:
    case Op::ilike:
      return c.pattern.matches(v);
    case Op::in:
      for (const auto& lit : c.values) {
        if (v == lit.text) return true;
      }
      return false;
    case Op::not_in:
      for (const auto& lit : c.values) {
        if (v == lit.text) return false;
      }
      return true;
    default:
      return false;
  }
}

bool eval_number(const Condition& c, int64_t value) {
  double v = static_cast<double>(value);
  double lit = c.values[0].number;
  switch (c.op) {
    case Op::eq:
      return v == lit;
    case Op::ne:
      return v != lit;
    case Op::lt:
      return v < lit;
    case Op::le:
      return v <= lit;
    case Op::gt:
      return v > lit;
    case Op::ge:
      return v >= lit;
    default:
      return false;
  }
}

const std::string* find_in(const StringMap& map, std::string_view key) {
  for (const auto& [k, v] : map) {
    if (k == key) return &v;
  }
  return nullptr;
}

// The latest valid assessment of a kind with a name: by last_update_time (create_time when
// unset); on a tie the later one in the list wins. Invalid (overridden) ones never count.
const Assessment* latest_valid(std::span<const Assessment> assessments, bool feedback,
                               std::string_view name) {
  const Assessment* best = nullptr;
  UnixNanos best_time = 0;
  for (const auto& a : assessments) {
    if (!a.valid || a.assessment_name != name) continue;
    if (feedback ? !a.is_feedback() : !a.is_expectation()) continue;
    UnixNanos t = a.last_update_time != 0 ? a.last_update_time : a.create_time;
    if (best == nullptr || t >= best_time) {
      best = &a;
      best_time = t;
    }
  }
  return best;
}

bool eval_assessment(const Condition& c, std::span<const Assessment> assessments) {
  bool feedback = c.field == Field::feedback;
  const Assessment* a = latest_valid(assessments, feedback, c.key);
  JsonValue v;
  if (a != nullptr) {
    v = classify(feedback ? std::get<Feedback>(a->value).value
                          : std::get<Expectation>(a->value).value);
  }
  return eval_json(c, v);
}

// span.attributes.<key> values are JSON; strings compare by content, others by JSON text.
bool eval_span_attribute(const Condition& c, const Span& s) {
  for (const auto& [k, json] : s.attributes) {
    if (k != c.key) continue;
    JsonValue v = classify(json);
    if (v.kind == JsonValue::Kind::null) return false;
    return eval_string(c, &v.text);
  }
  return false;
}

bool eval_span(const Condition& c, const Span& s) {
  std::string_view v;
  switch (c.field) {
    case Field::span_name:
      v = s.name;
      break;
    case Field::span_type:
      v = s.span_type.empty() ? std::string_view("UNKNOWN") : std::string_view(s.span_type);
      break;
    case Field::span_status:
      v = to_string(s.status);
      break;
    case Field::span_attribute:
      return eval_span_attribute(c, s);
    case Field::span_content:
      return c.pattern.matches(s.inputs) || c.pattern.matches(s.outputs);
    default:
      return false;
  }
  return eval_string(c, &v);
}

}  // namespace

bool matches(const Condition& c, const Trace& trace) {
  const TraceInfo& info = trace.trace_info;
  switch (c.field) {
    case Field::trace_status: {
      std::string_view v = to_string(info.state);
      return eval_string(c, &v);
    }
    case Field::trace_timestamp_ms:
      return eval_number(c, info.request_time / 1'000'000);
    case Field::trace_execution_time_ms:
      return eval_number(c, info.execution_duration_ns / 1'000'000);
    case Field::trace_end_time_ms:
      return eval_number(c, info.request_time / 1'000'000 + info.execution_duration_ns / 1'000'000);
    case Field::trace_name: {
      std::string_view v;
      if (const std::string* tag = find_in(info.tags, "mlflow.traceName")) {
        v = *tag;
      } else if (const Span* root = trace.root_span()) {
        v = root->name;
      } else {
        return eval_string(c, nullptr);
      }
      return eval_string(c, &v);
    }
    case Field::trace_request_id: {
      std::string_view v = info.trace_id;
      return eval_string(c, &v);
    }
    case Field::trace_client_request_id: {
      std::string_view v = info.client_request_id;
      return eval_string(c, &v);
    }
    case Field::tag:
    case Field::metadata: {
      const std::string* s =
          find_in(c.field == Field::tag ? info.tags : info.trace_metadata, c.key);
      if (s == nullptr) return eval_string(c, nullptr);
      std::string_view v = *s;
      return eval_string(c, &v);
    }
    case Field::span_name:
    case Field::span_type:
    case Field::span_status:
    case Field::span_attribute:
    case Field::span_content:
      for (const Span& s : trace.spans) {
        if (eval_span(c, s)) return true;
      }
      return false;
    case Field::feedback:
    case Field::expectation:
      return eval_assessment(c, info.assessments);
  }
  return false;
}

bool Filter::matches(const Trace& trace) const {
  return first_unmatched(trace) < 0;
}

int Filter::first_unmatched(const Trace& trace) const {
  for (size_t i = 0; i < _conditions.size(); ++i) {
    if (!filter::matches(_conditions[i], trace)) return static_cast<int>(i);
  }
  return -1;
}

bool Filter::matches_assessments(std::span<const Assessment> assessments) const {
  for (const Condition& c : _conditions) {
    if ((c.field == Field::feedback || c.field == Field::expectation) &&
        !eval_assessment(c, assessments)) {
      return false;
    }
  }
  return true;
}

namespace {
std::vector<std::string> names_of(const std::vector<Condition>& conditions, Field field) {
  std::vector<std::string> out;
  for (const Condition& c : conditions) {
    if (c.field == field && std::find(out.begin(), out.end(), c.key) == out.end())
      out.push_back(c.key);
  }
  return out;
}
}  // namespace

std::vector<std::string> Filter::referenced_feedback_names() const {
  return names_of(_conditions, Field::feedback);
}
std::vector<std::string> Filter::referenced_expectation_names() const {
  return names_of(_conditions, Field::expectation);
}

Result<Filter> parse_filter(std::string_view text, ErrorPosition* error_position) {
  Filter f;
  Parser parser(text);
  if (auto failure = parser.run(f._conditions)) {
    ErrorPosition pos = detail::position_of(text, failure->offset);
    if (error_position) *error_position = pos;
    bool multiline = text.find('\n') != std::string_view::npos;
    std::string where =
        multiline ? "line " + std::to_string(pos.line) + ", column " + std::to_string(pos.column)
                  : "column " + std::to_string(pos.column);
    return Status::invalid_argument("filter: " + where + ": " + failure->message);
  }
  f._text = std::string(text);
  for (const Condition& c : f._conditions) {
    if (c.field == Field::feedback || c.field == Field::expectation) {
      f._references_assessments = true;
    } else {
      f._needs_trace = true;
    }
  }
  return f;
}

}  // namespace tracefeed::filter
