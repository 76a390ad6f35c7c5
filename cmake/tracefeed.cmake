# simdjson's On-Demand API picks its SIMD kernel at compile time, so the target ISA matters:
# without AVX2 + PCLMUL it silently runs the scalar fallback (a test in core/ checks which). Build for x86-64-v3 (Haswell and later)
# when this machine has it; set TRACEFEED_ARCH="" to build a portable binary.
if(NOT DEFINED TRACEFEED_ARCH)
  set(_arch "")
  if(EXISTS /proc/cpuinfo)
    file(READ /proc/cpuinfo _cpuinfo LIMIT 8192)
    if(_cpuinfo MATCHES " avx2 " AND _cpuinfo MATCHES " bmi2 " AND _cpuinfo MATCHES " pclmulqdq ")
      set(_arch "x86-64-v3")
    endif()
  endif()
  set(TRACEFEED_ARCH "${_arch}" CACHE STRING "-march for all targets (x86-64-v3 needs AVX2); empty = compiler default")
endif()
if(TRACEFEED_ARCH)
  add_compile_options(-march=${TRACEFEED_ARCH})
  if(TRACEFEED_ARCH STREQUAL "x86-64-v3")
    add_compile_options(-mpclmul)  # simdjson's haswell kernel also needs PCLMUL, not part of v3
  endif()
endif()

# Warnings and sanitizers for tracefeed's own targets only (never third-party code).
add_library(tracefeed_build_flags INTERFACE)
target_compile_options(tracefeed_build_flags INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(TRACEFEED_WERROR)
  target_compile_options(tracefeed_build_flags INTERFACE -Werror)
endif()
if(TRACEFEED_SANITIZE)
  target_compile_options(tracefeed_build_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(tracefeed_build_flags INTERFACE -fsanitize=address,undefined)
endif()

# tracefeed_library(NAME SOURCES ... DEPS ...)
# One library per folder, aliased as tracefeed::NAME; headers are included from the repo root,
# e.g. #include "core/result.h".
function(tracefeed_library name)
  cmake_parse_arguments(L "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(tracefeed_${name} STATIC ${L_SOURCES})
  add_library(tracefeed::${name} ALIAS tracefeed_${name})
  target_include_directories(tracefeed_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(tracefeed_${name} PUBLIC ${L_DEPS} PRIVATE ${L_PRIVATE_DEPS} tracefeed_build_flags)
endfunction()

# tracefeed_test(NAME LABEL unit|component|integration|e2e SOURCES ... DEPS ... [FIXTURES ...]
#                [TEST_PREFIX p.])
# Each GoogleTest case becomes one ctest test carrying the tier label. Two binaries built from
# the same sources (one per tier) need a TEST_PREFIX so their ctest names do not collide.
function(tracefeed_test name)
  cmake_parse_arguments(T "" "LABEL;TIMEOUT;TEST_PREFIX" "SOURCES;DEPS;FIXTURES" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock tracefeed_build_flags)
  if(NOT "gtest_main" IN_LIST T_DEPS)
    target_link_libraries(${name} PRIVATE GTest::gtest_main)
  endif()
  set(props LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT})
  if(T_FIXTURES)
    list(APPEND props FIXTURES_REQUIRED "${T_FIXTURES}")
  endif()
  gtest_discover_tests(${name} TEST_PREFIX "${T_TEST_PREFIX}" PROPERTIES ${props} DISCOVERY_TIMEOUT 60)
endfunction()
