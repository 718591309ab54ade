"""The production profile: deploy checks pass, secrets are required, daphne serves the admin's static
files (WhiteNoise) and writes JSON logs carrying the request id."""

import json
import secrets

import pytest

from majed_vanna.tests.servers import run_manage, server_env

pytestmark = pytest.mark.slow  # every test here starts real processes (daphne, manage.py)


def production_env(data_dir, **extra) -> dict:
    return server_env(
        data_dir=data_dir,
        settings_module="majed_vanna.settings",
        extra={
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            **extra,
        },
    )


def test_check_deploy_passes(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = run_manage("check", env=production_env(tmp_path, SECRET_KEY=None, DJANGO_SECRET_KEY=None))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_daphne_in_production_serves_static_files_health_and_json_logs(tmp_path, daphne_server):
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="false")
    collected = run_manage("collectstatic", "--noinput", env=env, timeout=300)
    assert collected.returncode == 0, collected.stderr
    extra = {k: env[k] for k in ("DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT")}
    server = daphne_server(env=extra, settings_module="majed_vanna.settings", data_dir=tmp_path)

    css = server.get("/static/admin/css/base.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "body" in css.text
    login = server.get("/admin/login/")
    assert login.status_code == 200 and "text/html" in login.headers["content-type"]

    # Behind a TLS-terminating proxy (X-Forwarded-Proto): HSTS and the other security headers are sent.
    health = server.get("/api/v1/health", headers={"X-Request-Id": "prod-probe-1", "X-Forwarded-Proto": "https"})
    assert health.status_code == 200 and health.json()["data"]["status"] == "healthy"
    assert health.headers["Strict-Transport-Security"].startswith("max-age=")

    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    # (This server's database is not migrated: the runtime configuration's read fails and is logged too.)
    access = [x for x in lines if x.get("request_id") == "prod-probe-1" and x["logger"] == "majed_vanna.access"]
    assert access, server.log()
    assert access[0]["level"] == "INFO"
