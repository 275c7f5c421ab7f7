#!/usr/bin/env bash
# A walk through kefu's admin API with curl and jq, against a running server:
#
#   KEFU_DEMO_PASSWORD='demo password' cargo run -- serve --demo    # in one terminal
#   KEFU_DEMO_PASSWORD='demo password' examples/admin-api.sh         # in another
set -euo pipefail
BASE=${KEFU_URL:-http://127.0.0.1:8080}
PASSWORD=${KEFU_DEMO_PASSWORD:?set KEFU_DEMO_PASSWORD to the demo password}
json() { curl -sS -H 'content-type: application/json' "$@"; }

echo "== log in as the demo admin"
LOGIN=$(json "$BASE/api/v1/auth/login" -d "{\"tenant\":\"demo\",\"email\":\"admin@demo.kefu\",\"password\":\"$PASSWORD\"}")
TOKEN=$(jq -r .access_token <<<"$LOGIN")
REFRESH=$(jq -r .refresh_token <<<"$LOGIN")
auth=(-H "authorization: Bearer $TOKEN")

echo "== create a skill group with manual accept"
GROUP=$(json "${auth[@]}" "$BASE/api/v1/skill-groups" \
  -d "{\"name\":\"VIP $(date +%s)\",\"routing\":{\"accept_mode\":\"manual\",\"offer_timeout_secs\":20}}")
jq . <<<"$GROUP"
GROUP_ID=$(jq -r .id <<<"$GROUP")

echo "== create an agent in it"
AGENT=$(json "${auth[@]}" "$BASE/api/v1/agents" -d "{
  \"email\":\"vip$(date +%s)@demo.kefu\",\"name\":\"韩梅梅\",\"max_concurrent_sessions\":4,
  \"password\":\"change me please\",\"skill_groups\":[{\"skill_group_id\":\"$GROUP_ID\",\"priority\":1}]}")
jq . <<<"$AGENT"

echo "== a validation error"
json "${auth[@]}" "$BASE/api/v1/agents" -d '{"email":"nope","name":"","password":"x"}' | jq .

echo "== list agents of the group, a page at a time"
curl -sS "${auth[@]}" "$BASE/api/v1/agents?skill_group_id=$GROUP_ID&page=1&page_size=10" | jq '{total, names: [.items[].name]}'

echo "== refresh, then log out"
NEW=$(json "$BASE/api/v1/auth/refresh" -d "{\"refresh_token\":\"$REFRESH\"}")
TOKEN=$(jq -r .access_token <<<"$NEW")
curl -sS -o /dev/null -w 'logout: %{http_code}\n' -X POST -H "authorization: Bearer $TOKEN" "$BASE/api/v1/auth/logout"
curl -sS -H "authorization: Bearer $TOKEN" "$BASE/api/v1/me" | jq .
