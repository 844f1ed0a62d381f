#!/bin/bash
# curl_runtime.sh: a second, independent Runtime API client (bash + curl) for
# stackd's tests: echoes each event back; for the event "big" it answers
# 7,000,000 bytes (over the 6 MB limit); for "fail" it posts to /error.
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
for _ in $(seq 1 1000); do
  hdr=$(mktemp) body=$(mktemp)
  curl -s -D "$hdr" -o "$body" "$api/invocation/next" || exit 1
  id=$(tr -d '\r' < "$hdr" | awk -F': ' 'tolower($1)=="lambda-runtime-aws-request-id"{print $2}')
  [ -n "$id" ] || exit 1
  echo "event for $id: $(head -c 100 "$body")"
  if [ "$(cat "$body")" = '"big"' ]; then
    head -c 7000000 /dev/zero | tr '\0' 'a' |
      curl -s -o /dev/null -X POST "$api/invocation/$id/response" --data-binary @-
  elif [ "$(cat "$body")" = '"fail"' ]; then
    curl -s -o /dev/null -X POST "$api/invocation/$id/error" \
      -H 'Lambda-Runtime-Function-Error-Type: Function.Failed' \
      --data-binary '{"errorMessage":"asked to fail","errorType":"Failed"}'
  else
    curl -s -o /dev/null -X POST "$api/invocation/$id/response" --data-binary "@$body"
  fi
  rm -f "$hdr" "$body"
done
