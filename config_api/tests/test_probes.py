"""Connection probes share one pooled HTTP client per provider origin (``majed_vanna.http_clients``):
a client per call cost ~20 ms of event-loop CPU each (its TLS context)."""

import asyncio

import httpx
import pytest

from config_api import probes
from majed_vanna import http_clients


@pytest.fixture(autouse=True)
def fresh_clients():
    http_clients.close_all()
    yield
    http_clients.close_all()


def llm_args(fake_llm) -> dict:
    base_url = f"{fake_llm.url}/v1"
    return {"provider": "openai", "model": "fake-model-1", "base_url": base_url, "api_key": fake_llm.api_key}


@pytest.fixture
def clients_created(monkeypatch):
    """Counts ``httpx`` clients (and so TLS contexts) created, by class name."""
    created = {"AsyncClient": 0, "Client": 0}
    for cls in (httpx.AsyncClient, httpx.Client):
        real_init = cls.__init__

        def init(self, *args, _real=real_init, _name=cls.__name__, **kwargs):
            created[_name] += 1
            _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", init)
    return created


async def test_many_llm_probes_share_one_client(fake_llm, clients_created):
    args = llm_args(fake_llm)
    results = await asyncio.gather(*(probes.probe_llm(**args) for _ in range(20)))
    results += [await probes.probe_llm(**args) for _ in range(5)]
    assert [result["message"] for result in results if result["status"] != "success"] == []
    assert fake_llm.count(method="POST", path_suffix="/chat/completions") == 25
    assert clients_created == {"AsyncClient": 1, "Client": 0}


async def test_a_slow_provider_still_times_out_through_the_shared_client(fake_llm, monkeypatch):
    monkeypatch.setattr(probes, "LLM_TIMEOUT_SECONDS", 0.3)
    fake_llm.delay = 2
    args = llm_args(fake_llm)
    result = await probes.probe_llm(**args)
    assert result["status"] == "failure" and "did not answer" in result["message"]
    fake_llm.delay = 0
    assert (await probes.probe_llm(**args))["status"] == "success"  # the pool recovered from the abandoned call


def test_reachability_checks_share_one_blocking_client(fake_llm, clients_created):
    outcomes = [
        probes.llm_reachability(provider="openai", base_url=f"{fake_llm.url}/v1", api_key=fake_llm.api_key, timeout=2)
        for _ in range(5)
    ]
    assert outcomes == [("ok", 200)] * 5
    assert clients_created == {"AsyncClient": 0, "Client": 1}
