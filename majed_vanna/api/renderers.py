"""Wraps every DRF response in the contract's envelope (contract §1)."""

from rest_framework.renderers import JSONRenderer

from .envelope import error_envelope, error_for_status, success_envelope


class EnvelopeJSONRenderer(JSONRenderer):
    """Views return the bare ``data``; this renderer adds ``success``, ``message``, ``timestamp``, ``request_id``.

    A view sets ``response.message`` for a custom success message. Responses already built as an
    envelope (errors from the exception handler) carry ``response.enveloped = True`` and pass through.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and getattr(response, "enveloped", False):
            body = data
        elif response is not None and response.status_code >= 400:
            code, message = error_for_status(response.status_code)
            body = error_envelope(code, message, data)
        else:
            body = success_envelope(data, getattr(response, "message", None))
        return super().render(body, accepted_media_type, renderer_context)
