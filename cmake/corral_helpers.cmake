# corral_set_target_options(target): warnings and sanitizers in one place.
function(corral_set_target_options target)
    if(CORRAL_WARNINGS)
        # Not -Wnull-dereference: GCC 12 at -O2 reports false positives inside libstdc++.
        # -Wno-restrict: a GCC 12 false positive in std::string (GCC PR 105329).
        # -Wno-mismatched-new-delete: GCC 12 at -O2 pairs Asio's awaitable_frame operator delete with the
        # global operator new once a large coroutine (api_router::route) is inlined; the frame is
        # allocated and freed by Asio's own pair.
        target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wold-style-cast -Wcast-align
                                                 -Wno-missing-field-initializers -Wno-restrict
                                                 -Wno-mismatched-new-delete)
        if(CORRAL_WERROR)
            target_compile_options(${target} PRIVATE -Werror)
        endif()
    endif()
    if(CORRAL_SANITIZE)
        target_compile_options(${target} PRIVATE -fsanitize=${CORRAL_SANITIZE} -fno-omit-frame-pointer
                                                 -fno-sanitize-recover=all)
        target_link_options(${target} PRIVATE -fsanitize=${CORRAL_SANITIZE})
        if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CORRAL_SANITIZE MATCHES "undefined")
            # clang 14's -fsanitize=function cannot emit its check for coroutine frames ("Cannot represent
            # a difference across sections"); the other UBSan checks stay.
            target_compile_options(${target} PRIVATE -fno-sanitize=function)
        endif()
    endif()
endfunction()

# corral_add_test(name SOURCES ... [LIBS ...]): one GoogleTest binary, each test its own ctest case.
function(corral_add_test name)
    cmake_parse_arguments(arg "" "" "SOURCES;LIBS" ${ARGN})
    add_executable(${name} ${arg_SOURCES})
    target_link_libraries(${name} PRIVATE ${arg_LIBS} GTest::gtest GTest::gmock)
    corral_set_target_options(${name})
    gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES TIMEOUT 120)
endfunction()
