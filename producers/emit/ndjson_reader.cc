#include "producers/emit/ndjson_reader.h"

namespace tracefeed::emit {

NdjsonReader::NdjsonReader(std::istream& in, std::string name, size_t max_line_bytes)
    : _in(in), _name(std::move(name)), _max_line_bytes(max_line_bytes) {}

std::string NdjsonReader::where(std::string_view message) const {
  return _name + ":" + std::to_string(_line) + ": " + std::string(message);
}

Status NdjsonReader::next(std::string& line) {
  while (std::getline(_in, line)) {
    ++_line;
    _bytes += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.size() > _max_line_bytes) {
      return Status::invalid_argument(where("line of " + std::to_string(line.size()) + " bytes is over the limit of " +
                                            std::to_string(_max_line_bytes)));
    }
    return Status::ok();
  }
  if (_in.bad()) return Status::io_error(_name + ": read error after line " + std::to_string(_line));
  return Status::not_found(_name + ": end of input");
}

Status check_envelope_line(EventParser& parser, const NdjsonReader& reader, std::string_view line) {
  Envelope e;
  Status s = parser.parse_envelope(line, e);
  if (!s.is_ok()) return Status(s.code(), reader.where(s.message()));
  return Status::ok();
}

}  // namespace tracefeed::emit
