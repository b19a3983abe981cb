# The static CLI. `corral submit` is started once per job by scripts and schedulers, so its start-up
# cost is per-job cost: dynamically linked, the loader maps and relocates eight libraries, which on the
# CI machines takes longer than everything else the command does (10.5 ms vs 4.7 ms for `--version`;
# a static binary starts as fast as /bin/true). Debian ships {fmt} and spdlog only as shared
# libraries, so their compiled parts are built here from Debian's own headers; Boost ships static
# archives. Only a target with the property CORRAL_STATIC_LINK set links these: the link interfaces
# of libcorral and the CLI library choose between the shared and the static set by that property of
# the executable being linked (see the genexes in src/ and apps/corral/), so the daemon, the tests and
# the installed package keep the shared libraries.
option(CORRAL_STATIC_CLI "Link the corral CLI statically (it starts twice as fast)" ON)
if(CORRAL_STATIC_CLI AND CORRAL_SANITIZE)
    message(STATUS "corral: sanitizer build, so the CLI is linked dynamically")
    set(CORRAL_STATIC_CLI OFF)
endif()
if(CORRAL_STATIC_CLI)
    find_library(CORRAL_BOOST_JSON_A NAMES libboost_json.a)
    find_library(CORRAL_BOOST_CONTAINER_A NAMES libboost_container.a)
    find_library(CORRAL_BOOST_PROGRAM_OPTIONS_A NAMES libboost_program_options.a)
    # OpenSSL's archives (libssl-dev) for https:// URLs.
    find_library(CORRAL_OPENSSL_SSL_A NAMES libssl.a)
    find_library(CORRAL_OPENSSL_CRYPTO_A NAMES libcrypto.a)
    find_library(CORRAL_RE2_A NAMES libre2.a)
    # libedit's and what it needs (terminfo, libbsd, libmd) for `corral console`.
    find_library(CORRAL_EDIT_A NAMES libedit.a)
    find_library(CORRAL_TINFO_A NAMES libtinfo.a)
    find_library(CORRAL_BSD_A NAMES libbsd.a)
    find_library(CORRAL_MD_A NAMES libmd.a)
    if(NOT CORRAL_BOOST_JSON_A OR NOT CORRAL_BOOST_CONTAINER_A OR NOT CORRAL_BOOST_PROGRAM_OPTIONS_A
       OR NOT CORRAL_OPENSSL_SSL_A OR NOT CORRAL_OPENSSL_CRYPTO_A OR NOT CORRAL_RE2_A
       OR NOT CORRAL_EDIT_A OR NOT CORRAL_TINFO_A OR NOT CORRAL_BSD_A OR NOT CORRAL_MD_A)
        message(WARNING "corral: Boost's, OpenSSL's, RE2's or libedit's static archives are missing, so the CLI is linked dynamically")
        set(CORRAL_STATIC_CLI OFF)
    endif()
endif()

# Used in link interfaces: true while linking a target that asked for static dependencies.
set(corral_static_link "$<BOOL:$<TARGET_PROPERTY:CORRAL_STATIC_LINK>>")
set(corral_shared_link "$<NOT:${corral_static_link}>")

if(CORRAL_STATIC_CLI)
    add_library(corral_static_deps STATIC cmake/static_deps/fmt.cpp cmake/static_deps/spdlog.cpp)
    # The same configuration the shared spdlog target gives its users, minus SPDLOG_SHARED_LIB.
    target_compile_definitions(corral_static_deps PUBLIC SPDLOG_COMPILED_LIB SPDLOG_FMT_EXTERNAL)
    target_link_libraries(corral_static_deps PUBLIC
        ${CORRAL_BOOST_JSON_A} ${CORRAL_BOOST_CONTAINER_A} Threads::Threads)
    set_target_properties(corral_static_deps PROPERTIES EXCLUDE_FROM_ALL ON)
endif()
