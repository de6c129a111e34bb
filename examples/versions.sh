#!/usr/bin/env bash
# Walks through regenerate, edit and feedback with curl against a running service (offline model is fine):
#
#   TOKEN=$(java -jar target/chat-service.jar dev-token 64b7f0c2a1b2c3d4e5f60718)
#   TOKEN=$TOKEN bash examples/versions.sh
#
# Env: TOKEN (required), API (default http://localhost:8080). Needs curl and jq. Continue needs a reply
# that stopped at max_tokens (set claude.max_tokens low with a real key); see docs/versions.md.
set -euo pipefail
API=${API:-http://localhost:8080}
: "${TOKEN:?set TOKEN (see the comment at the top)}"
H=(-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')

call() { curl -sS -X "$1" "${H[@]}" "$API$2" ${3:+-d "$3"}; }
wait_final() { # session, message, version
  for _ in $(seq 1 100); do
    m=$(call GET "/chats/$1/messages/$2")
    if [[ $(jq -r '.version' <<<"$m") == "$3" && $(jq -r '.status' <<<"$m") =~ ^(completed|failed|cancelled)$ ]]; then
      echo "$m"; return 0
    fi
    sleep 0.2
  done
  echo "reply $2 did not finish" >&2; return 1
}

SID=$(call POST /chats '{"title":"versions demo"}' | jq -r .id)
PAIR=$(call POST "/chats/$SID/messages" '{"content":"Name three prime numbers","clientMessageId":"demo-send-1"}')
UID_=$(jq -r .userMessage.id <<<"$PAIR"); MID=$(jq -r .reply.id <<<"$PAIR")
echo "version 1: $(wait_final "$SID" "$MID" 1 | jq -c '{version, status, content: .content[0:80]}')"

echo "regenerate (twice with the same clientMessageId: the second is a replay):"
call POST "/chats/$SID/messages/$MID/regenerate" '{"clientMessageId":"demo-regen-1"}' | jq -c '{created, version: .reply.version, status: .reply.status}'
call POST "/chats/$SID/messages/$MID/regenerate" '{"clientMessageId":"demo-regen-1"}' | jq -c '{created, version: .reply.version}'
wait_final "$SID" "$MID" 2 | jq -c '{version, earlier: [.versions[].version], content: .content[0:80]}'

echo "edit the question; its reply gets version 3:"
call PATCH "/chats/$SID/messages/$UID_" '{"content":"Name five prime numbers"}' | jq -c '{created, question: .userMessage.content, questionVersion: .userMessage.version}'
wait_final "$SID" "$MID" 3 | jq -c '{version, earlier: [.versions[].version], content: .content[0:80]}'

echo "feedback:"
call PUT "/chats/$SID/messages/$MID/feedback" '{"rating":"up","comment":"nice"}' | jq -c .feedback
call DELETE "/chats/$SID/messages/$MID/feedback" | jq -c '{feedback}'

echo "refusals:"
call POST "/chats/$SID/messages/$UID_/regenerate" | jq -c .error
call POST "/chats/$SID/messages/$MID/continue" | jq -c .error
call PUT "/chats/$SID/messages/$MID/feedback" '{"rating":"meh"}' | jq -c .error.code
