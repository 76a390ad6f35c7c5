// tracefeed_config_doc: prints docs/configuration.md, generated from the config key table.
//   tracefeed_config_doc                 -> stdout
//   tracefeed_config_doc --output FILE   -> writes FILE (used by the `docs-config` target)

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "config/schema.h"

int main(int argc, char** argv) {
  const std::string text = tracefeed::config::render_configuration_markdown();
  if (argc == 1) {
    std::cout << text;
    return std::cout ? 0 : 1;
  }
  if (argc == 3 && std::strcmp(argv[1], "--output") == 0) {
    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::fprintf(stderr, "tracefeed_config_doc: cannot write %s\n", argv[2]);
      return 1;
    }
    return 0;
  }
  std::fprintf(stderr, "usage: tracefeed_config_doc [--output FILE]\n");
  return 2;
}
