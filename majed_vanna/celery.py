"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in each app's ``tasks.py``.

With ``REDIS_URL`` set the broker is Redis; without it tasks run eagerly in-process (README).

``Consumer`` is the worker's consumer (setting ``CELERY_WORKER_CONSUMER``). celery 5.7.0, the latest release,
brought a regression with celery#10242 ("prevent graceful shutdown regression in connection recovery"): when
the broker connection is lost, the consumer first ``collect()``s the connection, which detaches its transport,
and then ``close()``s it. With a Redis broker and a message unacknowledged (a task running: tasks are
acknowledged late), that close tries to hand the message back through the transport that is gone, and so does
the late acknowledgement of the task once it has finished: both raise
``AttributeError: 'NoneType' object has no attribute 'hostname'`` and the worker exits ("Unrecoverable error").
No later celery or kombu release fixes it (celery main still closes the collected connection). ``Consumer``
does what celery 5.6 did: it collects the lost connection (with celery 5.7's bounded socket timeout) and does
not close it afterwards; the worker reconnects, the running task goes on and its acknowledgement reaches the
new Redis. Remove it once a celery release no longer closes a collected connection.
"""

import os

from celery import Celery
from celery.worker.consumer import Consumer as CeleryConsumer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majed_vanna.settings")

app = Celery("majed_vanna")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _leave_open() -> None:
    """The collected connection keeps its channel, whose pending acknowledgements still work."""


class Consumer(CeleryConsumer):
    """The worker's consumer: survives the loss of a Redis broker connection with a task running."""

    def on_connection_error_after_connected(self, exc):
        connection = self.connection
        if connection is not None:
            connection.close = connection.release = _leave_open
        super().on_connection_error_after_connected(exc)
