#!/usr/bin/env bash
# One command to set up and pass the checks: lint, format, OpenAPI validation, the test suite.
# Extra arguments go to pytest. DATABASE_URL / REDIS_URL switch it to PostgreSQL / Redis. The test database is
# always created afresh here (--create-db; pytest.ini's --reuse-db is for the local fast loop).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
export MV_DATA_DIR=${MV_DATA_DIR:-$(mktemp -d)}
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> OpenAPI schema"
DJANGO_SETTINGS_MODULE=majed_vanna.settings.test .venv/bin/python manage.py spectacular --validate --fail-on-warn \
  --file "$MV_DATA_DIR/openapi.yaml"
echo "==> pytest (database: ${DATABASE_URL:-embedded SQLite}, cache: ${REDIS_URL:-in-process})"
.venv/bin/python -m pytest --create-db "$@"
