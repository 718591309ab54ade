"""What daphne's command line cannot set, set from inside the process (``majed_vanna.asgi`` calls ``harden``).

daphne imports the application before it builds its HTTP factory, so changes made at import time apply to
every connection it then accepts, whatever command started it (``scripts/run.sh``, the Dockerfile, a
process manager).

- **The client address is the socket peer.** ``--proxy-headers`` makes daphne replace the peer with the
  leftmost ``X-Forwarded-For`` entry, which the client writes: forged headers then chose the audit log's
  address and a fresh per-IP rate-limit bucket per try, and the real peer was lost. Here the flag no longer
  changes the address (the scheme from ``X-Forwarded-Proto`` is left as daphne sets it); the client address
  comes from ``TRUSTED_PROXY_COUNT`` alone (``majed_vanna.request_context``). Do not pass the flag anyway.
- **Read deadlines.** Twisted closes a connection only after it has been silent for a minute, so a client
  sending its headers or body a byte at a time held a connection (and its memory) open for as long as it
  liked. A request's line and headers must now arrive within ``HTTP_HEADER_TIMEOUT_SECONDS`` of the
  connection opening (or of the previous response on a kept-alive connection), and its body within
  ``HTTP_BODY_TIMEOUT_SECONDS`` of the headers; otherwise the answer is ``408 Request Timeout`` and the
  connection is closed (aborted if the client does not read). Responses, streams and WebSocket connections
  are not limited by these (the application runs only once the request has been read).
"""

import logging

from django.conf import settings

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


def harden() -> None:
    """Apply both changes when running under daphne; nothing otherwise."""
    try:
        from daphne import http_protocol, ws_protocol
    except ImportError:  # served by another ASGI server
        return
    keep_the_socket_peer(http_protocol, ws_protocol)
    install_read_deadlines(
        http_protocol.HTTPFactory,
        header_seconds=settings.HTTP_HEADER_TIMEOUT_SECONDS,
        body_seconds=settings.HTTP_BODY_TIMEOUT_SECONDS,
    )


def keep_the_socket_peer(*modules) -> None:
    """Make daphne's ``parse_x_forwarded_for`` (imported by name into each module) keep the peer address."""
    for module in modules:
        original = getattr(module, "parse_x_forwarded_for", None)
        if original is None or getattr(original, "keeps_the_peer", False):
            continue

        def parse(
            headers,
            address_header_name="X-Forwarded-For",
            port_header_name="X-Forwarded-Port",
            proto_header_name="X-Forwarded-Proto",
            original_addr=None,
            original_scheme=None,
            _original=original,
        ):
            _, scheme = _original(
                headers, address_header_name, port_header_name, proto_header_name, original_addr, original_scheme
            )
            return original_addr, scheme

        parse.keeps_the_peer = True
        module.parse_x_forwarded_for = parse


def install_read_deadlines(factory_class, *, header_seconds: float, body_seconds: float) -> None:
    """Build every HTTP/1.1 channel of ``factory_class`` (daphne's ``HTTPFactory``) as a ``ReadDeadlineChannel``."""
    from twisted.web import http

    channel_class = read_deadline_channel(http.HTTPChannel, header_seconds=header_seconds, body_seconds=body_seconds)

    def protocol(self):
        return http._GenericHTTPChannelProtocol(channel_class())

    factory_class.protocol = protocol


def read_deadline_channel(base, *, header_seconds: float, body_seconds: float):
    """A Twisted ``HTTPChannel`` subclass that gives up on requests that arrive too slowly."""

    class ReadDeadlineChannel(base):
        _read_deadline = None

        def connectionMade(self):
            super().connectionMade()
            self._arm(header_seconds)

        def allHeadersReceived(self):
            super().allHeadersReceived()
            self._arm(body_seconds)

        def allContentReceived(self):
            self._disarm()  # the request is read: the application runs with no deadline of ours
            super().allContentReceived()

        def requestDone(self, request):
            if self.persistent:  # kept alive: the next request's headers. Armed first: Twisted now reads any
                self._arm(header_seconds)  # pipelined request it buffered, which re-arms or disarms this
            super().requestDone(request)

        def connectionLost(self, reason):
            self._disarm()
            super().connectionLost(reason)

        def _arm(self, seconds: float) -> None:
            self._disarm()
            if seconds and seconds > 0:
                self._read_deadline = self.callLater(seconds, self._read_timed_out)

        def _disarm(self) -> None:
            if self._read_deadline is not None and self._read_deadline.active():
                self._read_deadline.cancel()
            self._read_deadline = None

        def _read_timed_out(self) -> None:
            self._read_deadline = None
            if self.transport is None or self.transport.disconnecting:
                return
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
            self.timeoutConnection()  # Twisted's own path: close, and abort if the client does not read

    return ReadDeadlineChannel
