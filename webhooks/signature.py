"""Discourse's webhook signature: ``X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256(secret, body)>``.

dc: app/jobs/regular/emit_web_hook_event.rb (``build_webhook_headers``). The HMAC covers the raw request
bytes, so it is checked against them, never against re-serialised JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import string

PREFIX = "sha256="
_HEX_DIGEST_LENGTH = hashlib.sha256().digest_size * 2
_HEX = frozenset(string.hexdigits)


class SignatureError(Exception):
    """The signature is missing or does not match; ``reason`` is machine-readable."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def sign(secret: bytes, body: bytes) -> str:
    """The header value Discourse would send for ``body``."""
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> None:
    """Raise SignatureError unless ``header`` is the signature of ``body`` under ``secret``."""
    if not header:
        raise SignatureError("missing_signature", "X-Discourse-Event-Signature header is missing")
    if not header.startswith(PREFIX):
        raise SignatureError("bad_signature", "signature must start with 'sha256='")
    digest = header[len(PREFIX) :]
    if len(digest) != _HEX_DIGEST_LENGTH or not _HEX.issuperset(digest):
        raise SignatureError("bad_signature", "signature must be 64 hexadecimal digits")
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, digest.lower()):
        raise SignatureError("bad_signature", "signature does not match the body")
