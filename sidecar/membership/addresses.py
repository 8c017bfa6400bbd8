"""Email addresses and domains in the one form they are stored and compared in.

Mail providers treat the domain case-insensitively and, in practice, the local part too; members type their
address in whatever case, so every address is trimmed and lowercased before it is stored or looked up.
"""

from __future__ import annotations

import re

# Deliberately loose: the forum verifies that an address receives mail; this only refuses what cannot be
# an address at all (no @, blanks, an empty side).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_DOMAIN = re.compile(r"[^@\s.]+(\.[^@\s.]+)+")


def normalize_email(text: str) -> str:
    return text.strip().lower()


def normalize_domain(text: str) -> str:
    return text.strip().lower()


def is_email(normalized: str) -> bool:
    return _EMAIL.fullmatch(normalized) is not None


def is_domain(normalized: str) -> bool:
    return _DOMAIN.fullmatch(normalized) is not None


def domain_of(email: str) -> str:
    """The domain of an address, normalized (``Ann@Acme.COM`` -> ``acme.com``); '' when there is none."""
    _, at, domain = normalize_email(email).rpartition("@")
    return domain if at else ""
