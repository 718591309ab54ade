"""Settings entry point: picks the production or local profile from ``DJANGO_ENV``.

``manage.py``, ASGI, WSGI and Celery all point at ``majed_vanna.settings``; tests use
``majed_vanna.settings.test`` (see ``pytest.ini``).
"""

import os

if os.environ.get("DJANGO_ENV", "development").lower() == "production":
    from .production import *  # noqa: F403
else:
    from .local import *  # noqa: F403
