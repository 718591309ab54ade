#!/usr/bin/env bash
# Fault drill against a live, production-like server (README "Production" > "When Redis or PostgreSQL is down").
#
# Starts its own redis-server and PostgreSQL cluster (initdb + pg_ctl in a temporary directory, free ports),
# migrates, creates an admin, serves the project with daphne on them (DJANGO_ENV=production), then runs every
# part in scripts/faults/*.sh (redis.sh: Redis killed, then stopped with SIGSTOP; postgres.sh: PostgreSQL
# stopped and started; other parts add their own). Each fault sends a bounded set of requests (health live,
# ready and full, login, an authenticated read, a write) and prints what each got (status, seconds); once the
# dependency is back the server must recover. At the end every write and login is checked against the
# database (scripts/faults_check.py): each 2xx write is there with its audit row, each refused one left
# nothing, each login while Redis was down is audited. The last line is the summary; exit status 0 only when
# nothing was lost and everything recovered. Bounded (about a minute); every process it started is stopped.
#
#   scripts/faults.sh                       # every part
#   FAULTS_PARTS="redis" scripts/faults.sh  # some parts (names of scripts/faults/*.sh, without .sh)
#   FAULTS_KEEP=1 scripts/faults.sh         # keep the working directory (logs, ledger) for a look
#
# Helpers for parts (sourced, so they share this shell): phase NAME, settle, probe_all, expect_not_ready WHAT,
# expect_recovery WHAT, request, record KIND KEY STATUS, problem TEXT, track_pid PID, redis_kill/redis_start/redis_pause/redis_resume,
# pg_stop/pg_start; variables BASE (server URL), ROOT, PY, WORK, SERVER_ENV (array of NAME=value).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
DAPHNE=${DAPHNE:-$(dirname "$PY")/daphne}
WORK=$(mktemp -d /tmp/mv-faults.XXXXXX)
chmod 755 "$WORK"
LEDGER=$WORK/ledger
PROBLEMS=$WORK/problems
: >"$LEDGER"
: >"$PROBLEMS"
REQUEST_TIMEOUT=${FAULTS_REQUEST_TIMEOUT:-10}
CHECK_TIMEOUT=3       # HEALTH_CHECK_TIMEOUT_SECONDS below
LIVE_BUDGET=0.5       # liveness touches neither Redis nor PostgreSQL
HEALTH_BUDGET=3.5     # health and readiness: their check timeout plus a small margin
ADMIN=faults-admin@example.com
ADMIN_PASSWORD=Fault-drill-admin-2024!
PIDS=()
PHASE=setup
TOTAL=0
SEQ=0

log() { printf '==> %s\n' "$*"; }
problem() { printf '  !! %s\n' "$*"; printf '%s: %s\n' "$PHASE" "$*" >>"$PROBLEMS"; }
track_pid() { PIDS+=("$1"); }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_postgres() {  # PostgreSQL refuses to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; done
  [ -n "${REDIS_PID:-}" ] && { kill -CONT "$REDIS_PID" 2>/dev/null; kill -9 "$REDIS_PID" 2>/dev/null; }
  [ -d "$WORK/pg" ] && as_postgres pg_ctl -D "$WORK/pg" -m immediate stop >/dev/null 2>&1
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  if [ -n "${FAULTS_KEEP:-}" ]; then echo "(kept $WORK)"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Redis ------------------------------------------------------------------------------------------------
REDIS_PORT=$(free_port)
redis_start() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
    >>"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  problem "redis-server did not start"
  return 1
}
redis_kill() { kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=; }
redis_pause() { kill -STOP "$REDIS_PID"; }
redis_resume() { kill -CONT "$REDIS_PID"; }

# --- PostgreSQL -------------------------------------------------------------------------------------------
PG_PORT=$(free_port)
pg_start() { as_postgres pg_ctl -D "$WORK/pg" -l "$WORK/pg/server.log" -w -t 30 start >/dev/null; }
pg_stop() { as_postgres pg_ctl -D "$WORK/pg" -m fast -w -t 30 stop >/dev/null; }
pg_init() {
  mkdir -p "$WORK/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
  as_postgres initdb -D "$WORK/pg" -U postgres -A trust -E UTF8 --no-sync >"$WORK/initdb.log" 2>&1
  cat >>"$WORK/pg/postgresql.conf" <<EOF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK/pg'
fsync = off
EOF
  pg_start
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE faults" >/dev/null
}

# --- The server -------------------------------------------------------------------------------------------
# Production settings (DJANGO_ENV=production) on plain HTTP: SECURE_SSL_REDIRECT off, as behind a TLS proxy.
# LOGIN_RATE is raised so the drill's own logins (all from 127.0.0.1) never meet the 5/minute limit, and
# DB_POOL_TIMEOUT lowered so a request waits at most 2 s for PostgreSQL.
SERVER_PORT=$(free_port)
BASE=http://127.0.0.1:$SERVER_PORT
SERVER_ENV=(
  DJANGO_ENV=production
  "SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')"
  ALLOWED_HOSTS=127.0.0.1,localhost
  SECURE_SSL_REDIRECT=false
  LOG_JSON=false
  "MV_DATA_DIR=$WORK/data"
  "DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/faults"
  "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
  DB_POOL_TIMEOUT=2
  HEALTH_CHECK_TIMEOUT_SECONDS=$CHECK_TIMEOUT
  LOGIN_RATE=1000/minute
  DJANGO_SETTINGS_MODULE=majed_vanna.settings
)
manage() { (cd "$ROOT" && env "${SERVER_ENV[@]}" "$PY" manage.py "$@"); }
server_start() {
  (cd "$ROOT" && exec env "${SERVER_ENV[@]}" "$DAPHNE" -b 127.0.0.1 -p "$SERVER_PORT" majed_vanna.asgi:application) \
    >>"$WORK/daphne.log" 2>&1 &
  SERVER_PID=$!
  track_pid "$SERVER_PID"
  for _ in $(seq 300); do
    curl -s -o /dev/null --max-time 1 "$BASE/api/v1/health/live" && return 0
    sleep 0.1
  done
  problem "daphne did not answer"
  tail -20 "$WORK/daphne.log"
  return 1
}

# --- Requests ---------------------------------------------------------------------------------------------
phase() { PHASE=$1; log "$PHASE"; }

# request LABEL METHOD PATH [BODY [TOKEN]]: prints the phase, label, status and seconds; sets STATUS, TIME, RID
request() {
  local label=$1 method=$2 path=$3 body=${4:-} token=${5:-} out
  SEQ=$((SEQ + 1))
  RID=faults-$$-$SEQ
  local args=(-s -o "$WORK/response" -w '%{http_code} %{time_total}' --max-time "$REQUEST_TIMEOUT"
    -X "$method" -H "X-Request-Id: $RID")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  out=$(curl "${args[@]}" "$BASE$path") || out="000 $REQUEST_TIMEOUT"
  STATUS=${out%% *}
  TIME=${out##* }
  TOTAL=$((TOTAL + 1))
  printf '  %-18s %-24s %s %6.3fs\n' "$PHASE" "$label" "$STATUS" "$TIME"
  if [ "$STATUS" = 500 ] || [ "$STATUS" = 000 ]; then problem "$label answered $STATUS"; fi
}
record() { printf '%s %s %s %s\n' "$PHASE" "$1" "$2" "$3" >>"$LEDGER"; }
slower_than() { awk -v t="$1" -v b="$2" 'BEGIN { exit !(t > b) }'; }

login() {
  request "POST auth/login" POST /api/v1/auth/login "{\"username\": \"$ADMIN\", \"password\": \"$ADMIN_PASSWORD\"}"
  record login "$RID" "$STATUS"
  if [ "$STATUS" = 200 ]; then
    TOKEN=$("$PY" -c 'import json, sys; print(json.load(sys.stdin)["data"]["access_token"])' <"$WORK/response")
  fi
}

write_user() {
  local name
  name="fault-$(echo "$PHASE" | tr -c 'a-z0-9\n' '-')-$SEQ@example.com"
  request "POST users" POST /api/v1/users \
    "{\"username\": \"$name\", \"password\": \"Quiet-harbor-7319!\", \"role\": \"normal\"}" "${TOKEN:-}"
  record user "$name" "$STATUS"
}

# The bounded set of requests, with the time budgets every phase must meet.
probe_all() {
  request "GET health/live" GET /api/v1/health/live
  if slower_than "$TIME" "$LIVE_BUDGET"; then problem "health/live took ${TIME}s (budget ${LIVE_BUDGET}s)"; fi
  if [ "$STATUS" != 200 ]; then problem "health/live answered $STATUS"; fi
  request "GET health/ready" GET /api/v1/health/ready
  READY_STATUS=$STATUS
  if slower_than "$TIME" "$HEALTH_BUDGET"; then problem "health/ready took ${TIME}s (budget ${HEALTH_BUDGET}s)"; fi
  request "GET health" GET /api/v1/health
  HEALTH_STATUS=$STATUS
  if slower_than "$TIME" "$HEALTH_BUDGET"; then problem "health took ${TIME}s (budget ${HEALTH_BUDGET}s)"; fi
  login
  request "GET users (auth)" GET "/api/v1/users?per_page=1" "" "${TOKEN:-}"
  write_user
}

# After causing a fault: wait out the health results cache (HEALTH_CACHE_SECONDS, 2 s), so health reports it.
settle() { sleep 2.2; }

# While a required dependency is down, readiness and health must say so (503).
expect_not_ready() {
  if [ "$READY_STATUS" != 503 ]; then problem "health/ready answered $READY_STATUS while $1 is down"; fi
  if [ "$HEALTH_STATUS" != 503 ]; then problem "health answered $HEALTH_STATUS while $1 is down"; fi
}

# Once the dependency is back: ready within 20 s, then login, read and write all succeed.
expect_recovery() {
  local what=$1 started=$SECONDS
  PHASE="$what-back"
  log "$PHASE"
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/api/v1/health/ready")" = 200 ]; do
    if [ $((SECONDS - started)) -ge 20 ]; then
      problem "not ready 20 s after $what came back"
      return 0
    fi
    sleep 0.5
  done
  printf '  %-18s ready again after %ss\n' "$PHASE" "$((SECONDS - started))"
  probe_all
  if [ "$(tail -2 "$LEDGER" | awk '$2 == "login" { print $4 }')" != 200 ]; then problem "login did not recover"; fi
  if [ "$STATUS" != 201 ]; then problem "writes did not recover (POST users answered $STATUS)"; fi
}

# --- The drill --------------------------------------------------------------------------------------------
started_at=$SECONDS
log "starting redis-server :$REDIS_PORT and PostgreSQL :$PG_PORT in $WORK"
redis_start
pg_init
log "migrating, creating the admin, starting daphne :$SERVER_PORT (DJANGO_ENV=production)"
manage migrate --noinput -v 0 >"$WORK/migrate.log" 2>&1 || { tail -20 "$WORK/migrate.log"; exit 1; }
(export DJANGO_SUPERUSER_PASSWORD=$ADMIN_PASSWORD && manage createsuperuser --noinput --username "$ADMIN") \
  >"$WORK/createsuperuser.log" 2>&1 || { tail -20 "$WORK/createsuperuser.log"; exit 1; }
server_start

phase baseline
probe_all
if [ "$STATUS" != 201 ]; then problem "the baseline write failed"; fi

parts=()
for script in "$ROOT"/scripts/faults/*.sh; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .sh)
  if [ -n "${FAULTS_PARTS:-}" ] && ! [[ " $FAULTS_PARTS " == *" $name "* ]]; then continue; fi
  parts+=("$name")
  if grep -q '^# faults-part: standalone' "$script"; then
    # A part with servers of its own (the worker's) runs as its own process: its traps and options stay its own.
    bash "$script" || problem "the $name part failed (its output is above)"
  else
    # shellcheck source=/dev/null
    source "$script"
  fi
done

phase check
(cd "$ROOT" && env "${SERVER_ENV[@]}" "$PY" scripts/faults_check.py "$LEDGER" "$PROBLEMS" "$TOTAL" \
  "${parts[*]}" "$((SECONDS - started_at))")
