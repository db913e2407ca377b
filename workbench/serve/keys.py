"""API keys of a published model: made once, shown once, kept only as a SHA-256 hash.

A key is 32 random bytes (`secrets.token_urlsafe`), so an unsalted hash is safe to store: nobody can
guess their way back from it. The server holds the hash only, so it cannot log or leak the key itself.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "wb-"


def new_key() -> tuple[str, str]:
    """(key, its sha256 hex digest): show the key to the user once, store the digest."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key_hash(key)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def bearer_matches(authorization: str | None, stored_hash: str) -> bool:
    """True when the `Authorization: Bearer <key>` header carries the key; compared in constant time."""
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return False
    return hmac.compare_digest(key_hash(key.strip()), stored_hash)
