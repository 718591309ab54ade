"""A tool disabled by another process disappears from ``GET agent/tools`` of a running server within a few
seconds (contract §5 "Knowledge": "effective at once in every process").

One daphne process on its own migrated SQLite file; the change is made by ``manage.py shell`` (a second process)
through the service, as the registry's PATCH does. With REDIS_URL both share the cache (the server sees the new
stamp within a second); without it the server's stamp expires within two."""

import os
import re
import time

import pytest
from django.conf import settings

from majed_vanna.tests.servers import migrated_sqlite, run_manage, server_env, start_daphne

pytestmark = pytest.mark.slow

TOOLS = "/api/v1/agent/tools"
SEEN_WITHIN = 6.0  # seconds: the per-process stamp lives 2 s, a shared one is re-checked every second

CHANGE = """
from django.contrib.auth import get_user_model
from agent.services.tools_registry import tool_setting_update
admin, _ = get_user_model().objects.get_or_create(username="wiring-admin", defaults={{"role": "admin"}})
tool_setting_update(tool_id="run_sql", actor=admin, enabled={enabled})
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("wiring-daphne")
    env = {
        **migrated_sqlite(data_dir),
        "CACHE_KEY_PREFIX": f"{settings.CACHE_KEY_PREFIX}_wiring{os.getpid()}",
    }
    full_env = server_env(data_dir=data_dir, settings_module="majed_vanna.settings.test", extra=env)
    created = run_manage("create_integration_client", "--name", "Chat", "--permissions", "use_chat", env=full_env)
    assert created.returncode == 0, created.stderr[-2000:]
    api_key = re.search(r"^api_key: (\S+)$", created.stdout, re.MULTILINE)[1]
    process = start_daphne(data_dir=data_dir, env=env)
    try:
        yield process, api_key, full_env
    finally:
        process.stop()


def listed(process, api_key) -> list[str]:
    response = process.get(TOOLS, headers={"X-API-Key": api_key})
    assert response.status_code == 200, response.text
    return [tool["tool_id"] for tool in response.json()["data"]["tools"]]


def change_elsewhere(env, *, enabled: bool) -> None:
    result = run_manage("shell", "-c", CHANGE.format(enabled=enabled), env=env)
    assert result.returncode == 0, result.stderr[-2000:]


def seen(process, api_key, expected: list[str]) -> float:
    """Seconds until the server lists ``expected`` (fails after ``SEEN_WITHIN``)."""
    started = time.monotonic()
    while (found := listed(process, api_key)) != expected:
        assert time.monotonic() - started < SEEN_WITHIN, found
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_tool_disabled_in_another_process_leaves_the_servers_listing(server):
    process, api_key, env = server
    assert listed(process, api_key) == ["run_sql"]  # read, and memoised, by the server
    change_elsewhere(env, enabled=False)
    seen(process, api_key, [])
