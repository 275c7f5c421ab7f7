#!/usr/bin/env bash
# Builds the Python order-number module into order_number_py.wasm with componentize-py
# (from PyPI; `pip install componentize-py==0.25.1`, or set COMPONENTIZE_PY).
#
# `--stub-wasi` replaces every WASI import of the Python runtime by a stub that traps:
# a flow module needs none of them (it talks to kefu through kefu:flow/host only), and
# kefu refuses a component that imports sockets.
set -euo pipefail
cd "$(dirname "$0")"
COMPONENTIZE_PY=${COMPONENTIZE_PY:-componentize-py}
OUT=${1:-order_number_py.wasm}
"$COMPONENTIZE_PY" -d ../../../wit -w kefu:flow/flow-module componentize --stub-wasi app -o "$OUT"
ls -l "$OUT"
