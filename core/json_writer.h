#pragma once
// A small, fast JSON writer that appends to a caller-owned std::string (reuse it across events:
// no allocation per event once the buffer has grown). Commas are placed automatically.
// Strings are escaped per RFC 8259; they are assumed to be valid UTF-8 (the parser validates
// all input; code that builds strings itself must not produce invalid UTF-8).

#include <cstdint>
#include <string>
#include <string_view>

namespace tracefeed {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : _out(out) {}

  void begin_object() { before_value(); _out.push_back('{'); push(); }
  void end_object() { pop(); _out.push_back('}'); }
  void begin_array() { before_value(); _out.push_back('['); push(); }
  void end_array() { pop(); _out.push_back(']'); }

  // Writes `"k":`; the next call writes its value.
  void key(std::string_view k);

  void string(std::string_view s) { before_value(); append_escaped(_out, s); }
  void boolean(bool b) { before_value(); _out += b ? "true" : "false"; }
  void null() { before_value(); _out += "null"; }
  void int64(int64_t v);
  void uint64(uint64_t v);
  void number(double v);  // shortest round-trip form; NaN/Inf are written as null
  // Inserts already-valid JSON text (a JsonText); empty text is written as null.
  void raw(std::string_view json);

  // key + value shorthands.
  void field(std::string_view k, std::string_view v) { key(k); string(v); }
  void field(std::string_view k, const char* v) { key(k); string(v); }
  void field(std::string_view k, bool v) { key(k); boolean(v); }
  void field_int(std::string_view k, int64_t v) { key(k); int64(v); }
  void field_raw(std::string_view k, std::string_view json) { key(k); raw(json); }

  std::string& buffer() noexcept { return _out; }

  static void append_escaped(std::string& out, std::string_view s);

 private:
  void before_value() {
    if (_after_key) {
      _after_key = false;
    } else if (_depth > 0) {
      if (_has_items & bit()) _out.push_back(',');
      _has_items |= bit();
    }
  }
  uint64_t bit() const noexcept { return uint64_t{1} << (_depth & 63); }
  void push() { ++_depth; _has_items &= ~bit(); }
  void pop() { _has_items &= ~bit(); --_depth; }

  std::string& _out;
  uint64_t _has_items = 0;  // one bit per nesting level (depth is bounded by the parser at 64)
  int _depth = 0;
  bool _after_key = false;
};

}  // namespace tracefeed
