"""On a real daphne process, slow connection tests hold up none of the process's other requests.

``POST config/test-llm`` and ``POST config/test-database`` wait up to 3-5 s on a remote. They are async
views: the LLM call is awaited (httpx) and the database driver runs on the bounded blocking pool
(``majed_vanna.blocking``), so neither blocks the process's event loop, which every request needs (the
async health endpoints, and Django's dispatch of the synchronous DRF views). Here both tests wait on a
fake LLM that delays 3 s and a database that never answers, while sync endpoints (``GET config``,
``GET users``) and ``health/live`` must answer at once. Blocking the loop in either view fails this test.

The server has its own database (its SQLite file, or the run's PostgreSQL database): the admin is created
there with ``manage.py createsuperuser`` and logs in over HTTP, so the test works on both CI runs.
"""

import asyncio
import socket
import threading
import time
import uuid

import httpx
import pytest

from majed_vanna.tests.servers import run_manage, server_env

pytestmark = pytest.mark.slow  # every test here starts real processes (daphne, manage.py)

PASSWORD = "Daphne-concurrency-Pw-7"
DELAY = 3.0  # seconds the fake LLM and the silent database keep the connection tests waiting
QUICK = 1.0  # a sync endpoint must answer well within this meanwhile


class SilentDatabase:
    """Accepts TCP connections on 127.0.0.1 and never answers (a hung PostgreSQL); counts connections."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.accepted = threading.Semaphore(0)
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.accepted.release()

    def close(self):
        self.sock.close()
        for conn in self._conns:
            conn.close()


@pytest.fixture
def silent_database():
    server = SilentDatabase()
    yield server
    server.close()


@pytest.fixture
def admin_server(daphne_server, fake_llm, silent_database, tmp_path_factory):
    """A daphne process whose LLM is the fake server and whose data source never answers, plus a token."""
    data_dir = tmp_path_factory.mktemp("cfg-daphne")
    username = f"cfg-{uuid.uuid4().hex[:10]}@example.com"
    extra = {
        "LLM_PROVIDER": "openai",
        "LLM_MODEL": "fake-model-1",
        "LLM_BASE_URL": f"{fake_llm.url}/v1",
        "LLM_API_KEY": fake_llm.api_key,
        "MV_DATA_SOURCE_URL": f"postgres://reader@127.0.0.1:{silent_database.port}/shop",
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
    }
    env = server_env(data_dir=data_dir, settings_module="majed_vanna.settings.test", extra=extra)
    for args in (("migrate", "--noinput", "-v0"), ("createsuperuser", "--noinput", "--username", username)):
        result = run_manage(*args, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    server = daphne_server(env=extra, data_dir=data_dir)
    login = server.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    config = server.get("/api/v1/config", headers=headers).json()["data"]
    # Nothing stored in the server's database overrides the environment (matters on the PostgreSQL run).
    assert (config["llm_base_url"], config["database_provider"]) == (f"{fake_llm.url}/v1", "postgresql")
    return server, headers


async def timed(call):
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


async def test_sync_endpoints_answer_while_connection_tests_wait(admin_server, fake_llm, silent_database):
    server, headers = admin_server
    fake_llm.delay = DELAY
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=20) as client:
        db_test = asyncio.create_task(timed(client.post("/api/v1/config/test-database")))
        assert await asyncio.to_thread(silent_database.accepted.acquire, timeout=10)  # the driver is waiting
        llm_test = asyncio.create_task(timed(client.post("/api/v1/config/test-llm")))
        await asyncio.to_thread(fake_llm.wait_for_requests, 1, timeout=10)  # the provider got its request

        timings = {}
        for path in ("/api/v1/config", "/api/v1/users", "/api/v1/health/live"):
            response, timings[path] = await timed(client.get(path))
            assert response.status_code == 200, response.text
        assert max(timings.values()) < QUICK, timings
        assert not llm_test.done() and not db_test.done()  # both still waiting while the others answered

        (llm, llm_time), (db, db_time) = await asyncio.gather(llm_test, db_test)
    assert llm.status_code == 200 and llm.json()["data"]["status"] == "success", llm.text
    assert llm_time >= DELAY - 0.1
    assert db.status_code == 200 and db.json()["data"]["status"] == "failure", db.text
    assert db_time >= 1.5  # it waited on the silent database until its connect timeout
    assert llm.headers["X-RateLimit-Limit"] == db.headers["X-RateLimit-Limit"] == "20"
