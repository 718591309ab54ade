"""Review round: what ``scripts/fuzz_api.sh`` (schemathesis) reported on the agent's endpoints, one test each."""

import json

import jsonschema
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def validate(schema, instance, fragment):
    """``instance`` against ``fragment`` of the OpenAPI document (its $refs resolved in the document)."""
    document = {**schema, **fragment}
    jsonschema.validate(instance, document, cls=jsonschema.Draft4Validator)


def test_semantic_search_answers_the_paged_envelope_its_schema_documents(schema, admin, api_client_for):
    # The schema said data was an array; the view answers {results, total, page, per_page, has_next}.
    response = api_client_for(admin).get("/api/v1/agent/semantic/search", {"q": "orders"})
    assert response.status_code == 200, response.content
    operation = schema["paths"]["/api/v1/agent/semantic/search"]["get"]
    validate(schema, response.json(), operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(response.json()["data"]) == {"results", "total", "page", "per_page", "has_next"}


def test_chat_sse_schema_describes_each_event_as_a_reader_sees_it(schema):
    # OpenAPI 3.0: an event stream's schema describes one event, {event, data, ...}; it said "a string".
    media = schema["paths"]["/api/v1/agent/chat_sse"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    event = {"event": "message", "data": json.dumps({"type": "text", "content": "Hello"})}
    validate(schema, event, media["schema"])
    with pytest.raises(jsonschema.ValidationError):
        validate(schema, {"event": "message"}, media["schema"])
