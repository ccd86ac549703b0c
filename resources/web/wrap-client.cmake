# Builds /switchboard.js (classic script) and /switchboard.mjs (ES module) from the one
# source, switchboard.src.js. Run by the build (resources/web/CMakeLists.txt):
#   cmake -DSOURCE=switchboard.src.js -DOUTPUT_DIR=dir -DVERSION=x.y.z -P wrap-client.cmake
foreach(var SOURCE OUTPUT_DIR VERSION)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "wrap-client.cmake: -D${var}= is required")
    endif()
endforeach()

file(READ "${SOURCE}" body)
string(REPLACE "@SWITCHBOARD_VERSION@" "${VERSION}" body "${body}")

set(notice "// Generated from resources/web/switchboard.src.js by resources/web/wrap-client.cmake.")

file(WRITE "${OUTPUT_DIR}/switchboard.js"
    "// Switchboard ${VERSION} browser client, classic script: defines window.Switchboard.\n"
    "// The same client as an ES module: /switchboard.mjs. Types: /switchboard.d.ts.\n"
    "${notice}\n"
    "(function () {\n'use strict';\n\n"
    "${body}\n"
    "globalThis.Switchboard = Switchboard;\n"
    "})();\n")
file(WRITE "${OUTPUT_DIR}/switchboard.mjs"
    "// Switchboard ${VERSION} browser client, ES module:\n"
    "//   import Switchboard from '/switchboard.mjs';\n"
    "// The same client as a classic script: /switchboard.js. Types: /switchboard.d.ts.\n"
    "${notice}\n\n"
    "${body}\n"
    "export { Switchboard };\n"
    "export default Switchboard;\n")
