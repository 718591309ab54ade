#!/usr/bin/env bash
# Fuzz the whole API against its own OpenAPI schema with schemathesis (README "API fuzzing").
#
# Starts a throwaway server (fresh MV_DATA_DIR, SQLite, in-process cache) on a free port of 127.0.0.1 and runs
# schemathesis (checks: server errors, response schema, status codes, content types): as an admin over every
# operation except the two that end the run's own session or change what the server talks to, then
# anonymously, then `PUT config` and `auth/logout` each on its own with a fresh admin. Then stops the server.
# Exit status: non-zero when schemathesis found a failure. Nothing leaves 127.0.0.1.
#
# schemathesis lives in its own virtualenv (FUZZ_VENV, default /tmp/st-venv), not in the project's.
# Knobs: FUZZ_MAX_EXAMPLES (per operation, default 30), FUZZ_SEED (default 1), FUZZ_WORKERS (default 1),
# FUZZ_REPORT_DIR (default: a temporary directory, kept and printed), FUZZ_INCLUDE (a regex of operations,
# e.g. '^POST /api/v1/agent/': only those, in the admin and anonymous runs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=${FUZZ_VENV:-/tmp/st-venv}
st_version=${SCHEMATHESIS_VERSION:-4.32.5}
max_examples=${FUZZ_MAX_EXAMPLES:-30}
seed=${FUZZ_SEED:-1}
workers=${FUZZ_WORKERS:-1}
report_dir=${FUZZ_REPORT_DIR:-$(mktemp -d /tmp/mv-fuzz-report.XXXXXX)}

if [ ! -x "$venv/bin/st" ]; then
  py=${PYTHON:-python3.11}
  echo "==> creating $venv with schemathesis $st_version"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$st_version"
fi
bash scripts/bootstrap.sh

data_dir=$(mktemp -d /tmp/mv-fuzz-data.XXXXXX)
port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password="fuzz-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(18))')"
base="http://127.0.0.1:$port/api/v1"

export MV_DATA_DIR=$data_dir
# Throttling must not hide bugs: raise the login limit and the default rate. Declared per-endpoint rates
# (e.g. 10/hour on PUT config) still answer 429, which the schema documents.
export LOGIN_RATE=100000/minute LOGIN_FAILURE_LIMIT=100000 DEFAULT_THROTTLE_RATE=1000000/hour
unset DATABASE_URL REDIS_URL
export DJANGO_ENV=development DJANGO_DEBUG=0

echo "==> preparing a throwaway server in $data_dir"
.venv/bin/python manage.py migrate --noinput --verbosity 0
# The demo data source as the default one, so the operations that reach a data source (chat, the semantic
# layer's scan, evaluation runs) are fuzzed against one that answers (else they are 503, the source being down).
.venv/bin/python manage.py seed_demo >/dev/null
.venv/bin/daphne -b 127.0.0.1 -p "$port" majed_vanna.asgi:application >"$data_dir/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "$base/health/live" >/dev/null 2>&1 && break
  sleep 0.2
done

# A fresh admin for each authenticated run: the fuzzer may rename or otherwise change the account it runs as
# (it is allowed to edit its own profile), so a later run cannot count on the previous one's login.
login_new_admin() {
  local username="fuzz-$1@example.com"
  DJANGO_SUPERUSER_USERNAME=$username DJANGO_SUPERUSER_PASSWORD=$password \
    .venv/bin/python manage.py createsuperuser --noinput >/dev/null
  curl -fsS -X POST "$base/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$username\", \"password\": \"$password\"}" |
    .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["data"]["access_token"])'
}
token=$(login_new_admin admin)
# The runtime configuration's default rate (1000/hour) would otherwise apply to every undeclared endpoint.
curl -fsS -X PUT "$base/config" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"rate_limit_max_requests": 100000, "rate_limit_window": 60}' >/dev/null

checks=not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance
# No automatic sign-up: the anonymous run must stay anonymous.
printf '[auth]\nauto-signup = false\n' >"$data_dir/schemathesis.toml"
st=(env -C "$data_dir" "$venv/bin/st" --config-file "$data_dir/schemathesis.toml" run "$base/schema/")
include=()
[ -n "${FUZZ_INCLUDE:-}" ] && include=(--include-name-regex "$FUZZ_INCLUDE")
common=(--checks "$checks" --max-examples "$max_examples" --seed "$seed" --workers "$workers"
  --phases examples,coverage,fuzzing --request-timeout 20 --max-failures 200
  --suppress-health-check all --no-color --report junit)
# auth/logout revokes the token the run uses, and PUT config can point the LLM or the data source at any
# host, which the health checks and connection tests would then contact: both run last, each on its own.
last_ops='^(PUT /api/v1/config|POST /api/v1/auth/logout)$'
status=0

echo "==> schemathesis as an admin (every operation but PUT config and auth/logout)"
"${st[@]}" "${common[@]}" -H "Authorization: Bearer $token" \
  --exclude-name-regex "$last_ops" "${include[@]}" --report-dir "$report_dir/admin" || status=1

echo "==> schemathesis without credentials (every operation but PUT config and auth/logout)"
"${st[@]}" "${common[@]}" --exclude-name-regex "$last_ops" "${include[@]}" --report-dir "$report_dir/anonymous" || status=1

for op in "PUT /api/v1/config" "POST /api/v1/auth/logout"; do
  echo "==> schemathesis as a fresh admin on $op"
  token=$(login_new_admin "last-${op%% *}")
  "${st[@]}" "${common[@]}" -H "Authorization: Bearer $token" --include-name "$op" \
    --report-dir "$report_dir/${op%% *}" || status=1
done

echo "==> reports in $report_dir; server log in $data_dir/server.log"
exit $status
