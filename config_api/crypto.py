"""Encryption at rest for the stored LLM API key: Fernet keyed by ``derived_key(SECRET_KEY, "config")``."""

import base64

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from majed_vanna.settings.base import derived_key


def _fernet() -> Fernet:
    raw = bytes.fromhex(derived_key(settings.SECRET_KEY, "config"))
    return Fernet(base64.urlsafe_b64encode(raw))


def encrypt_secret(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt_secret(token: str) -> str | None:
    """The plain secret, or ``None`` when it cannot be decrypted (e.g. SECRET_KEY changed)."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None
