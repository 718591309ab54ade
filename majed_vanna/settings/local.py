"""Development profile: embedded defaults, generated secret key, DEBUG on unless told otherwise."""

from .base import *  # noqa: F403
from .base import _generated_secret_key, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = SECRET_KEY or _generated_secret_key()  # noqa: F405
SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY or derived_key(SECRET_KEY, "jwt")  # noqa: F405
