"""The database settings: Django's psycopg pool on PostgreSQL (sized from the environment), SQLite as it
was, connection health checks where Django reads them, and pools that do not cross a fork."""

import json
import os
import secrets
import subprocess
import sys
import threading

import pytest
from django.db import connection, connections

from majed_vanna.tests.servers import BASE_DIR, server_env

ON_POSTGRES = connection.vendor == "postgresql"
PROBE = (
    "import json, majed_vanna.settings as s; "
    "print(json.dumps({'db': s.DATABASES['default'], 'top_level': 'CONN_HEALTH_CHECKS' in vars(s)}, default=str))"
)


def settings_of(tmp_path, **extra) -> dict:
    """``majed_vanna.settings`` as a fresh process with this environment loads it (nothing connects)."""
    env = server_env(data_dir=tmp_path, settings_module="majed_vanna.settings", extra=extra)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def production(tmp_path, **extra) -> dict:
    return settings_of(tmp_path, DJANGO_ENV="production", SECRET_KEY=secrets.token_urlsafe(64), **extra)


@pytest.mark.slow  # evaluates the settings in a fresh interpreter
def test_postgresql_uses_the_pool_sized_from_the_environment(tmp_path):
    loaded = production(
        tmp_path, DATABASE_URL="postgres://app@127.0.0.1:5432/app", DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="7"
    )
    db = loaded["db"]
    assert db["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 7, "timeout": 5}
    assert db["CONN_MAX_AGE"] == 0  # Django's pool refuses persistent connections


@pytest.mark.slow  # evaluates the settings in a fresh interpreter
def test_production_connection_health_checks_are_where_django_reads_them(tmp_path):
    loaded = production(tmp_path, DATABASE_URL="postgres://app@127.0.0.1:5432/app")
    assert loaded["db"]["CONN_HEALTH_CHECKS"] is True
    assert loaded["top_level"] is False  # a top-level CONN_HEALTH_CHECKS is no Django setting: it did nothing


@pytest.mark.slow  # evaluates the settings in a fresh interpreter
def test_the_pool_can_be_switched_off_and_sqlite_has_none(tmp_path):
    off = settings_of(tmp_path, DATABASE_URL="postgres://app@127.0.0.1:5432/app", DB_POOL="false")
    assert "pool" not in off["db"]["OPTIONS"]
    sqlite = settings_of(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert sqlite["db"]["OPTIONS"] == {"timeout": 20, "transaction_mode": "IMMEDIATE"}


def backend_pid() -> int:
    """A new thread's connection (as a request's) runs one query, then is closed like at a request's end."""
    pids = []

    def work():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return pids[0]


@pytest.mark.skipif(not ON_POSTGRES, reason="the pool is PostgreSQL's: run with DATABASE_URL=postgres://...")
def test_postgresql_requests_borrow_pooled_connections(transactional_db):
    from psycopg_pool import ConnectionPool

    assert isinstance(connection.pool, ConnectionPool)
    pids = [backend_pid() for _ in range(12)]
    # Twelve "requests", a handful of server sessions: the pool's, not a new connection each time.
    assert len(set(pids)) <= connection.pool.get_stats()["pool_size"] < 12, pids


def test_a_forked_child_forgets_the_inherited_pools():
    from django.db.backends.postgresql.base import DatabaseWrapper

    DatabaseWrapper._connection_pools["fork-test"] = object()
    try:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report what it inherited, then leave at once
            os.write(write, b"kept" if "fork-test" in DatabaseWrapper._connection_pools else b"gone")
            os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        assert os.read(read, 16) == b"gone"
        assert "fork-test" in DatabaseWrapper._connection_pools  # the parent keeps its own
    finally:
        DatabaseWrapper._connection_pools.pop("fork-test", None)
