"""Hostile and random input: the scanner never raises, its findings are well-formed and leak nothing, and
1 MB of adversarial text scans to the end.

No timing is asserted (the benchmark measures speed); a shape that takes pathologically long shows in
``pytest --durations``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from sidecar.scanner import Finding, FindingType, Scanner
from tests.scanner.common import SCANNER, digits

T = FindingType
MB = 1_000_000
ARMOUR = re.compile(r"-----(?:BEGIN|END) [A-Z0-9 ]+-----")

# Types whose preview may show at most the last four digits of the value.
LAST_DIGITS_ONLY = {T.CREDIT_CARD, T.US_SSN, T.CA_SIN, T.IBAN, T.BANK_ACCOUNT, T.ABA_ROUTING}

FRAGMENTS = [
    "\n", "\n\n", " ", "   ", "\t", "\r\n", "-", ".", ",", ":", "/", "=", "+", "#", "(", ")", "@", "@@", "a@",
    '"', "'", "`", "```", "```\n", "~~~\n", "> ", "\n> ", "    ", "[quote]", "[/quote]",
    '[quote="bob, post:1, topic:2"]', "<blockquote>", "</blockquote>", "**", "_", "[", "]", "<", ">",
    "password=", "password is ", "Password: ", "secret=", "pwd ", "pass", "sip:", "sips:", "register => ",
    "type=peer\n", "-----BEGIN PRIVATE KEY-----\n", "-----END PRIVATE KEY-----", "-----BEGIN ",
    "Bearer ", "eyJ", "eyJhbGciOi.", "https://", "http://x.io/a?", "?token=", "api_key=", "AKIA", "ghp_",
    "xoxb-", "+", "+1 ", "+44 ", "(613) ", "613-", "722-", "4410", "555-", "SSN ", "SIN ", "IBAN ", "GB82 ",
    "routing ", "account number ", "DOB: ", "born ", "birthday ", " Main Street", " St.", "Ottawa, ON ",
    "K1A 0B1", "card ", "order ", "firmware ", "version ", "MiVB ", "server ", "ext ", "From: ",
    "0", "1", "9", "00", "4111", "1111 ", "123456789", "255.", "10.", "192.168.", "::", "2001:db8::", "fe80:",
    "00:11:22:33:44:55", "2024-03-15", "12/04/85", "9.1.0.15",
    "İ", "İİİİİİİİ", "İ" * 40, "😀", "👩\u200d💻", "é", "e\u0301", "日本", "\u200b", "\ufeff",
    "ß", "ﬁ", "Ǆ", "\x00",
]  # fmt: skip


# --- generators of planted items -------------------------------------------------------------------------


def card_number(rng: random.Random) -> str:
    prefix = rng.choice(["4", "51", "55", "2221", "2720", "34", "37", "6011", "3530"])
    length = 15 if prefix in ("34", "37") else 16
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + luhn.calc_check_digit(body)


def written_card(rng: random.Random) -> str:
    number = card_number(rng)
    style = rng.choice(["compact", "spaces", "dashes"])
    if style == "compact" or len(number) != 16:
        return number
    groups = [number[i : i + 4] for i in range(0, 16, 4)]
    return (" " if style == "spaces" else "-").join(groups)


def email(rng: random.Random) -> str:
    user = rng.choice(["jane.doe", "j.roe", "kim_lee", "a.b+forum", "pat"]) + str(rng.randrange(1000))
    return f"{user}@{rng.choice(['acme-corp.com', 'mitel-users.org', 'mail.bigco.ca'])}"


def password(rng: random.Random) -> str:
    return "Zq9!" + "".join(rng.choice("abcdefghijkXYZ0123456789#$%") for _ in range(rng.randrange(4, 16)))


def planted(rng: random.Random) -> tuple[str, str]:
    """An item to plant in a post, and its secret (the card's digits, the address, the password)."""
    kind = rng.randrange(6)
    if kind == 0:
        card = written_card(rng)
        return f"Visa {card}", digits(card)
    if kind == 1:
        address = email(rng)
        return f"mail {address}", address
    if kind == 2:
        secret = password(rng)
        return f"password={secret}", secret
    if kind == 3:
        secret = password(rng)
        return f"the admin password is {secret}", secret
    if kind == 4:
        return "SSN 123-45-6789", "123456789"
    return "IBAN GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"


# --- the properties every scan must have -----------------------------------------------------------------


def check(raw: str, findings: Sequence[Finding], secrets: Sequence[str] = ()) -> None:
    """Spans inside the post, sorted and disjoint; previews and fingerprints that leak nothing."""
    previous_end = 0
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(raw), finding
        assert finding.start >= previous_end, f"{finding} overlaps or precedes the one before"
        previous_end = finding.end
        value = raw[finding.start : finding.end]
        if finding.type == T.PRIVATE_KEY:  # the armour lines are no secret: the body is
            value = ARMOUR.sub("", value).strip()
        assert not value or value not in finding.preview, finding
        assert len(finding.fingerprint) == 32
        assert set(finding.fingerprint) <= set("0123456789abcdef")
        if finding.type in LAST_DIGITS_ONLY:
            shown = digits(finding.preview)
            assert len(shown) <= 4, finding
            assert digits(value).endswith(shown), finding
    for secret in secrets:
        for finding in findings:
            assert secret not in finding.preview
            assert secret not in str(finding.to_json())
            if secret.isdigit() and len(secret) > 4:
                assert secret[:-4] not in digits(finding.preview)


def scan_and_check(raw: str, secrets: Sequence[str] = (), scanner: Scanner = SCANNER) -> list[Finding]:
    findings = scanner.scan(raw)
    check(raw, findings, secrets)
    assert scanner.scan(raw) == findings, "scanning is deterministic"
    return findings


# --- hypothesis ------------------------------------------------------------------------------------------


@st.composite
def posts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A post of fragments, random text and planted items; with the planted values (digits of cards)."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    parts: list[str] = []
    secrets: list[str] = []
    for _ in range(draw(st.integers(0, 40))):
        choice = draw(st.integers(0, 9))
        if choice <= 5:
            parts.append(draw(st.sampled_from(FRAGMENTS)))
        elif choice <= 7:
            parts.append(draw(st.text(max_size=12)))
        else:
            item, secret = planted(rng)
            parts.append(item)
            secrets.append(secret)
    return "".join(parts), secrets


HYPOTHESIS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@HYPOTHESIS
@given(posts())
def test_any_post_scans_to_well_formed_findings_that_leak_nothing(post: tuple[str, list[str]]) -> None:
    raw, secrets = post
    scan_and_check(raw, secrets)


@HYPOTHESIS
@given(st.text(max_size=400))
def test_any_unicode_text_scans_to_well_formed_findings(raw: str) -> None:
    scan_and_check(raw)


@HYPOTHESIS
@given(st.text(alphabet="0123456789 -.:/@+()\n>[]`", max_size=400))
def test_any_digit_and_separator_soup_scans_to_well_formed_findings(raw: str) -> None:
    scan_and_check(raw)


@HYPOTHESIS
@given(
    noise=st.text(alphabet=st.characters(exclude_characters="[]<>`~\n\r"), max_size=60),
    seed=st.integers(0, 2**32),
)
def test_a_planted_card_in_its_own_paragraph_is_found_and_masked(noise: str, seed: int) -> None:
    rng = random.Random(seed)
    card = written_card(rng)
    raw = f"{noise}\n\nVisa {card}\n\n{noise}"

    findings = scan_and_check(raw, [digits(card)])

    cards = [f for f in findings if f.type == T.CREDIT_CARD and raw[f.start : f.end] == card]
    assert len(cards) == 1
    assert cards[0].preview.endswith(digits(card)[-4:])


# --- a seeded fuzzer -------------------------------------------------------------------------------------


def unicode_char(rng: random.Random) -> str:
    """Printable ASCII or any code point up to plane 2 but surrogates (lone surrogates: tested below)."""
    code = rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x2FFFF)])
    return chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd"


def fuzz_post(rng: random.Random) -> tuple[str, list[str]]:
    parts: list[str] = []
    secrets: list[str] = []
    for _ in range(rng.randrange(1, 120)):
        roll = rng.random()
        if roll < 0.6:
            parts.append(rng.choice(FRAGMENTS))
        elif roll < 0.8:
            parts.append("".join(unicode_char(rng) for _ in range(rng.randrange(1, 10))))
        elif roll < 0.9:
            parts.append(rng.choice("0123456789") * rng.randrange(1, 40))
        else:
            item, secret = planted(rng)
            parts.append(f"\n\n{item}\n\n")
            secrets.append(secret)
    return "".join(parts), secrets


def test_five_hundred_random_posts_scan_to_well_formed_findings_that_leak_nothing() -> None:
    rng = random.Random(20261128)
    total = 0
    for _ in range(500):
        raw, secrets = fuzz_post(rng)
        total += len(scan_and_check(raw, secrets))
    assert total > 0  # the planted items are there to be found


# --- 1 MB of adversarial text ----------------------------------------------------------------------------


def repeat(unit: str, size: int = MB) -> str:
    return (unit * (size // len(unit) + 1))[:size]


SHAPES = {
    "one-digit-run": "7" * MB,
    "100k-digit-runs": repeat("4" * 100_000 + " "),
    "digit-groups": repeat("4111 "),
    "dashed-digits": repeat("12-"),
    "dotted-digits": repeat("1."),
    "at-signs": "@" * MB,
    "spaces": " " * MB,
    "newlines": "\n" * MB,
    "unclosed-quote-tags": repeat("[quote]\n"),
    "unclosed-attributed-quotes": repeat('[quote="bob, post:1, topic:2"] '),
    "closing-quote-tags": repeat("[/quote]"),
    "unclosed-blockquotes": repeat("<blockquote>"),
    "unclosed-fence": "```\n" + repeat("> not a quote: a@ 4111 password= [quote]\n", MB - 4),
    "backticks": "`" * MB,
    "fence-lines": repeat("```\n"),
    "gt-lines": repeat("> "),
    "gt-lazy-paragraph": "> " + repeat("x ", MB - 2),
    "double-quotes": '"' * MB,
    "single-quotes": "'" * MB,
    "a-at": repeat("a@"),
    "dotted-at": repeat("a.a@a."),
    "password-equals": repeat("password="),
    "password-is": repeat("password is "),
    "pass-colon": repeat("pass:"),
    "begin-private-key-without-end": "-----BEGIN PRIVATE KEY-----\n" * (MB // 28),
    "colons": repeat("a:"),
    "hex-colons": repeat("ab:"),
    "plus-signs": repeat("+1 "),
    "bearer": repeat("Bearer "),
    "jwt-like": repeat("eyJabcdefgh."),
    "query-urls": repeat("https://x.com/?token="),
    "sip-uris": repeat("sip:a:"),
    "register": repeat("register => a:"),
    "street-words": repeat("1 Main "),
    "born-dates": repeat("born May 1 "),
    "capital-dotted-i-then-secret": "İ" * (MB - 18) + " secret=Pa55word99",
    "unicode-mix": repeat("é😀 1 İ \u200b"),
}


@pytest.mark.parametrize("raw", list(SHAPES.values()), ids=list(SHAPES))
def test_a_megabyte_of_adversarial_text_scans_without_blowing_up(raw: str) -> None:
    findings = SCANNER.scan(raw)

    check(raw, findings)


def test_a_megabyte_of_real_looking_items_scans_with_every_item_found() -> None:
    """Many findings in one post: a pasted SIP trace or address book. Every address is reported."""
    raw = repeat("via 10.1.2.3 ok\n")
    findings = SCANNER.scan(raw)

    check(raw, findings)
    assert len(findings) == raw.count("10.1.2.3")


# --- text that is not quite Unicode ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "escaped",
    [
        r'"password=Zq9!\udb7eabc"',
        r'"the password is \"ab\udb7ecd\""',
        r'"-----BEGIN PRIVATE KEY-----\nMIIE\udb7e\n-----END PRIVATE KEY-----"',
        r'"\udb7e mail jane.doe@acme-corp.com \ud83d"',
    ],
    ids=["config-password", "prose-password", "private-key", "around-an-email"],
)
def test_a_lone_surrogate_from_a_json_escape_does_not_break_the_scan(escaped: str) -> None:
    """Webhook bodies and ``--jsonl`` lines are JSON, whose ``\\udXXX`` escapes make lone surrogates."""
    raw = json.loads(escaped)

    findings = SCANNER.scan(raw)

    check(raw, findings)


def test_nul_and_control_characters_do_not_break_the_scan() -> None:
    raw = "\x00password=Zq9!\x01abc\x7f\n\x1b[31mmail jane.doe@acme-corp.com\x1b[0m\x00"

    findings = scan_and_check(raw)

    assert [f.type for f in findings] == [T.PASSWORD, T.EMAIL]


def test_many_dotted_capital_is_before_a_secret_do_not_break_the_scan() -> None:
    raw = "İ" * 100 + " secret=Pa55word99"

    findings = scan_and_check(raw)

    assert [raw[f.start : f.end] for f in findings] == ["Pa55word99"]
