"""``Idempotency-Key`` for POST requests (contract §6).

Keyed per caller and kept 24 h in the shared cache. A repeat with the same body replays the stored
status and body with ``Idempotent-Replayed: true``; one-time secrets are not kept (they replay as
``null``). A different body is 422 IDEMPOTENCY_KEY_REUSED; a repeat while the first is still running is
409 CONFLICT. Only successful responses are kept: an error (4xx or 5xx) means nothing was done, so the
key is released and a corrected retry may use it.

"The same body" is the same bytes, except for ``multipart/form-data``: every HTTP library picks its own random
boundary, so a retried upload never has the same bytes. A multipart request is compared by its parsed content
instead (form fields by name, each file by field name, file name and SHA-256 of its content). That needs the
parse, so ``begin`` parses the request before it claims the key; DRF and Django keep the parsed result, so the
view reads the same data without a second parse. Files over ``FILE_UPLOAD_MAX_MEMORY_SIZE`` are spooled to
temporary files by Django's upload handlers and hashed in chunks: the upload is not held in memory, and the
raw body is not read here, so an endpoint allowed a larger body (``backups/upload``) keeps its own limit.
(An HMAC-signed request is the exception: its signature covers the raw body, which is then read in full.)
"""

import hashlib
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from rest_framework.exceptions import UnsupportedMediaType

from majed_vanna.cache_client import CACHE_ERRORS
from majed_vanna.exceptions import BadRequestError, ConflictError, IdempotencyKeyReusedError, ValidationFailedError

from .callers import caller_key

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
ONE_TIME_SECRET_FIELDS = frozenset({"client_secret", "api_key", "temporary_password"})
IN_FLIGHT_SECONDS = 10 * 60  # a crashed worker's claim expires; the key then behaves as new
CLAIM_ATTEMPTS = 3

logger = logging.getLogger(__name__)


@dataclass
class Claim:
    cache_key: str
    fingerprint: str


@dataclass
class Replay:
    status: int
    data: object
    message: str | None


def _is_multipart(request) -> bool:
    return request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data")


def _file_sha256(upload) -> str:
    """SHA-256 of an uploaded file, read chunk by chunk from wherever Django put it (memory or a temp file)."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)  # the view reads it from the start
    return digest.hexdigest()


def _form_content(request) -> bytes:
    """The parsed form as canonical bytes: fields sorted by name (each with its values in the order sent),
    files as (field name, file name, SHA-256) sorted. Parsing happens here if nothing parsed it yet."""
    try:
        fields, files = request.POST, request.FILES  # a DRF Request parses with the view's parsers
    except MultiPartParserError as exc:  # a plain Django request (async views); DRF raises ParseError itself
        raise BadRequestError("Malformed multipart body") from exc
    canonical = {
        "fields": sorted(fields.lists()),
        "files": sorted(
            (name, upload.name, _file_sha256(upload)) for name, uploads in files.lists() for upload in uploads
        ),
    }
    return json.dumps(canonical, ensure_ascii=False).encode()


def _body_bytes(request) -> bytes:
    raw = getattr(request, "_request", request)  # a DRF Request or a Django HttpRequest
    try:
        return raw.body
    except RawPostDataException:
        # Something parsed the stream before (e.g. a permission class read ``request.data``): use the parsed data.
        return json.dumps(getattr(request, "data", None), sort_keys=True, default=str).encode()


def _content(request) -> bytes:
    if _is_multipart(request):
        try:
            return b"multipart\n" + _form_content(request)
        except UnsupportedMediaType:  # the view takes no form data: nothing parsed, the raw bytes decide
            pass
    return b"raw\n" + _body_bytes(request)


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\n" + request.path.encode() + b"\n")
    digest.update(request.META.get("QUERY_STRING", "").encode() + b"\n")
    digest.update(_content(request))
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
    # Before the claim: a multipart fingerprint parses the request (see the module docstring). A repeat that
    # arrives meanwhile parses too, then finds the claim (409) or the finished outcome (replay).
    fingerprint = _fingerprint(request)
    claim = {"state": "in_flight", "fingerprint": fingerprint}
    for _ in range(CLAIM_ATTEMPTS):
        # Only an atomic add claims a key: an entry that expired between a failed add and the read is
        # claimed by the next add, which exactly one of several concurrent requests wins.
        if cache.add(cache_key, claim, timeout=IN_FLIGHT_SECONDS):
            return Claim(cache_key=cache_key, fingerprint=fingerprint)
        stored = cache.get(cache_key)
        if stored is not None:
            break
    else:
        raise ConflictError("A request with this Idempotency-Key is still being processed")
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
    """Store a successful outcome for replays.

    Runs after the work is done (committed): a cache that fails now is logged, never raised, so the success
    is still answered as one. The key then stays claimed (409 to a repeat) until its in-flight entry
    expires (``IN_FLIGHT_SECONDS``), or is gone if Redis lost its data.
    """
    outcome = {
        "state": "done",
        "fingerprint": claim.fingerprint,
        "status": status,
        "data": strip_secrets(data),
        "message": message,
    }
    try:
        cache.set(claim.cache_key, outcome, timeout=settings.IDEMPOTENCY_TTL_SECONDS)
    except CACHE_ERRORS:
        logger.warning("Idempotency-Key outcome not stored (the cache is unavailable); the response stands")


def release(claim: Claim) -> None:
    """Forget the claim of a request that failed (nothing was done). Logged, never raised, if the cache fails:
    the response in hand is the one to send; the claim expires after ``IN_FLIGHT_SECONDS``."""
    try:
        cache.delete(claim.cache_key)
    except CACHE_ERRORS:
        logger.warning("Idempotency-Key claim not released (the cache is unavailable)")
