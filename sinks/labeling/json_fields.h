#pragma once
// Field-level request checks shared by the labeling APIs (tracefeed's, MLflow's label-schema
// routes) and the label-schema parser, so every 400 reads the same way: "<path>: <problem>".

#include <span>
#include <string>
#include <string_view>

#include "core/json_tree.h"
#include "core/result.h"

namespace tracefeed::labeling {

// invalid_argument "<path>: <message>".
[[nodiscard]] Status field_error(std::string_view path, std::string message);

// `s` as a JSON string literal, quotes included (for echoing a bad value back in a message).
[[nodiscard]] std::string json_quoted(std::string_view s);

// The first key of the object `obj` that is in neither `known` nor `extra`, as
// "<path>.<key>: unknown key; expected one of: a, b, c" ("<key>: ..." when `path` is empty).
[[nodiscard]] Status check_known_keys(const JsonTree& obj, std::string_view path,
                                      std::span<const std::string_view> known,
                                      std::span<const std::string_view> extra = {});

}  // namespace tracefeed::labeling
