"""What a finding carries: masked previews, keyed fingerprints, severities; and what the configuration
changes: severity overrides, allowlists, custom rules, and the errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidecar.config import Config, ConfigError, load_config
from sidecar.scanner import DETECTOR_VERSION, Finding, FindingType, RuleError, Scanner, ScanSettings
from sidecar.scanner.cli import build_scanner
from tests.scanner.common import KEY, SCANNER, digits, found, only

T = FindingType
KEY_TEXT = "scanner-tests-configured-key-0123"


def config(tmp_path: Path, **scanning: str) -> Config:
    """The configuration with ``MUG_SCANNING_<KEY>`` variables (lists comma-separated, as in a real env)."""
    env = {"MUG_SERVER_STATE_DIR": str(tmp_path / "state"), "MUG_SCANNING_FINGERPRINT_KEY": KEY_TEXT}
    env.update({f"MUG_SCANNING_{key.upper()}": value for key, value in scanning.items()})
    return load_config(None, env)


def configured(tmp_path: Path, **scanning: str) -> Scanner:
    return build_scanner(config(tmp_path, **scanning))


# --- previews --------------------------------------------------------------------------------------------

PEM_BLOCK = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx1yZ3mQ9c0Jr\n-----END RSA PRIVATE KEY-----"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)

# (post, type, exact preview)
PREVIEWS = [
    pytest.param("card 4111 1111 1111 1111", T.CREDIT_CARD, "**** **** **** 1111", id="card"),
    pytest.param("card 4111-1111-1111-1111", T.CREDIT_CARD, "**** **** **** 1111", id="card-dashed"),
    pytest.param("Amex 378282246310005", T.CREDIT_CARD, "**** **** 0005", id="card-amex"),
    pytest.param("SSN 123-45-6789", T.US_SSN, "***-**-6789", id="ssn"),
    pytest.param("SIN 130 692 544", T.CA_SIN, "*** *** 544", id="sin"),
    pytest.param("IBAN GB82 WEST 1234 5698 7654 32", T.IBAN, "GB** **** 5432", id="iban"),
    pytest.param("routing number 021000021", T.ABA_ROUTING, "*****0021", id="aba"),
    pytest.param("account number: 12345678", T.BANK_ACCOUNT, "*****678", id="bank-account"),
    pytest.param("mail jane.doe@acme-corp.com", T.EMAIL, "j***@acme-corp.com", id="email"),
    pytest.param("call me at 613-722-4410", T.PHONE, "•••-•••-4410", id="phone"),
    pytest.param("Paris +33 1 42 68 53 00", T.PHONE, "•••-•••-5300", id="phone-international"),
    pytest.param("DOB: 1985-04-12", T.DOB, "••••-••-••", id="dob"),
    pytest.param("Ship to 123 Main Street, Ottawa, ON K1A 0B1", T.ADDRESS, "•••• Street", id="address"),
    pytest.param("host 24.114.9.30", T.IP_ADDRESS, "24.•.•.•", id="ipv4"),
    pytest.param("v6 2607:f8b0:4004:c07::64", T.IP_ADDRESS, "2607:•:•", id="ipv6"),
    pytest.param("password=Hunter2024!", T.PASSWORD, "••••", id="password"),
    pytest.param("register => 1001:Pa55word@sip.provider.com", T.SIP_CREDENTIAL, "••••", id="sip"),
    pytest.param(PEM_BLOCK, T.PRIVATE_KEY, "-----BEGIN RSA PRIVATE KEY----- ••••", id="private-key"),
    pytest.param("aws AKIAZ7Q3LMN4PRST2UVW", T.API_KEY, "AKIA••••", id="aws"),
    pytest.param(
        "https://hooks.slack.com/services/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",
        T.API_KEY,
        "https://hooks.slack.com/••••",
        id="webhook-url",
    ),
    pytest.param(
        "https://api.acme-corp.com/v1/calls?token=a8F3kL9mQ2xZ7pR4tY6w",
        T.API_KEY,
        "https://api.acme-corp.com/••••",
        id="url-with-token",
    ),
    pytest.param("Authorization: Bearer 8f3kL9mQ2xZ7pR4tY6wA1b2C3d4", T.BEARER_TOKEN, "8f3••••", id="bearer"),
    pytest.param(JWT, T.BEARER_TOKEN, "eyJ••••", id="jwt"),
]

# Types whose preview may show at most the last four digits of the value, and nothing before them.
LAST_DIGITS_ONLY = {T.CREDIT_CARD, T.US_SSN, T.CA_SIN, T.IBAN, T.ABA_ROUTING, T.BANK_ACCOUNT, T.PHONE}


@pytest.mark.parametrize(("raw", "kind", "preview"), PREVIEWS)
def test_the_preview_is_masked(raw: str, kind: FindingType, preview: str) -> None:
    finding = only(raw, kind.value)
    value = raw[finding.start : finding.end]

    assert finding.preview == preview
    assert value not in finding.preview
    if kind in LAST_DIGITS_ONLY:
        shown = digits(finding.preview)
        assert len(shown) <= 4
        assert digits(value).endswith(shown)
    if kind in (T.DOB, T.ADDRESS, T.PASSWORD, T.SIP_CREDENTIAL):
        assert digits(finding.preview) == ""


@pytest.mark.parametrize(
    "raw",
    [
        "password=Hunter2024!",
        '{"password": "Tr0ub4dor&3"}',
        "the admin password is Welcome2024!",
        "<Password>Welcome2024!</Password>",
        "sip:1001:Pa55word@pbx.acme-corp.com",
        "[trunk1]\ntype=peer\nsecret=Pa55word99",
        "ftp://admin:Hunter2024@ftp.acme-corp.com/",
    ],
)
def test_no_part_of_a_password_is_in_its_finding(raw: str) -> None:
    (finding,) = SCANNER.scan(raw)
    value = raw[finding.start : finding.end]
    serialized = str(finding.to_json())

    assert finding.preview == "••••"
    assert value not in serialized
    assert value[:3] not in serialized


def test_the_json_form_has_exactly_the_documented_fields() -> None:
    (finding,) = SCANNER.scan("card 4111 1111 1111 1111")

    assert finding.to_json() == {
        "type": "CREDIT_CARD",
        "start": 5,
        "end": 24,
        "severity": "critical",
        "preview": "**** **** **** 1111",
        "fingerprint": finding.fingerprint,
        "detector_version": DETECTOR_VERSION,
    }


# --- fingerprints ----------------------------------------------------------------------------------------


def fingerprint(raw: str, scan: Scanner = SCANNER) -> str:
    (finding,) = scan.scan(raw)
    return finding.fingerprint


def test_a_fingerprint_is_128_bits_of_hex_and_does_not_hold_the_value() -> None:
    value = fingerprint("card 4111 1111 1111 1111")

    assert len(value) == 32
    assert int(value, 16) >= 0
    assert "4111" not in value
    assert "1111" not in value


def test_the_same_value_under_the_same_key_has_the_same_fingerprint() -> None:
    first = fingerprint("card 4111 1111 1111 1111")
    again = fingerprint("card 4111 1111 1111 1111", Scanner(KEY))
    elsewhere = fingerprint("Hello all,\n\nmy Visa is 4111 1111 1111 1111, thanks!")

    assert first == again == elsewhere


def test_another_key_gives_another_fingerprint() -> None:
    other = Scanner(b"another-key-entirely-0123456789")

    assert fingerprint("card 4111 1111 1111 1111") != fingerprint("card 4111 1111 1111 1111", other)


def test_another_value_gives_another_fingerprint() -> None:
    assert fingerprint("card 4111 1111 1111 1111") != fingerprint("card 5555 5555 5555 4444")


@pytest.mark.parametrize(
    "variants",
    [
        pytest.param(
            ["card 4111 1111 1111 1111", "card 4111-1111-1111-1111", "card 4111111111111111"], id="card"
        ),
        pytest.param(["IBAN GB82 WEST 1234 5698 7654 32", "IBAN GB82WEST12345698765432"], id="iban"),
        pytest.param(["mail jane.doe@acme-corp.com", "mail Jane.Doe@ACME-corp.com"], id="email-case"),
        pytest.param(
            ["call me at (613) 722-4410", "cell +1 613 722 4410", "call me at 613.722.4410", "+16137224410"],
            id="phone-formats",
        ),
        pytest.param(["SSN 123-45-6789", "SSN: 123 45 6789", "my SSN is 123456789"], id="ssn-formats"),
        pytest.param(
            ["password=Hunter2024!", "the admin password is Hunter2024!", '{"password": "Hunter2024!"}'],
            id="password-contexts",
        ),
    ],
)
def test_the_same_value_written_differently_has_one_fingerprint(variants: list[str]) -> None:
    assert len({fingerprint(raw) for raw in variants}) == 1


def test_a_finding_carries_the_detector_version() -> None:
    (finding,) = SCANNER.scan("mail jane.doe@acme-corp.com")

    assert finding.detector_version == DETECTOR_VERSION


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Scanner(b"short")


# --- severity overrides ----------------------------------------------------------------------------------


def severities(raw: str, scan: Scanner) -> list[tuple[str, str]]:
    return [(f.type, f.severity) for f in scan.scan(raw)]


def test_severity_overrides_come_from_the_configuration(tmp_path: Path) -> None:
    scan = configured(tmp_path, severity="EMAIL=low, IP_ADDRESS=critical, credit_card=Medium")
    raw = "card 4111 1111 1111 1111, mail jane.doe@acme-corp.com, host 24.114.9.30"

    assert severities(raw, scan) == [("CREDIT_CARD", "medium"), ("EMAIL", "low"), ("IP_ADDRESS", "critical")]


def test_an_override_applies_to_private_addresses_too(tmp_path: Path) -> None:
    scan = configured(tmp_path, severity="IP_ADDRESS=high")

    assert severities("lan 192.168.1.20", scan) == [("IP_ADDRESS", "high")]
    assert severities("lan 192.168.1.20", SCANNER) == [("IP_ADDRESS", "low")]


def test_types_without_an_override_keep_their_default(tmp_path: Path) -> None:
    scan = configured(tmp_path, severity="EMAIL=low")

    assert severities("SSN 123-45-6789", scan) == [("US_SSN", "critical")]


# --- allowlists ------------------------------------------------------------------------------------------


def test_an_allowed_fingerprint_is_not_reported(tmp_path: Path) -> None:
    key_scanner = Scanner(KEY_TEXT.encode())
    allowed = fingerprint("card 4111 1111 1111 1111", key_scanner)
    scan = configured(tmp_path, allow_fingerprints=f"{allowed.upper()}, 0123")

    assert found("card 4111-1111-1111-1111 and 5555 5555 5555 4444", scan) == [
        ("CREDIT_CARD", "5555 5555 5555 4444")
    ]


def test_a_fingerprint_is_allowed_for_its_type_only(tmp_path: Path) -> None:
    """The fingerprint covers the type: the same digits found by a custom rule are still reported."""
    allowed = fingerprint("card 4111 1111 1111 1111", Scanner(KEY_TEXT.encode()))
    scan = configured(
        tmp_path, allow_fingerprints=allowed, custom_rules=r"TEST_CARD|low|none|\bTC-(\d{16})\b"
    )

    assert found("card 4111 1111 1111 1111", scan) == []
    assert found("TC-4111111111111111", scan) == [("TEST_CARD", "4111111111111111")]


@pytest.mark.parametrize(
    ("allow_values", "raw", "expected"),
    [
        pytest.param(
            r"10\.1\.\d+\.\d+",
            "lab 10.1.2.3, and the PBX at 10.2.2.3",
            [("IP_ADDRESS", "10.2.2.3")],
            id="ip-range",
        ),
        pytest.param(
            r"10\.1", "lab 10.1.2.3", [("IP_ADDRESS", "10.1.2.3")], id="partial-match-allows-nothing"
        ),
        pytest.param(
            "4111111111111111",
            "card 4111 1111 1111 1111 and 4111-1111-1111-1111",
            [],
            id="card-normalized-digits",
        ),
        pytest.param(
            r".*@acme-corp\.com",
            "mail jane.doe@acme-corp.com or j.roe@other-corp.com",
            [("EMAIL", "j.roe@other-corp.com")],
            id="email-pattern",
        ),
        pytest.param(
            "Welcome2024!",
            "password=Welcome2024! and password=Hunter2024!",
            [("PASSWORD", "Hunter2024!")],
            id="known-demo-password",
        ),
    ],
)
def test_allowed_value_patterns_match_the_whole_value(
    tmp_path: Path, allow_values: str, raw: str, expected: list[tuple[str, str]]
) -> None:
    scan = configured(tmp_path, allow_values=allow_values)

    assert found(raw, scan) == expected


def test_allowed_domains_cover_their_subdomains_and_nothing_else(tmp_path: Path) -> None:
    scan = configured(tmp_path, allow_domains="@ACME-Corp.com, partner.org")
    raw = (
        "jane.doe@acme-corp.com, j.roe@mail.acme-corp.com, a.b@partner.org, "
        "c.d@notacme-corp.com, e.f@acme-corp.com.evil.net"
    )

    assert found(raw, scan) == [("EMAIL", "c.d@notacme-corp.com"), ("EMAIL", "e.f@acme-corp.com.evil.net")]


# --- custom rules ----------------------------------------------------------------------------------------


def test_a_custom_rule_reports_its_group_with_its_type_and_severity(tmp_path: Path) -> None:
    scan = configured(tmp_path, custom_rules=r"EMPLOYEE_ID|medium|none|\bEMP-(\d{6})\b")
    raw = "Badge EMP-123456 was lost; EMP-12 is not one."

    (finding,) = scan.scan(raw)

    assert (finding.type, raw[finding.start : finding.end], finding.severity) == (
        "EMPLOYEE_ID",
        "123456",
        "medium",
    )
    assert finding.preview == "••••"
    assert "123456" not in finding.preview


def test_a_custom_rule_without_a_group_reports_the_whole_match(tmp_path: Path) -> None:
    scan = configured(tmp_path, custom_rules=r"TICKET|low|none|TKT-\d{6}")

    assert found("see TKT-123456", scan) == [("TICKET", "TKT-123456")]


def test_a_custom_rule_with_the_luhn_validator_reports_only_valid_numbers(tmp_path: Path) -> None:
    scan = configured(tmp_path, custom_rules=r"GIFT_CARD|high|luhn|\bGC(\d{12})\b")
    raw = "codes GC123456789015 and GC123456789016"  # the first passes Luhn, the second does not

    assert found(raw, scan) == [("GIFT_CARD", "123456789015")]


def test_custom_rules_from_a_toml_file_may_hold_commas(tmp_path: Path) -> None:
    path = tmp_path / "sidecar.toml"
    path.write_text(
        "[scanning]\n"
        f'fingerprint_key = "{KEY_TEXT}"\n'
        "custom_rules = ['BADGE|high|none|\\bBDG-(\\d{4,6})\\b']\n",
        encoding="utf-8",
    )
    scan = build_scanner(load_config(path, {"MUG_SERVER_STATE_DIR": str(tmp_path / "state")}))

    assert found("BDG-12345 and BDG-12", scan) == [("BADGE", "12345")]


def test_a_custom_types_severity_may_be_overridden(tmp_path: Path) -> None:
    """``severity`` is "per type", and a custom rule's type is a type: ScanSettings accepts the override."""
    scan = configured(tmp_path, custom_rules=r"TICKET|low|none|TKT-\d{6}", severity="TICKET=high")

    assert severities("see TKT-123456", scan) == [("TICKET", "high")]


def test_custom_rule_findings_have_their_own_fingerprints(tmp_path: Path) -> None:
    scan = configured(tmp_path, custom_rules=r"TICKET|low|none|TKT-\d{6}")

    assert fingerprint("see TKT-123456", scan) == fingerprint("TKT-123456 again", scan)
    assert fingerprint("see TKT-123456", scan) != fingerprint("see TKT-654321", scan)


# --- configuration errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "key"),
    [
        pytest.param("custom_rules", "NO_PIPES", "scanning.custom_rules", id="rule-shape"),
        pytest.param("custom_rules", r"lower_case|low|none|\d+", "scanning.custom_rules", id="rule-type"),
        pytest.param("custom_rules", r"TICKET|urgent|none|\d+", "scanning.custom_rules", id="rule-severity"),
        pytest.param("custom_rules", r"TICKET|low|md5|\d+", "scanning.custom_rules", id="rule-validator"),
        pytest.param("custom_rules", "TICKET|low|none|(unclosed", "scanning.custom_rules", id="rule-regex"),
        pytest.param("severity", "EMAIL=urgent", "scanning.severity", id="severity-level"),
        pytest.param("severity", "NOT_A_TYPE=low", "scanning.severity", id="severity-type"),
        pytest.param("severity", "EMAIL", "scanning.severity", id="severity-shape"),
        pytest.param("allow_values", "(unclosed", "scanning.allow_values", id="allow-values-regex"),
        pytest.param("fingerprint_key", "too-short", "scanning.fingerprint_key", id="short-key"),
    ],
)
def test_a_bad_entry_is_a_config_error_naming_its_key(
    tmp_path: Path, setting: str, value: str, key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config(tmp_path, **{setting: value})

    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")


def test_a_bad_custom_rule_is_named_in_the_message(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"TICKET\|low\|md5.*validator must be one of none, luhn, iban, aba"
    ):
        config(tmp_path, custom_rules=r"TICKET|low|md5|\d+")


def test_scan_settings_refuse_bad_entries_with_a_rule_error() -> None:
    with pytest.raises(RuleError, match="unknown type 'NOPE'"):
        ScanSettings.parse(severity=["NOPE=low"])
    with pytest.raises(RuleError, match="does not compile"):
        ScanSettings.parse(allow_values=["("])


def test_findings_are_frozen() -> None:
    (finding,) = SCANNER.scan("card 4111 1111 1111 1111")

    assert isinstance(finding, Finding)
    with pytest.raises(AttributeError):
        finding.start = 0  # type: ignore[misc]
