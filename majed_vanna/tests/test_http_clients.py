"""Shared outgoing HTTP clients: one per origin (and event loop), pooled, closed cleanly."""

import asyncio

import httpx
import pytest

from majed_vanna import http_clients


@pytest.fixture(autouse=True)
def fresh_clients():
    http_clients.close_all()
    yield
    http_clients.close_all()


async def test_one_async_client_per_origin():
    first = http_clients.async_client("https://api.example.com/v1/chat/completions")
    assert http_clients.async_client("https://api.example.com:443/v1/models") is first
    assert http_clients.async_client("https://api.example.com:8443/v1") is not first
    assert http_clients.async_client("http://api.example.com/v1") is not first
    assert first.follow_redirects is False and "authorization" not in first.headers


async def test_the_pool_is_sized_by_the_settings(settings):
    settings.HTTP_CLIENT_MAX_CONNECTIONS = 7
    settings.HTTP_CLIENT_MAX_KEEPALIVE = 3
    client = http_clients.async_client("https://sized.example.com")
    pool = client._transport._pool
    assert (pool._max_connections, pool._max_keepalive_connections) == (7, 3)


async def test_aclose_all_closes_the_loops_clients_and_a_new_one_follows():
    client = http_clients.async_client("https://api.example.com")
    await http_clients.aclose_all()
    assert client.is_closed
    assert http_clients.async_client("https://api.example.com") is not client


def test_each_event_loop_gets_its_own_client_and_close_all_closes_idle_ones():
    async def get():
        return http_clients.async_client("https://api.example.com")

    loop_a, loop_b = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        a, b = loop_a.run_until_complete(get()), loop_b.run_until_complete(get())
        assert a is not b and a is loop_a.run_until_complete(get())
        http_clients.close_all()
        assert a.is_closed and b.is_closed
    finally:
        loop_a.close()
        loop_b.close()


def test_one_sync_client_per_origin_reuses_its_connection(fake_llm):
    url = f"{fake_llm.url}/v1/models"
    client = http_clients.sync_client(url)
    assert http_clients.sync_client(fake_llm.url + "/other") is client
    headers = {"Authorization": f"Bearer {fake_llm.api_key}"}
    assert [client.get(url, headers=headers).status_code for _ in range(3)] == [200, 200, 200]
    http_clients.close_all()
    assert client.is_closed
    assert isinstance(http_clients.sync_client(url), httpx.Client) and http_clients.sync_client(url) is not client
