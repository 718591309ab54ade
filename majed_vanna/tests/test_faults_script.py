"""``scripts/faults.sh``: the fault drill against a live production-like server (its own redis-server,
PostgreSQL cluster and daphne), run with the Redis and PostgreSQL parts (redis-server, initdb, pg_ctl and curl
must be on PATH). Its last line must say nothing was lost and every dependency recovered."""

import os
import subprocess

import pytest

from majed_vanna.tests.servers import BASE_DIR

pytestmark = pytest.mark.slow  # starts redis-server, PostgreSQL and daphne


def test_the_fault_drill_loses_nothing_and_recovers():
    result = subprocess.run(
        ["bash", "scripts/faults.sh"],
        cwd=BASE_DIR,
        env={**os.environ, "FAULTS_PARTS": "redis postgres"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, output[-4000:]
    assert summary.startswith("faults: ") and "nothing lost, every dependency recovered" in summary, output[-4000:]
    assert "(parts: postgres redis)" in summary
    for phase in ("redis-killed", "redis-stopped", "postgres-stopped"):
        assert f"==> {phase}-back" in output  # each fault ran and was recovered from
