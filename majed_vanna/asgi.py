"""ASGI entry point (daphne): HTTP goes to Django, WebSocket to the agent's consumers behind host-origin
validation and the connection context (request id, client IP); consumers authenticate through the same
request policy as HTTP (``majed_vanna.ws``)."""

import os

from majed_vanna.asgi_handler import get_asgi_application  # Django's, with async views on a bounded pool


def _leave_form_bodies_to_django() -> None:
    """Stop Twisted from parsing ``multipart/form-data`` and urlencoded POST bodies under daphne.

    Twisted's ``Request`` parses them for ``request.args``, which daphne never reads: the whole body is read
    into memory and parsed on the reactor thread (an upload of ``MV_BACKUP_UPLOAD_MAX_BYTES`` held the event
    loop and several times its size in memory), and a body it cannot parse got a bare 400 with no envelope.
    Django parses the body itself, streaming files to disk. Twisted sets the flag per request in
    ``__init__``, so a class property that ignores the assignment keeps it off.
    """
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # served by another ASGI server
        return
    WebRequest._parsePOSTFormSubmission = property(lambda self: False, lambda self, value: None)


_leave_form_bodies_to_django()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majed_vanna.settings")
django_asgi_app = get_asgi_application()

from majed_vanna.daphne_hardening import harden  # noqa: E402

harden()  # under daphne: the socket peer stays the client address, and slow requests meet read deadlines

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from agent.routing import websocket_urlpatterns  # noqa: E402
from majed_vanna.ws import WebSocketContextMiddleware  # noqa: E402


def websocket_application(urlpatterns):
    return AllowedHostsOriginValidator(WebSocketContextMiddleware(URLRouter(urlpatterns)))


application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application(websocket_urlpatterns)})
