"""``scripts/faults.sh``: the fault drill against a live production-like server (its own redis-server,
PostgreSQL cluster and daphne), run with the Redis and PostgreSQL parts (redis-server, initdb, pg_ctl and curl
must be on PATH). Its last line must say nothing was lost and every dependency recovered."""

import os
import signal
import subprocess

import pytest

from majed_vanna.tests.servers import BASE_DIR

pytestmark = pytest.mark.slow  # starts redis-server, PostgreSQL and daphne

TIMEOUT = 180


def _run_drill() -> tuple[int, str, str]:
    process = subprocess.Popen(
        ["bash", "scripts/faults.sh"],
        cwd=BASE_DIR,
        env={**os.environ, "FAULTS_PARTS": "redis postgres"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.terminate()  # the script's trap stops what it started
        try:
            stdout, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        pytest.fail(f"scripts/faults.sh ran over {TIMEOUT}s:\n{stdout[-4000:]}{stderr[-2000:]}")
    return process.returncode, stdout, stderr


def test_the_fault_drill_loses_nothing_and_recovers():
    returncode, stdout, stderr = _run_drill()
    output = stdout + stderr
    summary = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    assert returncode == 0, output[-4000:]
    assert summary.startswith("faults: ") and "nothing lost, every dependency recovered" in summary, output[-4000:]
    assert "(parts: postgres redis)" in summary
    for phase in ("redis-killed", "redis-stopped", "postgres-stopped"):
        assert f"==> {phase}-back" in output  # each fault ran and was recovered from
