"""A configuration change made by one process reaches another running process within a few seconds,
without restart: through the shared cache's stamp with REDIS_URL, through the database's stamp (re-read
at most every 2 s) without it.

Both processes are real subprocesses sharing one migrated SQLite file, so the test is the same on every
run; the Redis variant runs whenever REDIS_URL is set (the PostgreSQL + Redis run of .ci/run).
"""

import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings

from config_api import runtime
from majed_vanna.tests.servers import migrated_sqlite, run_manage, server_env

ROOT = settings.BASE_DIR
READER = """
import sys, time
import django
django.setup()
from config_api.runtime import runtime_config_values
from majed_vanna.api.scopes import global_default_rate as default_rate
start = runtime_config_values()["rate_limit_max_requests"]
print("ready", start, flush=True)
sys.stdin.readline()
began = time.monotonic()
while time.monotonic() - began < 10:
    value = runtime_config_values()["rate_limit_max_requests"]
    if value != start:
        print("changed", value, round(time.monotonic() - began, 2), default_rate(), flush=True)
        break
    time.sleep(0.05)
else:
    print("unchanged", flush=True)
"""
WRITE = (
    "from config_api.services import config_update; "
    "config_update(actor=None, changes={{'rate_limit_max_requests': {value}, 'rate_limit_window': 60}})"
)

MODES = ["locmem"] + (["redis"] if settings.REDIS_URL else [])


@pytest.fixture(scope="module")
def shared_env(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("two-processes")
    extra = {**migrated_sqlite(data_dir), "REDIS_URL": None}  # Redis only in the "redis" mode
    return server_env(data_dir=data_dir, settings_module="majed_vanna.settings.test", extra=extra)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_change_reaches_a_running_second_process(mode, shared_env):
    env = dict(shared_env, CACHE_KEY_PREFIX=f"mv_cfg_proc_{uuid.uuid4().hex[:8]}")
    if mode == "redis":
        env["REDIS_URL"] = settings.REDIS_URL
    reader = subprocess.Popen(
        [sys.executable, "-c", READER],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = reader.stdout.readline().split()
        assert ready and ready[0] == "ready", reader.stderr.read()
        new_value = int(ready[1]) + 17
        written = run_manage("shell", "-c", WRITE.format(value=new_value), env=env, timeout=60)
        assert written.returncode == 0, written.stderr[-2000:]
        written_at = time.monotonic()
        reader.stdin.write("go\n")
        reader.stdin.flush()
        outcome = reader.stdout.readline().split()
        assert outcome[:2] == ["changed", str(new_value)], outcome
        assert float(outcome[2]) <= runtime.LOCAL_STAMP_TTL + 1
        assert time.monotonic() - written_at < 5
        assert outcome[3] == f"{new_value}/60s"  # the throttle's default rate in that process
    finally:
        reader.kill()
        reader.wait(timeout=10)
