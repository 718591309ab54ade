"""A configuration change made by one process reaches another running process within a few seconds,
without restart: through the shared cache's stamp with REDIS_URL, through the database's stamp (re-read
at most every 2 s) without it.

Both processes are real subprocesses sharing one migrated SQLite file, so the test is the same on every
run; the Redis variant runs whenever REDIS_URL is set (the PostgreSQL + Redis run of .ci/run).
"""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings

from config_api import runtime

ROOT = settings.BASE_DIR
READER = """
import sys, time
import django
django.setup()
from config_api.runtime import runtime_config_values
from majed_vanna.api.throttles import default_rate
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
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="majed_vanna.settings.test",
        MV_DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'shared.sqlite3'}",
        PYTHONPATH=str(ROOT),
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    return env


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
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", WRITE.format(value=new_value)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=60,
        )
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
