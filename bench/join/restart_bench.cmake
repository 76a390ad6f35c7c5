# Restart after kill -9 (PRODUCT.md §8): drives processors/join's join_worker against a real
# broker. Included from bench/CMakeLists.txt: include(join/restart_bench.cmake).
add_executable(restart_bench ${CMAKE_CURRENT_LIST_DIR}/restart_bench.cc)
target_link_libraries(restart_bench PRIVATE tracefeed::route tracefeed::kafka tracefeed_build_flags)
add_dependencies(restart_bench join_worker)
