"""At most ``PASSWORD_HASH_CONCURRENCY`` Argon2 hashes run at once in a process (memory bound)."""

import threading
import time

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password

from accounts.hashers import BoundedArgon2PasswordHasher

HASHER = "accounts.hashers.BoundedArgon2PasswordHasher"


@pytest.fixture
def argon2_counted(monkeypatch):
    """Make Argon2's work slow and count how many run at once."""
    lock, state = threading.Lock(), {"active": 0, "peak": 0}
    real_encode, real_verify = Argon2PasswordHasher.encode, Argon2PasswordHasher.verify

    def counted(real):
        def run(self, *args):
            with lock:
                state["active"] += 1
                state["peak"] = max(state["peak"], state["active"])
            try:
                time.sleep(0.05)
                return real(self, *args)
            finally:
                with lock:
                    state["active"] -= 1

        return run

    for name, value in {"memory_cost": 8, "time_cost": 1, "parallelism": 1}.items():  # cheap for the test
        monkeypatch.setattr(Argon2PasswordHasher, name, value)
    monkeypatch.setattr(Argon2PasswordHasher, "encode", counted(real_encode))
    monkeypatch.setattr(Argon2PasswordHasher, "verify", counted(real_verify))
    return state


def run_at_once(target, n: int) -> list:
    results, barrier = [None] * n, threading.Barrier(n)

    def worker(i):
        barrier.wait()
        results[i] = target()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_no_more_than_the_setting_hash_at_once(settings, argon2_counted, limit):
    settings.PASSWORD_HASHERS = [HASHER]
    settings.PASSWORD_HASH_CONCURRENCY = limit
    encoded = run_at_once(lambda: make_password("correct horse battery"), 8)
    assert argon2_counted["peak"] == limit
    argon2_counted["peak"] = 0
    assert run_at_once(lambda: check_password("correct horse battery", encoded[0]), 8) == [True] * 8
    assert argon2_counted["peak"] == limit


def test_hashes_stay_plain_argon2(settings, argon2_counted):
    settings.PASSWORD_HASHERS = [HASHER]
    encoded = make_password("correct horse battery")
    assert encoded.startswith("argon2$")
    assert Argon2PasswordHasher().verify("correct horse battery", encoded)  # readable without the subclass
    stored = Argon2PasswordHasher().encode("correct horse battery", Argon2PasswordHasher().salt())
    assert BoundedArgon2PasswordHasher().verify("correct horse battery", stored)  # existing hashes still verify


def test_the_project_hashes_with_it_two_at_a_time_by_default():
    from majed_vanna.settings import base  # the profiles' shared settings (the test profile uses MD5)

    assert base.PASSWORD_HASHERS[0] == HASHER
    assert base.PASSWORD_HASH_CONCURRENCY == 2
