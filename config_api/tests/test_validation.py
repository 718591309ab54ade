"""``config_api.validation``: a data source URL's password never shows, wherever in the URL it is written.

libpq (psycopg) reads a password from the query string too (``postgresql://bob@host/db?password=...``, and a
client key's passphrase from ``sslpassword``); ``mask_url`` only masked the ``user:password@`` part, so such a
password was shown by ``GET config``, the admin's configuration page, the history and the ``config.update``
audit row (found by the review of issue 12).
"""

import pytest

from accounts.models import AuditLog
from config_api.models import ConfigurationChange
from config_api.validation import MASK, check_data_source_url, mask_url

CONFIG_URL = "/api/v1/config"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob@db.example/sales?password=hunter2", f"postgresql://bob@db.example/sales?password={MASK}"),
        (
            "postgres://db.example/sales?sslmode=require&sslpassword=hunter2&password=hunter2",
            f"postgres://db.example/sales?sslmode=require&sslpassword={MASK}&password={MASK}",
        ),
        ("postgresql://bob:hunter2@db.example/sales?PASSWORD=hunter2", None),
    ],
)
def test_mask_url_masks_a_password_in_the_query_string(url, shown):
    masked = mask_url(url)
    assert "hunter2" not in masked
    if shown is not None:
        assert masked == shown


def test_mask_url_leaves_other_query_parameters_alone():
    url = "postgresql://bob@db.example/sales?sslmode=require&application_name=x"
    assert mask_url(url) == url


@pytest.mark.parametrize("parameter", ["password", "sslpassword", "Password"])
def test_a_password_in_the_query_string_is_refused(parameter):
    with pytest.raises(ValueError, match="user:password@host"):
        check_data_source_url(f"postgresql://bob@db.example/sales?{parameter}=hunter2")


def test_put_config_refuses_a_query_string_password_and_stores_nothing(admin_client):
    url = "postgresql://bob@127.0.0.1/sales?password=hunter2"
    response = admin_client.put(CONFIG_URL, {"data_source_url": url}, format="json")
    assert response.status_code == 422
    assert list(response.json()["error"]["details"]) == ["data_source_url"]
    assert "hunter2" not in response.content.decode()
    assert not ConfigurationChange.objects.exists()


def test_an_environment_url_with_a_query_password_is_masked_in_get_config(admin_client, settings):
    # The environment's value is not checked by PUT config: what is shown must still be masked.
    settings.MV_DATA_SOURCE_URL = "postgresql://bob@127.0.0.1/sales?password=hunter2"
    response = admin_client.get(CONFIG_URL)
    assert response.status_code == 200
    assert response.json()["data"]["data_source_url"] == f"postgresql://bob@127.0.0.1/sales?password={MASK}"
    assert "hunter2" not in response.content.decode()
    assert "hunter2" not in str(list(AuditLog.objects.values_list("details", flat=True)))
