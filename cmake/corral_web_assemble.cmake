# Assembles the web page corrald serves: the page's own files (web/src) and the third-party
# modules it imports, copied from web/node_modules (pinned by web/package-lock.json, installed by
# scripts/install-deps.sh), each with a gzip copy beside it that corrald sends to clients that take
# gzip. Run by web/CMakeLists.txt as `cmake -DSRC=... -DMODULES=... -DOUT=... -P this-file`.
if(NOT EXISTS "${MODULES}/@xterm/xterm/lib/xterm.mjs")
    message(FATAL_ERROR "${MODULES} has no @xterm/xterm: run scripts/install-deps.sh "
                        "(it runs `npm ci` in web/) before building the web page")
endif()
file(REMOVE_RECURSE "${OUT}")
file(COPY "${SRC}/" DESTINATION "${OUT}")
set(vendor
    "@xterm/xterm/lib/xterm.mjs"
    "@xterm/xterm/css/xterm.css"
    "@xterm/addon-fit/lib/addon-fit.mjs"
    "@xterm/addon-search/lib/addon-search.mjs")
foreach(file IN LISTS vendor)
    get_filename_component(name "${file}" NAME)
    file(READ "${MODULES}/${file}" text)
    # The source maps stay in node_modules: a map reference would only make browsers ask for a 404.
    string(REGEX REPLACE "\n//# sourceMappingURL=[^\n]*\n?$" "\n" text "${text}")
    file(WRITE "${OUT}/vendor/${name}" "${text}")
endforeach()
file(GLOB_RECURSE served LIST_DIRECTORIES false "${OUT}/*.html" "${OUT}/*.js" "${OUT}/*.mjs" "${OUT}/*.css"
     "${OUT}/*.svg" "${OUT}/*.json")
foreach(file IN LISTS served)
    execute_process(COMMAND gzip -9 -n -k -f "${file}" RESULT_VARIABLE failed)
    if(failed)
        message(FATAL_ERROR "gzip ${file} failed")
    endif()
endforeach()
