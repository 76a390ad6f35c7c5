# Every third-party library comes from Debian's packages (see scripts/install-deps.sh).
# Measured notes on each are in ../shared/spec/PLATFORM.md.
find_package(PkgConfig REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka++ rdkafka)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(RocksDB 7 CONFIG REQUIRED)
find_package(simdjson 3 CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(Threads REQUIRED)
if(TRACEFEED_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()

# jemalloc (Debian's libjemalloc2, the runtime library is enough): the join thread allocates
# per event while librdkafka's threads free fetch buffers; with glibc's malloc that was ~20 % of
# the join thread (malloc_consolidate, arena locks). tracefeed_use_jemalloc(target) links it into
# an executable; never with the sanitizers, which bring their own allocator.
option(TRACEFEED_JEMALLOC "Link the tracefeed binary and the pipeline benchmarks with jemalloc when installed" ON)
if(TRACEFEED_JEMALLOC AND NOT TRACEFEED_SANITIZE)
  find_library(TRACEFEED_JEMALLOC_LIBRARY NAMES jemalloc libjemalloc.so.2)
endif()
function(tracefeed_use_jemalloc target)
  if(TRACEFEED_JEMALLOC_LIBRARY)
    # --no-as-needed: nothing calls jemalloc by name; it replaces malloc by being linked first.
    target_link_libraries(${target} PRIVATE -Wl,--push-state,--no-as-needed ${TRACEFEED_JEMALLOC_LIBRARY} -Wl,--pop-state)
  endif()
endfunction()
