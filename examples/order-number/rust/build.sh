#!/usr/bin/env bash
# Builds the Rust order-number module into order_number_rs.wasm (needs the
# wasm32-wasip2 target: `rustup target add wasm32-wasip2`).
set -euo pipefail
cd "$(dirname "$0")"
OUT=$(realpath -m "${1:-order_number_rs.wasm}")
cargo build --quiet --release --target wasm32-wasip2
cp target/wasm32-wasip2/release/order_number.wasm "$OUT"
ls -l "$OUT"
