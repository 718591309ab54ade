"""Credentials of integration clients: generation, API-key hashing, secret encryption at rest.

API keys and secrets are 256-bit random values, so a single SHA-256 is enough to store the API key: slow
password hashes (Argon2, PBKDF2) exist to make guessing low-entropy human passwords expensive, and nobody can
guess 2^256 values. A fast hash also keeps per-request verification cheap. The key carries a public prefix
(``mvk_<prefix>.<random>``) so its row is found by an indexed lookup, then the hash is compared in
constant time.

The signing secret has to be recovered to verify an HMAC, so it is encrypted by the core's one encryption
module (``majed_vanna.crypto``, purpose ``integrations``) with keys from ``settings.INTEGRATIONS_ENCRYPTION_KEYS``,
newest first. Each entry is any passphrase of at least 32 characters, or ``secret_key`` for keys derived from
``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` (the default). Decryption tries every key; encryption uses the
first. To rotate: put the new key first, restart, run ``manage.py reencrypt_secrets``, then drop the old key.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from majed_vanna import crypto as core_crypto

CLIENT_ID_PREFIX = "mvc_"
API_KEY_PREFIX = "mvk_"
SECRET_PREFIX = "mvs_"
SECRET_KEY_MARKER = "secret_key"
MIN_PASSPHRASE_LENGTH = 32
PURPOSE = "integrations"


@dataclass(frozen=True)
class NewCredentials:
    """Freshly issued credentials: the raw values exist only here, to be shown once."""

    client_secret: str
    api_key: str
    api_key_prefix: str
    api_key_hash: str
    secret_encrypted: str


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(12)


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def api_key_prefix_of(api_key: str) -> str | None:
    """The public prefix of a well-formed key (``mvk_<12 hex>.<random>``), else ``None``."""
    if not api_key.startswith(API_KEY_PREFIX) or len(api_key) > 200:
        return None
    prefix, dot, rest = api_key.partition(".")
    if not dot or not rest or len(prefix) != len(API_KEY_PREFIX) + 12:
        return None
    # Only lower-case hex reaches the database (a NUL byte there is an error on PostgreSQL, not a miss).
    if not all(ch in "0123456789abcdef" for ch in prefix[len(API_KEY_PREFIX) :]):
        return None
    return prefix


def api_key_matches(api_key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(api_key), stored_hash)


def issue_credentials() -> NewCredentials:
    prefix = API_KEY_PREFIX + secrets.token_hex(6)
    api_key = f"{prefix}.{secrets.token_urlsafe(32)}"
    client_secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    return NewCredentials(
        client_secret=client_secret,
        api_key=api_key,
        api_key_prefix=prefix,
        api_key_hash=hash_api_key(api_key),
        secret_encrypted=encrypt_secret(client_secret),
    )


def _key_materials() -> list[str]:
    """``INTEGRATIONS_ENCRYPTION_KEYS`` expanded: ``secret_key`` stands for SECRET_KEY and its fallbacks."""
    entries = list(getattr(settings, "INTEGRATIONS_ENCRYPTION_KEYS", None) or [SECRET_KEY_MARKER])
    materials: list[str] = []
    for entry in entries:
        if entry == SECRET_KEY_MARKER:
            materials.extend(core_crypto.secret_key_materials())
        elif len(entry) < MIN_PASSPHRASE_LENGTH:
            raise ImproperlyConfigured(
                f"Each INTEGRATIONS_ENCRYPTION_KEYS entry must be '{SECRET_KEY_MARKER}' or at least "
                f"{MIN_PASSPHRASE_LENGTH} characters long."
            )
        else:
            materials.append(entry)
    return materials


def encrypt_secret(secret: str) -> str:
    return core_crypto.encrypt(secret, purpose=PURPOSE, materials=_key_materials())


def decrypt_secret(token: str) -> str | None:
    """The raw secret, or ``None`` when no configured key decrypts it (the client then cannot sign)."""
    try:
        return core_crypto.decrypt(token, purpose=PURPOSE, materials=_key_materials())
    except core_crypto.SecretUnreadableError:
        return None


def reencrypt_secret(token: str) -> str:
    """The same secret encrypted with the newest key (``SecretUnreadableError`` if no key decrypts it)."""
    return core_crypto.reencrypt(token, purpose=PURPOSE, materials=_key_materials())
