"""The ``llm`` and ``data_source`` health checks config_api registers (contract §5 "Health").

The LLM provider is the scripted fake server on 127.0.0.1 over real HTTP; the data sources are real
SQLite files and a PostgreSQL port nobody listens on. Both checks are optional: failing, they make the
service ``degraded`` (200), never ``unhealthy``, and the public report names states only.
"""

import json
import sqlite3
import time

import pytest
from django.core.management import call_command

from config_api import health_checks, runtime
from majed_vanna import circuit_breakers
from majed_vanna.circuit_breakers import CircuitBreaker
from majed_vanna.tests.servers import closed_port

HEALTH = "/api/v1/health"


@pytest.fixture
def llm_settings(settings, fake_llm):
    """Point the LLM configuration (environment defaults, no stored row) at the fake server."""

    def configure(*, provider="openai", base_url=None, api_key=None, model="fake-model-1"):
        settings.LLM_PROVIDER, settings.LLM_MODEL = provider, model
        settings.LLM_BASE_URL = f"{fake_llm.url}/v1" if base_url is None else base_url
        settings.LLM_API_KEY = fake_llm.api_key if api_key is None else api_key
        runtime.publish_stamp(None)

    return configure


def report(api_client) -> tuple[dict, str]:
    response = api_client.get(HEALTH)
    assert response.status_code == 200, response.content  # optional checks never make it a 503
    return response.json()["data"], response.content.decode()


def sqlite_file(path):
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS orders (id integer)")
    conn.close()
    return path


# --- llm


def test_llm_is_not_configured_without_a_provider(api_client, db, fake_llm):
    check = report(api_client)[0]["checks"]["llm"]
    assert check["status"] == "not_configured" and check["required"] is False
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    "provider,base_suffix,auth_header",
    [("openai", "/v1", "Authorization"), ("anthropic", "", "x-api-key")],
)
def test_reachable_provider_is_healthy_and_costs_no_tokens(
    provider, base_suffix, auth_header, api_client, db, fake_llm, llm_settings
):
    llm_settings(provider=provider, base_url=fake_llm.url + base_suffix)
    data, _ = report(api_client)
    check = data["checks"]["llm"]
    assert check["status"] == "healthy", check
    assert (check["provider"], check["http_status"], check["cached"]) == (provider, 200, False)
    assert [(r.method, r.path) for r in fake_llm.requests] == [("GET", "/v1/models")]  # a model list, no completion
    assert fake_llm.api_key in fake_llm.requests[0].headers[auth_header]
    if provider == "anthropic":
        assert fake_llm.requests[0].headers["anthropic-version"]


@pytest.mark.parametrize(
    "scenario,reason,status",
    [
        ("wrong_key", "unauthorized", 401),
        ("server_error", "server_error", 500),
        ("wrong_path", "not_found", 404),
        ("unreachable", "unreachable", None),
        ("slow", "timeout", None),
    ],
)
def test_failing_provider_is_degraded_without_error_text(
    scenario, reason, status, api_client, db, fake_llm, llm_settings, monkeypatch
):
    leaks = ["sk-", "Incorrect API key", "db.internal", "traceback", "127.0.0.1", str(fake_llm.url.rsplit(":", 1)[1])]
    if scenario == "wrong_key":
        llm_settings(api_key="sk-wrong-key-999")
    elif scenario == "server_error":
        fake_llm.enqueue(status=500, json={"error": "db.internal:5432 refused, traceback follows"})
        llm_settings()
    elif scenario == "wrong_path":
        llm_settings(base_url=fake_llm.url + "/nope")
    elif scenario == "unreachable":
        port = closed_port()
        leaks.append(str(port))
        llm_settings(base_url=f"http://127.0.0.1:{port}/v1")
    else:
        monkeypatch.setattr(health_checks, "LLM_PROBE_TIMEOUT_SECONDS", 0.5)
        fake_llm.delay = 2
        llm_settings()
    data, text = report(api_client)
    check = data["checks"]["llm"]
    assert data["status"] == "degraded"
    assert check["status"] == "degraded" and check["reason"] == reason
    assert check["http_status"] == status
    for leak in leaks:
        assert leak not in text


def test_result_is_cached_so_a_busy_endpoint_probes_once_per_ttl(api_client, db, fake_llm, llm_settings, monkeypatch):
    monkeypatch.setattr(health_checks, "LLM_CACHE_SECONDS", 1)
    llm_settings()
    first = report(api_client)[0]["checks"]["llm"]
    second = report(api_client)[0]["checks"]["llm"]
    third = report(api_client)[0]["checks"]["llm"]
    assert fake_llm.count(method="GET", path_suffix="/models") == 1
    assert (first["cached"], second["cached"], third["cached"]) == (False, True, True)
    assert second["status"] == "healthy"
    time.sleep(1.2)
    assert report(api_client)[0]["checks"]["llm"]["cached"] is False
    assert fake_llm.count(path_suffix="/models") == 2


def test_a_cached_failure_is_not_kept_after_the_key_changes(api_client, db, fake_llm, llm_settings):
    llm_settings(api_key="sk-old-wrong-key")
    assert report(api_client)[0]["checks"]["llm"]["reason"] == "unauthorized"
    llm_settings()  # the right key: probed at once, not served from the cached failure
    assert report(api_client)[0]["checks"]["llm"]["status"] == "healthy"
    assert fake_llm.count(path_suffix="/models") == 2


def test_open_llm_circuit_breaker_degrades(api_client, db, fake_llm, llm_settings, monkeypatch):
    breaker = CircuitBreaker("llm", failure_threshold=1, timeout=60)
    monkeypatch.setitem(circuit_breakers._registry, "llm", breaker)
    llm_settings()
    closed = report(api_client)[0]["checks"]["llm"]
    assert closed["status"] == "healthy" and closed["circuit_breaker"] == "closed"
    breaker.record_failure()
    opened = report(api_client)[0]["checks"]["llm"]
    assert opened["status"] == "degraded" and opened["circuit_breaker"] == "open"
    assert opened["reason"] == "circuit_open"


def test_missing_api_key_is_degraded_without_a_request(api_client, db, fake_llm, llm_settings):
    llm_settings(api_key="")
    check = report(api_client)[0]["checks"]["llm"]
    assert check["status"] == "degraded" and check["reason"] == "no_api_key"
    assert fake_llm.requests == []


# --- data_source


def test_sqlite_data_source_is_healthy(api_client, db, settings, isolated_paths):
    sqlite_file(isolated_paths / "demo.sqlite3")  # the fixture's MV_DATA_SOURCE_URL
    check = report(api_client)[0]["checks"]["data_source"]
    assert check["status"] == "healthy" and check["provider"] == "sqlite" and check["required"] is False
    assert report(api_client)[0]["checks"]["data_source"]["cached"] is True


def test_missing_configured_file_is_degraded_and_the_path_stays_private(api_client, db, isolated_paths):
    data, text = report(api_client)
    check = data["checks"]["data_source"]
    assert data["status"] == "degraded"
    assert check["status"] == "degraded" and check["reason"] == "missing_file"
    assert str(isolated_paths) not in text and "demo.sqlite3" not in text


def test_embedded_default_not_created_yet_is_not_configured(api_client, db, settings):
    settings.MV_DATA_SOURCE_URL = f"sqlite:///{settings.DATA_DIR / 'demo.sqlite3'}"
    runtime.publish_stamp(None)
    assert not (settings.DATA_DIR / "demo.sqlite3").exists()
    check = report(api_client)[0]["checks"]["data_source"]
    assert check["status"] == "not_configured"


def test_closed_postgres_port_is_degraded_without_host_or_error_text(api_client, db, settings):
    port = closed_port()
    settings.MV_DATA_SOURCE_URL = f"postgres://reader:pa55word@127.0.0.1:{port}/shop"
    runtime.publish_stamp(None)
    data, text = report(api_client)
    check = data["checks"]["data_source"]
    assert check["status"] == "degraded" and check["reason"] == "connect_failed"
    assert check["provider"] == "postgresql"
    for leak in ("pa55word", "reader", str(port), "127.0.0.1", "shop", "refused", "OperationalError"):
        assert leak not in text


# --- manage.py check_health


def test_check_health_reports_both_and_degraded_is_not_a_failure(db, capsys, fake_llm, llm_settings):
    llm_settings(api_key="sk-wrong-key-777")
    call_command("check_health")  # degraded: exits 0
    out = capsys.readouterr().out
    data = json.loads(out[: out.rindex("}") + 1])
    assert data["status"] == "degraded"
    assert data["checks"]["llm"]["status"] == "degraded" and data["checks"]["llm"]["reason"] == "unauthorized"
    assert data["checks"]["data_source"]["reason"] == "missing_file"
    assert "sk-wrong-key-777" not in out and "Service is degraded" in out
