"""Argon2 with a bound on how many passwords one process hashes at once.

One Argon2 hash holds about 100 MB (Django's ``memory_cost``) and up to eight threads for ~50 ms; ten
concurrent logins took a process to 1.07 GB. ``BoundedArgon2PasswordHasher`` lets at most
``PASSWORD_HASH_CONCURRENCY`` (default 2) hashes or verifications run at once per process; the others
wait their turn (a login then takes a little longer under a burst, never more memory). The algorithm name
stays ``argon2``: stored hashes are unchanged.
"""

import threading

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

DEFAULT_CONCURRENCY = 2

_slots: threading.BoundedSemaphore | None = None
_slots_size = 0
_slots_lock = threading.Lock()


def hash_slots() -> threading.BoundedSemaphore:
    """The process's semaphore, sized by ``PASSWORD_HASH_CONCURRENCY`` (re-made if the setting changes)."""
    global _slots, _slots_size
    size = max(1, int(getattr(settings, "PASSWORD_HASH_CONCURRENCY", DEFAULT_CONCURRENCY)))
    with _slots_lock:
        if _slots is None or _slots_size != size:
            _slots, _slots_size = threading.BoundedSemaphore(size), size
        return _slots


class BoundedArgon2PasswordHasher(Argon2PasswordHasher):
    def encode(self, password, salt):
        with hash_slots():
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with hash_slots():
            return super().verify(password, encoded)
