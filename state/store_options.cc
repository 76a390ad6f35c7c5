#include "state/store_options.h"

#include <string>

namespace tracefeed::state {

Status StoreOptions::validate() const {
  std::string problems;
  auto problem = [&](std::string_view field, std::string_view what) {
    if (!problems.empty()) problems += "; ";
    problems += field;
    problems += ": ";
    problems += what;
  };
  if (path.empty()) problem("path", "required");
  if (!memory_budget) {
    if (memory_budget_bytes < 16 * mib) problem("memory_budget_bytes", "must be at least 16 MiB");
    if (!(write_buffer_fraction > 0.0 && write_buffer_fraction <= 0.9)) {
      problem("write_buffer_fraction", "must be in (0, 0.9]");
    }
  }
  if (write_buffer_size_bytes < 64 * 1024) problem("write_buffer_size_bytes", "must be at least 64 KiB");
  if (bloom_bits_per_key < 0 || bloom_bits_per_key > 32) problem("bloom_bits_per_key", "must be in [0, 32]");
  if (block_size_bytes < 1024 || block_size_bytes > 1024 * 1024) {
    problem("block_size_bytes", "must be in [1 KiB, 1 MiB]");
  }
  if (!(memtable_bloom_ratio >= 0.0 && memtable_bloom_ratio <= 0.25)) {
    problem("memtable_bloom_ratio", "must be in [0, 0.25]");
  }
  if (background_jobs < 1 || background_jobs > 64) problem("background_jobs", "must be in [1, 64]");
  if (max_open_files != -1 && max_open_files < 16) problem("max_open_files", "must be -1 or at least 16");
  if (dedup_window.count() < 0) problem("dedup_window", "must not be negative");
  if (problems.empty()) return Status::ok();
  return Status::invalid_argument("state store options: " + problems);
}

}  // namespace tracefeed::state
