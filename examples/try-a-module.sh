#!/usr/bin/env bash
# Builds the example flow module in examples/hello-module, installs it in a running kefu
# through the admin API, and tries two steps of it without a flow:
#
#   KEFU_DEMO_PASSWORD='demo password' cargo run -- serve --demo    # in one terminal
#   KEFU_DEMO_PASSWORD='demo password' examples/try-a-module.sh      # in another
set -euo pipefail
cd "$(dirname "$0")"
BASE=${KEFU_URL:-http://127.0.0.1:8080}
PASSWORD=${KEFU_DEMO_PASSWORD:?set KEFU_DEMO_PASSWORD to the demo password}

echo "== build the module for wasm32-wasip2"
cargo build --quiet --release --target wasm32-wasip2 --manifest-path hello-module/Cargo.toml
WASM=hello-module/target/wasm32-wasip2/release/hello_module.wasm
ls -l "$WASM"

TOKEN=$(curl -sS "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"tenant\":\"demo\",\"email\":\"admin@demo.kefu\",\"password\":\"$PASSWORD\"}" | jq -r .access_token)
auth=(-H "authorization: Bearer $TOKEN")

echo "== install it (a second run answers 409 plugin_exists and reuses the installed one)"
INSTALLED=$(curl -sS "${auth[@]}" -H 'content-type: application/wasm' --data-binary @"$WASM" "$BASE/api/v1/plugins")
jq '{id, name, version, exits, limits, error}' <<<"$INSTALLED"
ID=$(jq -r '.id // empty' <<<"$INSTALLED")
if [ -z "$ID" ]; then
  ID=$(curl -sS "${auth[@]}" "$BASE/api/v1/plugins" | jq -r '.[] | select(.name=="hello" and .version=="1.0.0") | .id')
fi

echo "== a step on entry"
STEP=$(curl -sS "${auth[@]}" -H 'content-type: application/json' "$BASE/api/v1/plugins/$ID/dry-run" \
  -d '{"config": {}, "trigger": {"type": "entered"}, "user_nickname": "小明"}')
jq . <<<"$STEP"

echo "== the user answers"
curl -sS "${auth[@]}" -H 'content-type: application/json' "$BASE/api/v1/plugins/$ID/dry-run" \
  -d '{"config": {}, "trigger": {"type": "user_message", "text": "是"}, "turn": 1}' | jq .

echo "== a bad configuration"
curl -sS "${auth[@]}" -H 'content-type: application/json' "$BASE/api/v1/plugins/$ID/validate-config" \
  -d '{"config": {"question": 42}}' | jq .

echo "== the module's metrics"
curl -sS "${auth[@]}" "$BASE/api/v1/plugins/$ID" | jq .metrics
