#include "processors/evaluate/prompts.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tracefeed::evaluate {
namespace {

struct TemplateSpec {
  std::string_view name;
  std::vector<std::string_view> placeholders;
};

const std::vector<TemplateSpec>& template_specs() {
  static const std::vector<TemplateSpec> specs = {
      {"correctness", {"request", "response", "expected_response"}},
      {"correctness_facts", {"request", "response", "expected_facts"}},
      {"relevance_to_query", {"request", "response"}},
      {"retrieval_groundedness", {"request", "response", "context"}},
      {"guidelines", {"guidelines", "request", "response"}},
  };
  return specs;
}

const TemplateSpec* spec_of(std::string_view name) {
  for (const auto& s : template_specs()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// Calls visit(offset, length_of_marker, placeholder_name) for every {{name}} in text.
template <typename Visit>
Status scan_placeholders(std::string_view text, Visit&& visit) {
  size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    const size_t end = text.find("}}", pos + 2);
    if (end == std::string_view::npos) {
      return Status::invalid_argument("unclosed \"{{\" at byte " + std::to_string(pos));
    }
    std::string_view name = text.substr(pos + 2, end - pos - 2);
    visit(pos, end + 2 - pos, name);
    pos = end + 2;
  }
  return Status::ok();
}

}  // namespace

Status PromptLibrary::check_template(std::string_view name, std::string_view text) {
  const TemplateSpec* spec = spec_of(name);
  if (!spec) return Status::invalid_argument("unknown prompt \"" + std::string(name) + "\"");
  std::vector<std::string_view> seen;
  std::string unknown;
  TF_RETURN_IF_ERROR(scan_placeholders(text, [&](size_t, size_t, std::string_view ph) {
    if (std::find(spec->placeholders.begin(), spec->placeholders.end(), ph) == spec->placeholders.end()) {
      if (unknown.empty()) unknown = std::string(ph);
    } else {
      seen.push_back(ph);
    }
  }));
  if (!unknown.empty()) {
    std::string known;
    for (auto p : spec->placeholders) known += (known.empty() ? "" : ", ") + std::string("{{") + std::string(p) + "}}";
    return Status::invalid_argument("unknown placeholder {{" + unknown + "}} (this prompt may use " + known + ")");
  }
  for (auto p : spec->placeholders) {
    if (std::find(seen.begin(), seen.end(), p) == seen.end()) {
      return Status::invalid_argument("placeholder {{" + std::string(p) + "}} is missing");
    }
  }
  return Status::ok();
}

Result<PromptLibrary> PromptLibrary::load(const std::string& dir) {
  PromptLibrary lib;
  for (const auto& [name, text] : builtin_prompt_texts()) {
    std::string body(text);
    std::string origin = "builtin";
    if (!dir.empty()) {
      const std::filesystem::path file = std::filesystem::path(dir) / (std::string(name) + ".txt");
      std::error_code ec;
      if (std::filesystem::exists(file, ec)) {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        if (!in.good() && !in.eof()) return Status::io_error(file.string() + ": cannot read");
        body = ss.str();
        origin = file.string();
      }
    }
    if (Status s = check_template(name, body); !s.is_ok()) return s.with_context(origin == "builtin" ? std::string(name) + " (builtin)" : origin);
    lib._templates.emplace_back(std::string(name), std::move(body));
    lib._origins.emplace_back(std::string(name), std::move(origin));
  }
  for (const auto& spec : template_specs()) {
    if (!lib.find(spec.name)) return Status::internal("prompt " + std::string(spec.name) + " is not built in");
  }
  return lib;
}

const std::string* PromptLibrary::find(std::string_view name) const noexcept {
  for (const auto& [n, t] : _templates) {
    if (n == name) return &t;
  }
  return nullptr;
}

Result<std::string> PromptLibrary::render(std::string_view name, const PromptVars& vars) const {
  const std::string* text = find(name);
  if (!text) return Status::not_found("prompt \"" + std::string(name) + "\" does not exist");
  size_t extra = 0;
  for (const auto& [k, v] : vars) extra += v.size();
  std::string out;
  out.reserve(text->size() + extra);
  size_t copied = 0;
  Status missing;
  TF_RETURN_IF_ERROR(scan_placeholders(*text, [&](size_t pos, size_t len, std::string_view ph) {
    out.append(*text, copied, pos - copied);
    copied = pos + len;
    auto it = std::find_if(vars.begin(), vars.end(), [&](const auto& kv) { return kv.first == ph; });
    if (it == vars.end()) {
      if (missing.is_ok()) missing = Status::invalid_argument("prompt " + std::string(name) + ": no value for {{" + std::string(ph) + "}}");
      return;
    }
    out += it->second;
  }));
  TF_RETURN_IF_ERROR(missing);
  out.append(*text, copied, std::string::npos);
  return out;
}

}  // namespace tracefeed::evaluate
