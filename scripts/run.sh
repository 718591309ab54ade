#!/usr/bin/env bash
# One command to set up and run the server on embedded defaults (SQLite, in-process cache, channel
# layer and tasks, demo data, no LLM key): http://localhost:${PORT:-7777}/api/v1/docs/
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
py=.venv/bin/python
echo "==> migrating"
$py manage.py migrate --noinput
$py manage.py collectstatic --noinput --verbosity 0
if $py manage.py help seed_demo >/dev/null 2>&1; then
  $py manage.py seed_demo
fi
host=${HOST:-127.0.0.1}
port=${PORT:-7777}
echo "==> serving on http://localhost:${port}/api/v1/ (docs: /api/v1/docs/, admin: /admin/)"
# No --proxy-headers: the client address comes from TRUSTED_PROXY_COUNT alone (README "Production"). Slow
# clients meet the read deadlines HTTP_HEADER_TIMEOUT_SECONDS / HTTP_BODY_TIMEOUT_SECONDS (set in-process).
exec .venv/bin/daphne -b "$host" -p "$port" --websocket_connect_timeout 5 --application-close-timeout 10 \
  majed_vanna.asgi:application
