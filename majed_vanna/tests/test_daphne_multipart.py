"""Under daphne, a multipart body reaches Django untouched (found by fuzzing with ``scripts/fuzz_api.sh``).

Twisted's ``Request`` parses every ``multipart/form-data`` POST itself, for ``request.args`` that daphne never
uses: it reads the whole body into memory on the reactor thread (a 1 GB backup upload held the event loop and
several GB of memory), and a body it cannot parse got a bare ``400`` with no envelope and no content type.
"""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

EMPTY_MULTIPART = b"--c637e12e2b1a998d80d1b087531af51c--\r\n"


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/api/v1/auth/refresh", "/api/v1/auth/login"])
def test_malformed_multipart_gets_the_error_envelope(daphne_server, path):
    server = daphne_server()
    status, headers, body = server.raw_request(
        "POST",
        path,
        EMPTY_MULTIPART,
        {"Host": "127.0.0.1", "Content-Type": "multipart/form-data; boundary=c637e12e2b1a998d80d1b087531af51c"},
    )
    assert headers.get("Content-Type", "").startswith("application/json"), (status, headers, body)
    assert status in (400, 422)
    assert b'"success": false' in body


def test_twisted_does_not_parse_form_bodies_for_daphne():
    from daphne.http_protocol import WebRequest

    import majed_vanna.asgi  # noqa: F401 - what daphne imports before it serves

    request = WebRequest.__new__(WebRequest)
    request._parsePOSTFormSubmission = True  # what twisted.web.http.Request.__init__ sets
    assert request._parsePOSTFormSubmission is False
