# Options. CORRAL_DEVELOP is a meta-option (reproc's idea) used by the dev/asan presets.
option(CORRAL_BUILD_TESTS "Build the test suite" ${corral_main_project})
option(CORRAL_BUILD_APPS "Build the corral command-line program" ${corral_main_project})
option(CORRAL_BUILD_EXAMPLES "Build the examples" ${corral_main_project})
option(CORRAL_BUILD_BENCH "Build the benchmarks (needs Google Benchmark)" OFF)
option(CORRAL_BUILD_FUZZERS "Build the libFuzzer targets (needs clang; the fuzz preset)" OFF)
option(CORRAL_WARNINGS "Enable compiler warnings" ${corral_main_project})
option(CORRAL_WERROR "Treat warnings as errors" OFF)
set(CORRAL_SANITIZE "" CACHE STRING "Comma-separated sanitizers, e.g. address,undefined")

# ccache makes CI rebuilds cheap; used when present, never required.
find_program(CORRAL_CCACHE ccache)
if(CORRAL_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    set(CMAKE_CXX_COMPILER_LAUNCHER ${CORRAL_CCACHE})
endif()
