#!/usr/bin/env bash
# Builds the JavaScript order-number module into order_number_js.wasm with
# componentize-js (from npm: `npm ci` here installs the pinned version). Its build
# step loads @bytecodealliance/preview2-shim, which componentize-js does not list as a
# dependency, so package.json pins that too.
#
# The `-d` list leaves out every WASI feature of the JavaScript runtime (stdio,
# random, clocks, http, fetch-event): a flow module talks to kefu through
# kefu:flow/host only, and kefu refuses a component that imports HTTP or sockets.
set -euo pipefail
cd "$(dirname "$0")"
OUT=$(realpath -m "${1:-order_number_js.wasm}")
COMPONENTIZE_JS=${COMPONENTIZE_JS:-node_modules/.bin/componentize-js}
[ -x "$COMPONENTIZE_JS" ] || npm ci --no-audit --no-fund --silent
"$COMPONENTIZE_JS" module.js --wit ../../../wit --world-name flow-module \
  -d stdio random clocks http fetch-event -o "$OUT"
ls -l "$OUT"
