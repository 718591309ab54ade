"""Login lockout (contract §3): ``LOGIN_FAILURE_LIMIT`` consecutive failures lock a username for
``LOGIN_LOCKOUT_SECONDS``.

State lives in the shared cache (Redis in production), so every server process sees the same counts
and an admin unlock takes effect everywhere at once. It is keyed by the attempted username whether or
not an account exists, so a lockout never reveals which usernames are real. The lock's end is stored as
a timestamp (the cache TTL only cleans up), so the cool-off is exact.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

from majed_vanna.cache_client import CACHE_ERRORS

logger = logging.getLogger(__name__)


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def username_key(username: str) -> str:
    return hashlib.sha256(normalize_username(username).encode()).hexdigest()[:40]


def _fails_key(username: str) -> str:
    return f"lockout:fails:{username_key(username)}"


def _until_key(username: str) -> str:
    return f"lockout:until:{username_key(username)}"


def _remaining(until) -> int:
    if until is None:
        return 0
    return max(0, math.ceil(float(until) - time.time()))


def locked_for(username: str) -> int:
    """Seconds left on this username's lockout (0 when not locked)."""
    return _remaining(cache.get(_until_key(username)))


def locked_usernames(usernames) -> set[str]:
    """The subset of ``usernames`` that is locked right now (one cache round trip)."""
    keys = {_until_key(name): name for name in usernames}
    found = cache.get_many(list(keys))
    return {keys[key] for key, until in found.items() if _remaining(until) > 0}


def register_failure(username: str) -> int:
    """Count a failed attempt; returns the lockout length in seconds when this failure locks, else 0."""
    seconds = settings.LOGIN_LOCKOUT_SECONDS
    key = _fails_key(username)
    if cache.add(key, 1, timeout=seconds):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=seconds)
            count = 1
    if count < settings.LOGIN_FAILURE_LIMIT:
        return 0
    cache.set(_until_key(username), time.time() + seconds, timeout=seconds + 60)
    cache.delete(key)
    return seconds


def register_success(username: str) -> None:
    """A successful login ends the run of consecutive failures."""
    cache.delete(_fails_key(username))


def unlock(username: str) -> bool:
    """Lift the lockout and forget the failures; True if the username was locked. Raises when the cache cannot
    be reached (the unlock endpoint answers 503: nothing was done)."""
    was_locked = locked_for(username) > 0
    cache.delete_many([_fails_key(username), _until_key(username)])
    return was_locked


def unlock_after_commit(username: str) -> None:
    """``unlock`` for a caller whose own change is already committed (a password reset): a cache that cannot
    be reached is logged, never raised, so the committed change is still answered as done. The lockout then
    ends on its own (``LOGIN_LOCKOUT_SECONDS``) or with ``users/{id}/unlock``."""
    try:
        unlock(username)
    except CACHE_ERRORS:
        logger.warning("Lockout not lifted (the cache is unavailable); it ends on its own")
