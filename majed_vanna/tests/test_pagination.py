"""page/per_page lists (contract §2): the resource's plural key, total, page, per_page, has_next."""

import pytest

pytestmark = pytest.mark.urls("majed_vanna.tests.urls")


def test_defaults(api_client):
    data = api_client.get("/api/v1/test/items").json()["data"]
    assert set(data) == {"items", "total", "page", "per_page", "has_next"}
    assert [item["number"] for item in data["items"]] == list(range(1, 21))
    assert (data["total"], data["page"], data["per_page"], data["has_next"]) == (45, 1, 20, True)


def test_last_page(api_client):
    data = api_client.get("/api/v1/test/items?page=3&per_page=20").json()["data"]
    assert [item["number"] for item in data["items"]] == list(range(41, 46))
    assert data["has_next"] is False


def test_exact_fit_has_no_next(api_client):
    data = api_client.get("/api/v1/test/items?page=1&per_page=45").json()["data"]
    assert len(data["items"]) == 45 and data["has_next"] is False


def test_past_the_end_is_an_empty_page(api_client):
    data = api_client.get("/api/v1/test/items?page=9").json()["data"]
    assert data["items"] == [] and data["total"] == 45 and data["has_next"] is False


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=1.5", "per_page"),
    ],
)
def test_bad_values_are_422(api_client, query, field):
    response = api_client.get(f"/api/v1/test/items?{query}")
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert list(body["error"]["details"]) == [field]


def test_per_page_100_is_allowed(api_client):
    assert api_client.get("/api/v1/test/items?per_page=100").json()["data"]["per_page"] == 100
