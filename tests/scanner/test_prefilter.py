"""The Hyperscan prefilter changes where the patterns run, never what the scanner finds: every test here scans
the same posts with and without it and compares the findings."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given

from bench.corpus import generate
from sidecar.scanner import Scanner
from tests.scanner.common import KEY
from tests.scanner.test_hostile import HYPOTHESIS, fuzz_post, posts

FILTERED = Scanner(KEY)
UNFILTERED = Scanner(KEY, prefilter=False)
HANDWRITTEN = Path(__file__).resolve().parents[2] / "bench" / "corpus" / "handwritten.jsonl"


def same_findings(raw: str) -> int:
    """Asserts both scanners agree on ``raw``; the number of findings."""
    findings = FILTERED.scan(raw)
    assert findings == UNFILTERED.scan(raw), raw[:300]
    return len(findings)


def test_the_prefilter_runs_here() -> None:
    """Hyperscan is a dependency: where its wheel installs, the scanner must use it."""
    assert FILTERED.prefilter is not None
    assert UNFILTERED.prefilter is None


def test_the_generated_corpus_gives_the_same_findings() -> None:
    found = sum(same_findings(post["raw"]) for post in generate.generate(11, 600))
    assert found > 300  # half the posts carry planted items


def test_the_hand_written_posts_give_the_same_findings() -> None:
    lines = HANDWRITTEN.read_text(encoding="utf-8").splitlines()
    found = sum(same_findings(json.loads(line)["raw"]) for line in lines if line.strip())
    assert found > 50


def test_a_long_log_of_joined_posts_gives_the_same_findings() -> None:
    """Many lines, most of them without anything: where the prefilter skips the most."""
    rng = random.Random(5)
    corpus = [post["raw"] for post in generate.generate(12, 300)]
    raw = "\n".join(rng.choice(corpus) for _ in range(150))
    assert same_findings(raw) > 30


def test_random_fragment_posts_give_the_same_findings() -> None:
    rng = random.Random(20261129)
    assert sum(same_findings(fuzz_post(rng)[0]) for _ in range(300)) > 0


@HYPOTHESIS
@given(posts())
def test_any_post_gives_the_same_findings(post: tuple[str, list[str]]) -> None:
    same_findings(post[0])


@pytest.mark.parametrize(
    ("raw", "types"),
    [
        (
            "Visa \uff14\uff11\uff11\uff11 " + " ".join(["\uff11" * 4] * 3),
            [],
        ),
        ("my cell is \u0666\u0661\u0663-\u0667\u0662\u0662-\u0664\u0664\u0661\u0660, call me", ["PHONE"]),
        (
            "caf\u00e9 \u2022 Visa 4111 1111 1111 1111 \u2022 "
            "r\u00e9sum\u00e9 \u00e0 10.20.30.40 \u00e9t\u00e9",
            ["CREDIT_CARD", "IP_ADDRESS"],
        ),
        ("\u0130stanbul office: +90 212 555 0143 or +90 532 418 2290", ["PHONE", "PHONE"]),
    ],
    ids=["fullwidth-card", "arabic-indic-phone", "accents-around-items", "dotted-capital-i"],
)
def test_non_ascii_text_and_digits_give_the_same_findings(raw: str, types: list[str]) -> None:
    """Hyperscan reads one byte a character: a non-ASCII digit must still count as a digit there (the
    Arabic-Indic phone number is found in both ways; the fullwidth card in neither)."""
    same_findings(raw)
    assert [str(f.type) for f in FILTERED.scan(raw)] == types
