"""The runtime configuration while the shared cache fails: an update that is committed is answered as done
(publishing its stamp is best effort), and reads fall back to the database's stamp instead of the defaults."""

import pytest
from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted

from config_api import runtime
from config_api.models import RuntimeConfiguration

pytestmark = pytest.mark.django_db

CONFIG_URL = "/api/v1/config"


def _fail(monkeypatch, *methods: str) -> None:
    def down(*args, **kwargs):
        raise ConnectionInterrupted(connection=None)

    for method in methods:
        monkeypatch.setattr(cache, method, down)


def test_an_update_is_answered_200_when_its_stamp_cannot_be_published(
    monkeypatch, admin, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(admin)
    _fail(monkeypatch, "set", "delete")  # the stamp's publication, inside the transaction and after the commit
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(CONFIG_URL, {"circuit_breaker_timeout": 41}, format="json")
    assert response.status_code == 200, response.content
    assert RuntimeConfiguration.objects.get().circuit_breaker_timeout == 41


def test_reads_use_the_stored_values_while_the_cache_cannot_be_read(monkeypatch, admin):
    from config_api.services import config_update

    config_update(actor=admin, changes={"circuit_breaker_timeout": 43})
    runtime.publish_stamp(None)  # this process must ask again
    _fail(monkeypatch, "get", "set")
    assert runtime.runtime_config_values()["circuit_breaker_timeout"] == 43
