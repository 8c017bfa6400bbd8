"""What the scanner reports: typed, located, masked and fingerprinted findings. Never the value itself."""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

DETECTOR_VERSION = "2026.11.1"


class FindingType(enum.StrEnum):
    CREDIT_CARD = "CREDIT_CARD"
    US_SSN = "US_SSN"
    CA_SIN = "CA_SIN"
    IBAN = "IBAN"
    ABA_ROUTING = "ABA_ROUTING"
    BANK_ACCOUNT = "BANK_ACCOUNT"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    DOB = "DOB"
    ADDRESS = "ADDRESS"
    IP_ADDRESS = "IP_ADDRESS"
    PASSWORD = "PASSWORD"  # noqa: S105 - a type name
    SIP_CREDENTIAL = "SIP_CREDENTIAL"
    PRIVATE_KEY = "PRIVATE_KEY"
    API_KEY = "API_KEY"
    BEARER_TOKEN = "BEARER_TOKEN"  # noqa: S105 - a type name


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


DEFAULT_SEVERITY: dict[str, Severity] = {
    FindingType.CREDIT_CARD: Severity.CRITICAL,
    FindingType.US_SSN: Severity.CRITICAL,
    FindingType.CA_SIN: Severity.CRITICAL,
    FindingType.IBAN: Severity.CRITICAL,
    FindingType.ABA_ROUTING: Severity.CRITICAL,
    FindingType.BANK_ACCOUNT: Severity.CRITICAL,
    FindingType.PRIVATE_KEY: Severity.CRITICAL,
    FindingType.PASSWORD: Severity.CRITICAL,
    FindingType.SIP_CREDENTIAL: Severity.CRITICAL,
    FindingType.API_KEY: Severity.CRITICAL,
    FindingType.BEARER_TOKEN: Severity.CRITICAL,
    FindingType.EMAIL: Severity.HIGH,
    FindingType.PHONE: Severity.HIGH,
    FindingType.DOB: Severity.HIGH,
    FindingType.ADDRESS: Severity.HIGH,
    FindingType.IP_ADDRESS: Severity.MEDIUM,  # a private (internal) address is reported as low
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One sensitive item: where it is in the raw post, how bad, a masked preview and a keyed fingerprint."""

    type: str
    start: int  # character offsets in the raw post: raw[start:end] is the item
    end: int
    severity: str
    preview: str
    fingerprint: str
    detector_version: str = DETECTOR_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "start": self.start,
            "end": self.end,
            "severity": self.severity,
            "preview": self.preview,
            "fingerprint": self.fingerprint,
            "detector_version": self.detector_version,
        }


def fingerprint(key: bytes, kind: str, normalized: str) -> str:
    """HMAC-SHA256 of the type and the normalized value under the server's key (128 bits, hex): the same
    value is recognised again without being stored, and cannot be recovered or guessed without the key."""
    # surrogatepass: a JSON "\\ud83d" escape gives a lone surrogate, which must fingerprint, not crash.
    data = f"{kind}\x00{normalized}".encode("utf-8", "surrogatepass")
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:32]
