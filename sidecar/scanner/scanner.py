"""The scanner: one post in, findings out. Pure (no database, no forum, no clock); safe to share across
threads once built.

``scan`` runs every detector over the raw post, drops what lies in someone else's quote, keeps the
strongest of overlapping candidates (a password inside a SIP URI is one credential, not also an email),
applies the allowlists, and returns findings sorted by position. Offsets are character offsets into the
raw post as given.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import rtn as stdnum_rtn

from sidecar.scanner import detectors
from sidecar.scanner.detectors import DOT, Candidate
from sidecar.scanner.findings import DEFAULT_SEVERITY, Finding, FindingType, Severity, fingerprint
from sidecar.scanner.prefilter import EVERYWHERE, Lines, compiled
from sidecar.scanner.regions import inside, quoted_spans

# When candidates overlap, the first type here wins.
PRIORITY = [
    FindingType.PRIVATE_KEY,
    FindingType.API_KEY,
    FindingType.BEARER_TOKEN,
    FindingType.SIP_CREDENTIAL,
    FindingType.PASSWORD,
    FindingType.IBAN,  # a grouped IBAN holds card-shaped digit runs
    FindingType.CREDIT_CARD,
    FindingType.US_SSN,
    FindingType.CA_SIN,
    FindingType.ABA_ROUTING,
    FindingType.BANK_ACCOUNT,
    FindingType.EMAIL,
    FindingType.DOB,
    FindingType.PHONE,
    FindingType.ADDRESS,
    FindingType.IP_ADDRESS,
]

VALIDATORS: dict[str, Callable[[str], bool]] = {
    "none": lambda _value: True,
    "luhn": lambda value: luhn.is_valid(re.sub(r"\D", "", value)) if re.search(r"\d", value) else False,
    "iban": lambda value: stdnum_iban.is_valid(value),
    "aba": lambda value: stdnum_rtn.is_valid(re.sub(r"\D", "", value)),
}


class RuleError(ValueError):
    """A custom rule or allowlist entry that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class CustomRule:
    """An extra type from the configuration: a regex (group 1, if any, is the value) and a validator."""

    type: str
    severity: Severity
    pattern: re.Pattern[str]
    validator: str = "none"

    @classmethod
    def parse(cls, text: str) -> CustomRule:
        """``TYPE|severity|validator|regex`` (the regex is everything after the third ``|``)."""
        parts = text.split("|", 3)
        if len(parts) != 4:
            raise RuleError(f"custom rule {text!r}: write it as TYPE|severity|validator|regex")
        kind, severity, validator = (p.strip() for p in parts[:3])
        pattern = parts[3]
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,40}", kind):
            raise RuleError(f"custom rule {text!r}: the type must be UPPER_CASE letters, digits and _")
        if severity not in {s.value for s in Severity}:
            raise RuleError(f"custom rule {text!r}: severity must be one of critical, high, medium, low")
        if validator not in VALIDATORS:
            raise RuleError(f"custom rule {text!r}: validator must be one of {', '.join(VALIDATORS)}")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise RuleError(f"custom rule {text!r}: the regex does not compile ({exc})") from None
        return cls(kind, Severity(severity), compiled, validator)

    def candidates(self, text: str, _lines: Lines = EVERYWHERE) -> Iterator[Candidate]:
        check = VALIDATORS[self.validator]
        for match in self.pattern.finditer(text):
            group = 1 if self.pattern.groups else 0
            value = match.group(group)
            if value and check(value):
                yield Candidate(
                    self.type, match.start(group), match.end(group), value, DOT * 4, self.severity
                )


@dataclass(frozen=True)
class ScanSettings:
    """What the configuration may change; the defaults are the scanner's own."""

    severity: dict[str, Severity] = field(default_factory=dict)  # overrides of DEFAULT_SEVERITY, by type
    allow_fingerprints: frozenset[str] = frozenset()
    allow_values: tuple[re.Pattern[str], ...] = ()  # full match against the value
    allow_domains: tuple[str, ...] = ()  # email domains (and their subdomains) never reported
    custom_rules: tuple[CustomRule, ...] = ()

    @classmethod
    def parse(
        cls,
        *,
        severity: Iterable[str] = (),
        allow_fingerprints: Iterable[str] = (),
        allow_values: Iterable[str] = (),
        allow_domains: Iterable[str] = (),
        custom_rules: Iterable[str] = (),
    ) -> ScanSettings:
        """From the configuration's strings; raises RuleError naming the bad entry."""
        overrides: dict[str, Severity] = {}
        rules = tuple(CustomRule.parse(r) for r in custom_rules)
        known = {t.value for t in FindingType} | {r.type for r in rules}
        for entry in severity:
            kind, _, level = entry.partition("=")
            kind, level = kind.strip().upper(), level.strip().lower()
            if kind not in known:
                raise RuleError(f"severity {entry!r}: unknown type {kind!r}")
            if level not in {s.value for s in Severity}:
                raise RuleError(f"severity {entry!r}: write TYPE=critical|high|medium|low")
            overrides[kind] = Severity(level)
        patterns = []
        for pattern in allow_values:
            try:
                patterns.append(re.compile(pattern))
            except re.error as exc:
                raise RuleError(f"allowed value pattern {pattern!r} does not compile ({exc})") from None
        return cls(
            severity=overrides,
            allow_fingerprints=frozenset(f.strip().lower() for f in allow_fingerprints),
            allow_values=tuple(patterns),
            allow_domains=tuple(d.strip().lower().lstrip("@") for d in allow_domains if d.strip()),
            custom_rules=rules,
        )


class Scanner:
    def __init__(self, key: bytes, settings: ScanSettings | None = None, *, prefilter: bool = True) -> None:
        """``prefilter=False`` runs every pattern over the whole post even where Hyperscan is installed: the
        same findings, slower (the tests compare the two)."""
        if len(key) < 16:
            raise ValueError("the fingerprint key must be at least 16 bytes")
        self._key = key
        self.settings = settings or ScanSettings()
        domains = self.settings.allow_domains
        self._detectors: list[Callable[[str, Lines], Iterable[Candidate]]] = [
            detectors.keys_and_tokens,
            detectors.passwords,
            detectors.cards,
            detectors.national_ids,
            lambda text, _lines: detectors.emails(text, domains),
            detectors.dates_of_birth,
            detectors.phones,
            detectors.addresses,
            detectors.ip_addresses,
            *(rule.candidates for rule in self.settings.custom_rules),
        ]
        self._rank = {kind.value: n for n, kind in enumerate(PRIORITY)}
        locators, words = tuple(detectors.LOCATORS.items()), tuple(sorted(detectors.WORDS))
        self.prefilter = compiled(locators, words) if prefilter else None

    def scan(self, raw: str) -> list[Finding]:
        quoted = quoted_spans(raw)
        lines = self.prefilter.lines(raw) if self.prefilter is not None else EVERYWHERE
        candidates = [
            c
            for detect in self._detectors
            for c in detect(raw, lines)
            if c.end > c.start and not inside(quoted, c.start, c.end)
        ]
        return [self._finding(c) for c in self._strongest(candidates) if not self._allowed(c)]

    def _strongest(self, candidates: Sequence[Candidate]) -> list[Candidate]:
        """Non-overlapping candidates, the higher-priority (then longer) one kept; sorted by position."""
        ranked = sorted(candidates, key=lambda c: (self._rank.get(c.type, -1), -(c.end - c.start), c.start))
        kept: list[Candidate] = []
        starts: list[int] = []  # the kept spans, sorted and disjoint: one bisect per candidate
        ends: list[int] = []
        for candidate in ranked:
            at = bisect.bisect_right(starts, candidate.start)
            if at > 0 and ends[at - 1] > candidate.start:
                continue  # overlaps the kept span starting at or before it
            if at < len(starts) and starts[at] < candidate.end:
                continue  # overlaps the kept span starting after it
            starts.insert(at, candidate.start)
            ends.insert(at, candidate.end)
            kept.append(candidate)
        return sorted(kept, key=lambda c: (c.start, c.end))

    def _allowed(self, candidate: Candidate) -> bool:
        if any(p.fullmatch(candidate.normalized) for p in self.settings.allow_values):
            return True
        return self.fingerprint_of(candidate) in self.settings.allow_fingerprints

    def fingerprint_of(self, candidate: Candidate) -> str:
        return fingerprint(self._key, candidate.type, candidate.normalized)

    def _finding(self, candidate: Candidate) -> Finding:
        severity = (
            self.settings.severity.get(candidate.type)
            or candidate.severity
            or DEFAULT_SEVERITY.get(candidate.type, Severity.MEDIUM)
        )
        return Finding(
            type=candidate.type,
            start=candidate.start,
            end=candidate.end,
            severity=severity.value,
            preview=candidate.preview,
            fingerprint=self.fingerprint_of(candidate),
        )
