"""Encryption at rest for every stored secret (the LLM API key, integration client secrets): one module.

Fernet (AES-128-CBC + HMAC-SHA256) through ``MultiFernet``: encryption uses the first key, decryption tries
each in turn. Keys are derived per *purpose* (``derived_key(material, purpose)``: HMAC-SHA256 of
``"majed-vanna:<purpose>"`` keyed by the material), so the LLM key and the client secrets never share a key
and neither shares one with JWT signing. The materials are ``SECRET_KEY`` then each of
``SECRET_KEY_FALLBACKS``, unless a caller passes its own list (integration clients may use passphrases:
``INTEGRATIONS_ENCRYPTION_KEYS``).

Rotating ``SECRET_KEY``: move the old key to ``SECRET_KEY_FALLBACKS`` and restart (everything still
decrypts), run ``manage.py reencrypt_secrets`` (every encrypted field is rewritten with the new key), then
drop the fallback.

Apps register each encrypted field with ``register_encrypted_field`` (in ``AppConfig.ready()``) so that the
re-encrypt command covers every one of them without the core knowing their models.
"""

import base64
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadableError(ValueError):
    """No configured key decrypts this ciphertext (e.g. ``SECRET_KEY`` changed without a fallback)."""


def derived_key(secret: str, purpose: str) -> str:
    """A hex key for one purpose derived from ``secret`` (same scheme as ``settings.base.derived_key``)."""
    from majed_vanna.settings.base import derived_key as settings_derived_key

    return settings_derived_key(secret, purpose)


def secret_key_materials() -> list[str]:
    """``SECRET_KEY`` then each of ``SECRET_KEY_FALLBACKS`` (newest first)."""
    return [settings.SECRET_KEY, *(getattr(settings, "SECRET_KEY_FALLBACKS", None) or [])]


@functools.lru_cache(maxsize=32)
def _multi_fernet(purpose: str, materials: tuple[str, ...]) -> MultiFernet:
    keys = [base64.urlsafe_b64encode(bytes.fromhex(derived_key(material, purpose))) for material in materials]
    return MultiFernet([Fernet(key) for key in keys])


def _fernet(purpose: str, materials: Sequence[str] | None) -> MultiFernet:
    chosen = tuple(materials) if materials is not None else tuple(secret_key_materials())
    if not chosen:
        raise ValueError("No encryption key material is configured.")
    return _multi_fernet(purpose, chosen)


def encrypt(value: str, *, purpose: str, materials: Sequence[str] | None = None) -> str:
    """``value`` encrypted with the newest key for ``purpose``."""
    return _fernet(purpose, materials).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str, *, purpose: str, materials: Sequence[str] | None = None) -> str:
    """The plain value; ``SecretUnreadableError`` when no key (current or fallback) decrypts it."""
    try:
        return _fernet(purpose, materials).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise SecretUnreadableError("No configured key decrypts this value.") from exc


def reencrypt(token: str, *, purpose: str, materials: Sequence[str] | None = None) -> str:
    """The same value encrypted with the newest key; ``SecretUnreadableError`` if no key decrypts it."""
    try:
        return _fernet(purpose, materials).rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise SecretUnreadableError("No configured key decrypts this value.") from exc


@dataclass(frozen=True)
class ReencryptResult:
    reencrypted: int = 0
    unreadable: int = 0
    empty: int = 0


@dataclass(frozen=True)
class EncryptedField:
    """One kind of stored secret: ``reencrypt()`` rewrites every stored value with the newest key."""

    name: str
    label: str
    reencrypt: Callable[[], ReencryptResult]


_fields: dict[str, EncryptedField] = {}


def register_encrypted_field(name: str, *, label: str, reencrypt: Callable[[], ReencryptResult]) -> None:
    _fields[name] = EncryptedField(name=name, label=label, reencrypt=reencrypt)


def encrypted_fields() -> list[EncryptedField]:
    return [_fields[name] for name in sorted(_fields)]
