"""Helpers shared by the scanner tests: one scanner under a fixed key, findings as (type, text) pairs."""

from __future__ import annotations

from sidecar.scanner import Finding, Scanner, ScanSettings

KEY = b"scanner-tests-fingerprint-key-0123456789"
SCANNER = Scanner(KEY)


def scanner(settings: ScanSettings | None = None, key: bytes = KEY) -> Scanner:
    return Scanner(key, settings)


def found(raw: str, scan: Scanner = SCANNER) -> list[tuple[str, str]]:
    """Every finding as (type, the exact text of its span in ``raw``), in the order the scanner gives."""
    return [(str(f.type), raw[f.start : f.end]) for f in scan.scan(raw)]


def only(raw: str, kind: str, scan: Scanner = SCANNER) -> Finding:
    """The one finding of ``raw``, which must be of type ``kind``."""
    findings = scan.scan(raw)
    assert [str(f.type) for f in findings] == [kind], found(raw, scan)
    return findings[0]


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())
