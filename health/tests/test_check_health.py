"""``manage.py check_health`` prints the report and exits non-zero when unhealthy (contract §7)."""

import json

import pytest
from django.core.management import CommandError, call_command

from health.registry import check_overridden
from majed_vanna.tests.servers import closed_port, run_manage, server_env


def report_from(output: str) -> dict:
    return json.loads(output[: output.rindex("}") + 1])


def test_healthy_prints_the_report(db, capsys):
    call_command("check_health")
    report = report_from(capsys.readouterr().out)
    assert report["status"] == "healthy"
    assert report["checks"]["database"]["status"] == "healthy"


def test_unhealthy_raises_with_exit_code_1(db, capsys):
    def broken():
        raise ConnectionError("down")

    with check_overridden("cache", broken, required=True), pytest.raises(CommandError) as error:
        call_command("check_health")
    assert error.value.returncode == 1
    assert report_from(capsys.readouterr().out)["checks"]["cache"]["status"] == "unhealthy"


@pytest.mark.slow
def test_exit_code_of_the_real_command_when_the_database_is_unreachable(tmp_path):
    env = server_env(
        data_dir=tmp_path,
        settings_module="majed_vanna.settings.test",
        extra={
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/x?connect_timeout=1",
            "DB_POOL_TIMEOUT": "1",  # the connection pool's wait, as short as the connect timeout
        },
    )
    result = run_manage("check_health", env=env)
    assert result.returncode == 1
    assert report_from(result.stdout)["checks"]["database"]["status"] == "unhealthy"
    assert "unhealthy: database" in result.stderr
