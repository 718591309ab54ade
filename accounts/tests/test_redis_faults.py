"""Writes and logins against a daphne process whose Redis (a redis-server of the test's own) is killed.

A 503 must mean nothing was done, and nothing that runs after a commit may turn a success into a failure.
To kill Redis exactly between a request's authentication and its commit, the test holds the SQLite file's
write lock (``BEGIN IMMEDIATE``) while the requests arrive: they authenticate (Redis up), then wait on the
lock; Redis is killed; the lock is released and the requests commit with no cache to talk to.
"""

import sqlite3
import threading
import time
import uuid

import httpx
import pytest

from majed_vanna.tests.redis_process import redis_process  # noqa: F401 - fixture
from majed_vanna.tests.servers import migrated_sqlite, run_manage, server_env

pytestmark = pytest.mark.slow  # real daphne and redis-server processes

SETTINGS = "majed_vanna.settings.test"
ADMIN, PASSWORD = "faults-admin@example.com", "Fault-tolerant-2024!"


@pytest.fixture
def server_on_own_redis(tmp_path, redis_process, daphne_server):  # noqa: F811 - the fixture imported above
    redis = redis_process()
    env = {**migrated_sqlite(tmp_path, settings_module=SETTINGS), "REDIS_URL": redis.url}
    created = run_manage(
        "createsuperuser",
        "--noinput",
        "--username",
        ADMIN,
        env=server_env(
            data_dir=tmp_path, settings_module=SETTINGS, extra={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
        ),
    )
    assert created.returncode == 0, created.stderr[-2000:]
    server = daphne_server(env=env, data_dir=tmp_path)
    return server, redis, tmp_path / "db.sqlite3"


def _rows(db_path, sql: str, *params):
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, params).fetchall()


def _token(server) -> str:
    login = server.post("/api/v1/auth/login", json={"username": ADMIN, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return login.json()["data"]["access_token"]


def test_a_write_committed_while_redis_dies_is_answered_as_done(server_on_own_redis):
    server, redis, db_path = server_on_own_redis
    headers = {"Authorization": f"Bearer {_token(server)}"}
    names = [f"committed-{uuid.uuid4().hex[:8]}@example.com" for _ in range(2)]
    responses: dict[str, httpx.Response] = {}

    def create(name: str, extra: dict):
        body = {"username": name, "password": "Another-secret-2024!", "role": "normal"}
        responses[name] = server.post("/api/v1/users", json=body, headers={**headers, **extra}, timeout=30)

    lock = sqlite3.connect(db_path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # the requests wait at their commit
    threads = [
        threading.Thread(target=create, args=(names[0], {})),
        threading.Thread(target=create, args=(names[1], {"Idempotency-Key": uuid.uuid4().hex})),
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.5)  # both are authenticated, throttled and claimed (Redis up), and wait on the lock
    redis.kill()
    lock.execute("ROLLBACK")
    lock.close()
    for thread in threads:
        thread.join(30)

    for name in names:
        assert _rows(db_path, "SELECT username FROM accounts_user WHERE username = ?", name) == [(name,)]
        assert _rows(
            db_path, "SELECT action FROM accounts_auditlog WHERE action = 'user.create' AND details LIKE ?", f"%{name}%"
        ) == [("user.create",)]
        response = responses[name]
        assert response.status_code == 201, response.text  # committed: acknowledged, whatever the cache does
        assert response.json()["data"]["username"] == name
        assert response.json()["data"]["locked"] is False  # unknown while the cache is down: shown unlocked


def test_a_login_refused_because_redis_is_down_is_audited(server_on_own_redis):
    server, redis, db_path = server_on_own_redis
    redis.kill()
    request_id = f"login-{uuid.uuid4().hex[:8]}"
    login = server.post(
        "/api/v1/auth/login", json={"username": ADMIN, "password": PASSWORD}, headers={"X-Request-Id": request_id}
    )
    assert login.status_code == 503
    assert login.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(login.headers["Retry-After"]) > 0
    rows = _rows(
        db_path,
        "SELECT action, username, success, details FROM accounts_auditlog WHERE request_id = ?",
        request_id,
    )
    assert len(rows) == 1
    action, username, success, details = rows[0]
    assert (action, username, success) == ("auth.login_failed", ADMIN, 0)
    assert '"reason": "service_unavailable"' in details
    # Nothing else happened: no token was issued, last_login untouched.
    assert _rows(db_path, "SELECT last_login FROM accounts_user WHERE username = ?", ADMIN) == [(None,)]

    redis.start()  # the same port again: logins work once the server's cache breaker lets a call through
    deadline = time.monotonic() + 10
    while (
        login := server.post("/api/v1/auth/login", json={"username": ADMIN, "password": PASSWORD})
    ).status_code == 503:
        assert time.monotonic() < deadline, login.text
        time.sleep(0.5)
    assert login.status_code == 200, login.text
