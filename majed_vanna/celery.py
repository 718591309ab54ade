"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in each app's ``tasks.py``.

With ``REDIS_URL`` set the broker is Redis; without it tasks run eagerly in-process (README).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majed_vanna.settings")

app = Celery("majed_vanna")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
