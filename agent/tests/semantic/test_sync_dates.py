"""Review round (found by scripts/fuzz_api.sh once its server had a data source that answers): the scan's report
says when it ran as an ISO 8601 date-time, as its schema documents."""

from datetime import datetime

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_semantic_sync_answers_synced_at_as_an_iso_date_time(admin, api_client_for, demo_source):
    # The async view's JSON fell back to str() for datetimes: "2026-12-02 03:49:25.383380+00:00".
    response = api_client_for(admin).post("/api/v1/agent/semantic/sync", {}, format="json")
    assert response.status_code == 200, response.content
    synced_at = response.json()["data"]["synced_at"]
    assert "T" in synced_at, synced_at
    assert datetime.fromisoformat(synced_at.replace("Z", "+00:00")).tzinfo is not None
