"""Django's PostgreSQL connection pools across ``fork()`` (Celery's prefork workers).

Django keeps one psycopg pool per database alias in a class attribute. A forked child inherits the
parent's pool object, its idle connections (sockets shared with the parent) and none of its worker
threads: using it would mix two processes' traffic on one connection. The child forgets the inherited
pools (without closing them: that would end the parent's sessions) and opens its own on first use.
"""

import os


def forget_inherited_pools() -> None:
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper
    except ImportError:  # no psycopg: no pools
        return
    DatabaseWrapper._connection_pools.clear()


def install() -> None:
    os.register_at_fork(after_in_child=forget_inherited_pools)
