#pragma once
// A fresh directory per test, removed (with everything in it) when the test ends.

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace tracefeed::state::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tracefeed-state-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) _path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!_path.empty()) std::filesystem::remove_all(_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !_path.empty(); }
  const std::string& path() const { return _path; }
  std::string sub(const std::string& name) const { return _path + "/" + name; }

 private:
  std::string _path;
};

}  // namespace tracefeed::state::testing
