"""The integration-client routes (admin only: ``manage_integrations``), declared for the shared endpoint checks."""

from majed_vanna.tests.endpoint_cases import Endpoint

CLIENT = "/api/v1/integrations/clients/{client_id}"
ADMIN_ONLY = {"permission": "manage_integrations", "denied": ("normal", "superuser")}
DETAIL = {**ADMIN_ONLY, "unknown": "mvc_000000000000000000000000", "malformed": ("not-an-id!", "-" * 36, "x" * 41)}


def a_client() -> dict:
    from integrations.services import client_create

    return {"client_id": client_create(name="Declared client", permissions=["use_chat"]).client.client_id}


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/integrations/clients",
        **ADMIN_ONLY,
        results_key="clients",
        bad_queries=({"status": "bogus"},),
    ),
    Endpoint("POST", "/api/v1/integrations/clients", **ADMIN_ONLY, bad_body={"permissions": ["system_admin"]}),
    Endpoint("GET", CLIENT, **DETAIL, target=a_client),
    Endpoint("PATCH", CLIENT, **DETAIL, target=a_client, bad_body={"permissions": ["system_admin"]}),
    Endpoint("DELETE", CLIENT, **DETAIL, target=a_client),
    Endpoint("POST", CLIENT + "/rotate", **DETAIL, target=a_client),
]
