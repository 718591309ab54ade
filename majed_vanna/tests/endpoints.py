"""The core's own route, declared for the shared endpoint checks: the public API index."""

from majed_vanna.tests.endpoint_cases import Endpoint

ENDPOINTS = [Endpoint("GET", "/api/v1", public=True)]
