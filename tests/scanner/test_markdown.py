"""Markdown and BBCode: other people's quotes are skipped, code is scanned, offsets are the raw post's."""

from __future__ import annotations

import pytest

from sidecar.scanner import FindingType
from tests.scanner.common import SCANNER, found

EMAIL = FindingType.EMAIL.value
PASSWORD = FindingType.PASSWORD.value
SIP = FindingType.SIP_CREDENTIAL.value
CC = FindingType.CREDIT_CARD.value
PHONE = FindingType.PHONE.value

THEIRS = "jane.doe@acme-corp.com"
MINE = "john.roe@acme-corp.com"


# --- quotes are skipped ----------------------------------------------------------------------------------

QUOTED = [
    pytest.param(
        f'[quote="bob, post:1, topic:2"]\nmail me at {THEIRS}\n[/quote]\nMine is {MINE}', id="bbcode-quote"
    ),
    pytest.param(f'[quote="bob, post:1, topic:2"]{THEIRS}[/quote] Mine is {MINE}', id="bbcode-quote-inline"),
    pytest.param(f"[quote]\n{THEIRS}\n[/quote]\nMine is {MINE}", id="bbcode-quote-bare"),
    pytest.param(f"[QUOTE]\n{THEIRS}\n[/QUOTE]\nMine is {MINE}", id="bbcode-quote-upper-case"),
    pytest.param(
        '[quote="bob, post:1, topic:2"]\n'
        "outer text\n"
        '[quote="carol, post:2, topic:2"]\n'
        f"inner {THEIRS}\n"
        "[/quote]\n"
        "still outer, card 4111 1111 1111 1111\n"
        "[/quote]\n"
        f"Mine is {MINE}",
        id="bbcode-quote-nested",
    ),
    pytest.param(f"> quoted {THEIRS}\n\nMine is {MINE}", id="gt-quote"),
    pytest.param(
        f"> Bob wrote that his password is Welcome2024!\nand his mail {THEIRS}\n\nMine is {MINE}",
        id="gt-quote-lazy-continuation",
    ),
    pytest.param(f"   > indented up to three spaces {THEIRS}\n\nMine is {MINE}", id="gt-quote-indented"),
    pytest.param(f"> > nested {THEIRS}\n\nMine is {MINE}", id="gt-quote-nested"),
    pytest.param(f"<blockquote>{THEIRS}</blockquote>\nMine is {MINE}", id="html-blockquote"),
    pytest.param(
        f'<blockquote class="quote">\n<p>call me: 613-722-4410, {THEIRS}</p>\n</blockquote>\nMine is {MINE}',
        id="html-blockquote-attributes",
    ),
    pytest.param(
        f'[quote="bob, post:1, topic:2"]\n> quoted twice {THEIRS}\n[/quote]\n\nMine is {MINE}',
        id="gt-inside-bbcode",
    ),
]


@pytest.mark.parametrize("raw", QUOTED)
def test_quoted_text_is_skipped_and_the_authors_own_text_is_not(raw: str) -> None:
    assert found(raw) == [(EMAIL, MINE)]


def test_after_a_blank_line_a_gt_quote_is_over() -> None:
    raw = f"> quoted {THEIRS}\n\n{MINE} is mine\n"

    assert found(raw) == [(EMAIL, MINE)]


def test_a_closed_quote_inside_an_unclosed_one_is_still_a_quote() -> None:
    """The unclosed outer ``[quote]`` is shown literally (it quotes nothing); the inner pair is a quote."""
    raw = f"[quote]\nnever closed {MINE}\n\n[quote]\ninner {THEIRS}\n[/quote]\n"

    assert found(raw) == [(EMAIL, MINE)]


# --- unclosed quotes quote nothing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "opening",
    ["[quote]", '[quote="bob, post:1, topic:2"]', "<blockquote>"],
    ids=["bbcode-bare", "bbcode-attributed", "html"],
)
def test_an_unclosed_quote_quotes_nothing(opening: str) -> None:
    raw = f"{opening}\nmy mail is {MINE}\nand my card 4111 1111 1111 1111"

    assert found(raw) == [(EMAIL, MINE), (CC, "4111 1111 1111 1111")]


def test_a_closing_tag_without_an_opening_one_quotes_nothing() -> None:
    raw = f"[/quote] {MINE}"

    assert found(raw) == [(EMAIL, MINE)]


# --- code is scanned -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fence", ["```", "~~~", "````"])
def test_a_fenced_block_is_scanned(fence: str) -> None:
    raw = f"My sip.conf:\n{fence}ini\n[trunk1]\ntype=peer\nsecret=Pa55word99\n{fence}\nWhat is wrong?"

    assert found(raw) == [(SIP, "Pa55word99")]


def test_inline_code_is_scanned_and_the_span_is_the_value_alone() -> None:
    raw = "I set `password=Hunter2024!` in the config"

    assert found(raw) == [(PASSWORD, "Hunter2024!")]


def test_inline_code_with_an_email_is_scanned() -> None:
    raw = f"the alias is `{MINE}`"

    assert found(raw) == [(EMAIL, MINE)]


@pytest.mark.parametrize("fence", ["```", "~~~"])
def test_a_gt_inside_a_fence_is_not_a_quote(fence: str) -> None:
    raw = f"{fence}\n$ ssh admin@10.1.1.5\n> echo {MINE}\n{fence}\n"

    assert (EMAIL, MINE) in found(raw)


def test_a_quote_tag_inside_a_fence_is_text() -> None:
    raw = f"```\n[quote]\n```\n{MINE}\n[/quote]\n"

    assert found(raw) == [(EMAIL, MINE)]


def test_an_unclosed_fence_runs_to_the_end_and_quotes_nothing() -> None:
    raw = f"```\n> {MINE}\n"

    assert found(raw) == [(EMAIL, MINE)]


def test_four_spaces_before_gt_make_code_not_a_quote() -> None:
    raw = f"    > {MINE}"

    assert found(raw) == [(EMAIL, MINE)]


def test_a_quote_after_a_fence_is_still_a_quote() -> None:
    raw = f"```\ncode\n```\n> quoted {THEIRS}\n\n{MINE}"

    assert found(raw) == [(EMAIL, MINE)]


# --- offsets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    [
        "😀😀 ",
        "👩\u200d💻 dev team 🇨🇦: ",
        "e\u0301te\u0301 ",  # combining accents: two code points per letter
        "日本語のポスト ",
        "\u200b\ufeff zero width ",
        "İstanbul ",  # "İ".lower() is two characters
        "Ǆ ß ﬁ ",  # characters whose case mapping changes length
    ],
    ids=["emoji", "zwj-and-flag", "combining", "cjk", "zero-width", "dotted-capital-i", "case-mapping"],
)
def test_offsets_are_character_offsets_in_the_raw_post(prefix: str) -> None:
    raw = f"{prefix}mail {MINE}, card 4111 1111 1111 1111, call me at 613-722-4410"

    findings = SCANNER.scan(raw)

    assert [(f.type, raw[f.start : f.end]) for f in findings] == [
        (EMAIL, MINE),
        (CC, "4111 1111 1111 1111"),
        (PHONE, "613-722-4410"),
    ]
    assert findings[0].start == raw.index(MINE)


def test_offsets_hold_after_a_quote_full_of_emoji() -> None:
    raw = f"[quote]\n😀😀😀 {THEIRS} 🎉\n[/quote]\n🙂 {MINE}"

    (finding,) = SCANNER.scan(raw)

    assert (finding.start, finding.end) == (raw.index(MINE), raw.index(MINE) + len(MINE))


@pytest.mark.parametrize(
    "item",
    ["password=Hunter2024!", "the password is Welcome2024!", "secret=Pa55word99"],
)
def test_a_password_after_many_dotted_capital_i_is_found_at_its_offset(item: str) -> None:
    """Forty "İ" (Turkish words in capitals) before the item: ``"İ".lower()`` is two characters."""
    raw = "İ" * 40 + f" {item} — thanks for looking at this, it has been a long week for all of us here."
    value = item.rsplit(" ", 1)[-1].split("=", 1)[-1]

    assert [raw[f.start : f.end] for f in SCANNER.scan(raw)] == [value]
