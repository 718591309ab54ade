"""``Idempotency-Key`` for POST requests (contract §6).

Keyed per caller and kept 24 h in the shared cache. A repeat with the same body replays the stored
status and body with ``Idempotent-Replayed: true``; one-time secrets are not kept (they replay as
``null``). A different body is 422 IDEMPOTENCY_KEY_REUSED; a repeat while the first is still running is
409 CONFLICT. Only successful responses are kept: an error (4xx or 5xx) means nothing was done, so the
key is released and a corrected retry may use it.
"""

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http.request import RawPostDataException

from majed_vanna.exceptions import ConflictError, IdempotencyKeyReusedError, ValidationFailedError

from .callers import caller_key

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
ONE_TIME_SECRET_FIELDS = frozenset({"client_secret", "api_key", "temporary_password"})
IN_FLIGHT_SECONDS = 10 * 60  # a crashed worker's claim expires; the key then behaves as new


@dataclass
class Claim:
    cache_key: str
    fingerprint: str


@dataclass
class Replay:
    status: int
    data: object
    message: str | None


def _body_bytes(request) -> bytes:
    raw = getattr(request, "_request", request)  # a DRF Request or a Django HttpRequest
    try:
        return raw.body
    except RawPostDataException:
        # The body stream was already consumed (e.g. a multipart upload was parsed): use the parsed data.
        return json.dumps(getattr(request, "data", None), sort_keys=True, default=str).encode()


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\n" + request.path.encode() + b"\n")
    digest.update(_body_bytes(request))
    return digest.hexdigest()


def begin(request) -> Claim | Replay | None:
    """Claim the key for this request, or return what to replay. ``None`` when the request has no key."""
    if request.method != "POST":
        return None
    key = request.META.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailedError(details={"Idempotency-Key": [f"Must be 1 to {MAX_KEY_LENGTH} characters."]})
    cache_key = "idem:" + hashlib.sha256(f"{caller_key(request)}\n{key}".encode()).hexdigest()
    fingerprint = _fingerprint(request)
    if cache.add(cache_key, {"state": "in_flight", "fingerprint": fingerprint}, timeout=IN_FLIGHT_SECONDS):
        return Claim(cache_key=cache_key, fingerprint=fingerprint)
    stored = cache.get(cache_key)
    if stored is None:  # expired in between: claim it now
        cache.set(cache_key, {"state": "in_flight", "fingerprint": fingerprint}, timeout=IN_FLIGHT_SECONDS)
        return Claim(cache_key=cache_key, fingerprint=fingerprint)
    if stored["fingerprint"] != fingerprint:
        raise IdempotencyKeyReusedError()
    if stored["state"] == "in_flight":
        raise ConflictError("A request with this Idempotency-Key is still being processed")
    return Replay(status=stored["status"], data=stored["data"], message=stored.get("message"))


def strip_secrets(data):
    if isinstance(data, dict):
        return {k: (None if k in ONE_TIME_SECRET_FIELDS else strip_secrets(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [strip_secrets(item) for item in data]
    return data


def finish(claim: Claim, *, status: int, data, message: str | None) -> None:
    """Store a successful outcome for replays."""
    cache.set(
        claim.cache_key,
        {
            "state": "done",
            "fingerprint": claim.fingerprint,
            "status": status,
            "data": strip_secrets(data),
            "message": message,
        },
        timeout=settings.IDEMPOTENCY_TTL_SECONDS,
    )


def release(claim: Claim) -> None:
    cache.delete(claim.cache_key)
