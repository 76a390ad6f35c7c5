// docs/configuration.md must be exactly what the key table generates.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/schema.h"

namespace tracefeed::config {
namespace {

TEST(ConfigDoc, CommittedReferenceIsUpToDate) {
  const std::string path = std::string(TRACEFEED_SOURCE_DIR) + "/docs/configuration.md";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream committed;
  if (in) committed << in.rdbuf();
  const std::string generated = render_configuration_markdown();
  if (committed.str() != generated) {
    // Name the first differing line so the failure is readable without a diff tool.
    std::istringstream a(committed.str()), b(generated);
    std::string la, lb;
    int line = 0;
    while (true) {
      ++line;
      bool ha = static_cast<bool>(std::getline(a, la));
      bool hb = static_cast<bool>(std::getline(b, lb));
      if (!ha && !hb) break;
      if (!ha || !hb || la != lb) break;
    }
    FAIL() << path << " is out of date with config/schema.cc (first difference at line " << line
           << ").\nRegenerate it with:\n  cmake --build <build-dir> --target docs-config\n"
           << "and commit the result.";
  }
}

TEST(ConfigDoc, EveryKeyIsDocumented) {
  const std::string doc = render_configuration_markdown();
  for (const KeySpec& s : config_schema()) {
    EXPECT_NE(doc.find(std::string(s.path)), std::string::npos) << s.path;
  }
}

}  // namespace
}  // namespace tracefeed::config
