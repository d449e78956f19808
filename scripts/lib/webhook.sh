# Shared shell helpers: sign and send Standard Webhooks with openssl and curl.
# Sourced by scripts/run and scripts/send-webhook.

# The documented DEMO key of the `demo` source (active only with gateway --demo). Not a secret.
TRADEPIPE_DEMO_SECRET='whsec_dHJhZGVwaXBlLWRlbW8tc2VjcmV0'

# hex of the raw key inside a whsec_<base64> secret
webhook_key_hex() {
  printf '%s' "${1#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n'
}

# webhook_signature SECRET ID TIMESTAMP BODY  ->  v1,<base64 HMAC-SHA256 of id.timestamp.body>
webhook_signature() {
  local key
  key=$(webhook_key_hex "$1")
  printf 'v1,%s' "$(printf '%s' "$2.$3.$4" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)"
}

# send_webhook URL SECRET BODY [ID]  ->  prints the HTTP status and the body
send_webhook() {
  local url=$1 secret=$2 body=$3 id=${4:-msg_$(date +%s%N)} ts
  ts=$(date +%s)
  curl -sS -X POST "$url" -H 'content-type: application/json' \
    -H "webhook-id: $id" -H "webhook-timestamp: $ts" \
    -H "webhook-signature: $(webhook_signature "$secret" "$id" "$ts" "$body")" \
    -w '\n%{http_code}\n' -d "$body"
}
