"""Scanner benchmark: the sensitive-information scanner on a labelled corpus, beside two peers.

Run from the project root with the project's virtualenv::

    .venv/bin/python bench/scanner.py [--seed S] [--posts N] [--peers LIST] [--errors N] [--json] [--check]

Scores ``sidecar.scanner.Scanner`` on the generated corpus (``bench.corpus.generate``) and, separately, on the
hand-written posts (``bench/corpus/handwritten.jsonl``): precision, recall and F1 per type and overall, the
share of clean posts flagged, and findings in quoted text. Then measures speed on one core (posts/s over the
corpus, p50/p99 for 100 kB posts), peak resident memory in a fresh process, and the time on hostile 100 kB and
1 MB posts (it must grow linearly). Presidio (pattern recognizers, no downloaded model) and detect-secrets get
the same measurements in the same run, scored only on the types they claim; when they are not installed the
benchmark runs on ours alone. Every target is checked against figures of the same run. See README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import os
import queue
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from cli_args import positive_int
from report import percentile, summary_row, verdict

ROOT = Path(__file__).resolve().parents[1]
HANDWRITTEN = ROOT / "bench" / "corpus" / "handwritten.jsonl"

TYPES = [
    "CREDIT_CARD", "US_SSN", "CA_SIN", "IBAN", "ABA_ROUTING", "BANK_ACCOUNT", "EMAIL", "PHONE", "DOB",
    "ADDRESS", "IP_ADDRESS", "PASSWORD", "SIP_CREDENTIAL", "PRIVATE_KEY", "API_KEY", "BEARER_TOKEN",
]  # fmt: skip
CHECKSUMMED = ["CREDIT_CARD", "US_SSN", "CA_SIN", "IBAN", "ABA_ROUTING"]

# Targets (generated corpus, our scanner).
TARGET_CHECKSUMMED = 0.99  # precision and recall
TARGET_PRECISION = {
    "EMAIL": 0.97,
    "PHONE": 0.97,
    "IP_ADDRESS": 0.90,
    "PASSWORD": 0.97,
    "SIP_CREDENTIAL": 0.97,
}
TARGET_F1 = 0.97  # overall, micro
TARGET_CLEAN_FLAGGED = 0.01  # share of clean posts with any finding
TARGET_POSTS_PER_S = 1000
TARGET_VS_PRESIDIO = 5.0  # throughput ratio
TARGET_P99_MS = 20.0  # 100 kB post
TARGET_RSS_MB = 60.0
LINEAR_FLAG = 20.0  # hostile input: 1 MB / 100 kB time ratio above this is flagged (10 is linear)

SYSTEMS = ["ours", "presidio", "detect-secrets"]
PEERS = SYSTEMS[1:]
FINGERPRINT_KEY = b"bench-scanner-fingerprint-key-0123456789"
WARMUP_POSTS = 50
HOSTILE_SIZES = (100_000, 1_000_000)
HOSTILE_BUDGET_S = (
    0.5  # repeat a hostile scan (at most 3 times, best kept) while the runs total less than this
)

# Presidio entity -> our type. The recognizers are loaded one by one (those the installed version has).
PRESIDIO_TYPES = {
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "US_SSN",
    "CA_SIN": "CA_SIN",
    "IBAN_CODE": "IBAN",
    "ABA_ROUTING_NUMBER": "ABA_ROUTING",
    "US_BANK_NUMBER": "BANK_ACCOUNT",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "IP_ADDRESS": "IP_ADDRESS",
}
PRESIDIO_RECOGNIZERS = (
    "CreditCardRecognizer", "UsSsnRecognizer", "CaSinRecognizer", "IbanRecognizer", "AbaRoutingRecognizer",
    "UsBankRecognizer", "EmailRecognizer", "PhoneRecognizer", "IpRecognizer",
)  # fmt: skip
LEMMA_COMPONENT = "mug_bench_lowercase_lemma"

# detect-secrets secret type -> our type; every other plugin (cloud and SaaS tokens, high-entropy strings)
# reports an API key. Its public-IP plugin is mapped but not scored: its default filter
# ``is_not_alphanumeric_string`` drops every address it finds (an address has no letter).
DETECT_SECRETS_TYPES = {
    "Secret Keyword": "PASSWORD",
    "Basic Auth Credentials": "PASSWORD",
    "Private Key": "PRIVATE_KEY",
    "JSON Web Token": "BEARER_TOKEN",
    "Public IP (ipv4)": "IP_ADDRESS",
}
DETECT_SECRETS_DEFAULT = "API_KEY"

Prediction = tuple[str, int, int]  # type, start, end


class PeerUnavailable(Exception):
    """A peer that cannot run here (not installed, or an API this benchmark does not know)."""


# --- the systems ----------------------------------------------------------------------------------------


@dataclass
class System:
    name: str
    covers: frozenset[str]  # our types it claims to find; it is scored on these only
    scan: Callable[[str], list[Prediction]]
    notes: list[str] = field(default_factory=list)
    close: Callable[[], None] = lambda: None


def offline() -> None:
    """No network: tldextract (a Presidio dependency) would fetch the public suffix list on first use and wait
    on its timeout here. An empty URL list makes it use the snapshot it ships; set before it is imported, and
    its extractor is replaced in ``make_presidio`` as well (no URLs, no disk cache)."""
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""


def make_ours(_threshold: float) -> System:
    from sidecar.scanner import DETECTOR_VERSION, Scanner

    scanner = Scanner(FINGERPRINT_KEY)

    def scan(raw: str) -> list[Prediction]:
        return [(f.type, f.start, f.end) for f in scanner.scan(raw)]

    return System("ours", frozenset(TYPES), scan, [f"sidecar.scanner, detectors {DETECTOR_VERSION}"])


def _lowercase_lemmas(doc: Any) -> Any:
    for token in doc:
        token.lemma_ = token.lower_
    return doc


def _presidio_nlp_engine() -> tuple[Any, str]:
    """A tokenizer without a downloaded model, so Presidio's context words (lemmas around a match) still work:
    ``spacy.blank("en")`` plus a component that takes the lower-cased token as its lemma."""
    from presidio_analyzer import nlp_engine as engines

    try:
        import spacy
        from spacy.language import Language
    except ImportError:
        spacy = None
    engine_class = getattr(engines, "SlimSpacyNlpEngine", None) or getattr(engines, "SpacyNlpEngine", None)
    if spacy is not None and engine_class is not None:
        if not Language.has_factory(LEMMA_COMPONENT):
            Language.component(LEMMA_COMPONENT, func=_lowercase_lemmas)
        nlp = spacy.blank("en")
        nlp.add_pipe(LEMMA_COMPONENT)
        if engine_class.__name__ == "SlimSpacyNlpEngine":
            engine = engine_class(models=[{"lang_code": "en", "model_name": "blank"}], auto_download=False)
        else:
            engine = engine_class(models=[{"lang_code": "en", "model_name": "blank"}])
        engine.nlp = {"en": nlp}  # loaded: AnalyzerEngine does not call load(), nothing is downloaded
        return engine, f"{engine_class.__name__} over spacy.blank('en'), lower-cased tokens as lemmas"
    noop = getattr(engines, "NoOpNlpEngine", None)
    if noop is None:
        raise PeerUnavailable("no NLP engine usable without a model (SlimSpacy, Spacy or NoOp)")
    engine = noop(models=[{"lang_code": "en", "model_name": "none"}])
    engine.load()
    return engine, "NoOpNlpEngine (context words from the text are not used)"


def make_presidio(threshold: float) -> System:
    try:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, predefined_recognizers
    except ImportError:
        raise PeerUnavailable("not installed (pip install -e '.[bench]')") from None
    try:
        import tldextract.tldextract as tld

        tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    except (ImportError, AttributeError, TypeError):
        pass  # the environment set by offline() is then what keeps it off the network
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    engine, engine_note = _presidio_nlp_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    loaded = []
    for name in PRESIDIO_RECOGNIZERS:
        recognizer_class = getattr(predefined_recognizers, name, None)
        if recognizer_class is not None:
            registry.add_recognizer(recognizer_class())
            loaded.append(name)
    entities = sorted({e for r in registry.recognizers for e in r.supported_entities if e in PRESIDIO_TYPES})
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])

    def scan(raw: str) -> list[Prediction]:
        results = analyzer.analyze(raw, language="en", entities=entities, score_threshold=threshold)
        return [(PRESIDIO_TYPES[r.entity_type], r.start, r.end) for r in results]

    return System(
        "presidio",
        frozenset(PRESIDIO_TYPES[e] for e in entities),
        scan,
        [
            f"presidio-analyzer {metadata.version('presidio-analyzer')}: {', '.join(loaded)};"
            f" score >= {threshold:g}",
            engine_note,
        ],
    )


def _line_starts(raw: str) -> list[int]:
    """Where each line starts, lines split as Python reads a text file (\\n, \\r\\n, \\r)."""
    return [0, *(m.end() for m in re.finditer(r"\r\n|\r|\n", raw))]


def make_detect_secrets(_threshold: float) -> System:
    try:
        from detect_secrets.core.scan import scan_file
        from detect_secrets.settings import default_settings
    except ImportError:
        raise PeerUnavailable("not installed (pip install -e '.[bench]')") from None
    stack = ExitStack()
    stack.enter_context(default_settings())  # every plugin, the default filters
    path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mug-bench-ds-"))) / "post.txt"

    def scan(raw: str) -> list[Prediction]:
        # scan_file, as `detect-secrets scan` reads a file: its per-line filters and non-eager plugins (the
        # adhoc scan_line surfaces every word to the entropy plugins, whatever its entropy).
        with path.open("w", encoding="utf-8", newline="") as out:
            out.write(raw)
        starts = _line_starts(raw)
        used: set[tuple[str, int]] = set()
        found: list[Prediction] = []
        for secret in sorted(scan_file(str(path)), key=lambda s: (s.line_number, s.type)):
            kind = DETECT_SECRETS_TYPES.get(secret.type, DETECT_SECRETS_DEFAULT)
            line = max(0, min(secret.line_number - 1, len(starts) - 1))
            line_start = starts[line]
            line_end = starts[line + 1] if line + 1 < len(starts) else len(raw)
            value = secret.secret_value or ""
            at = raw.find(value, line_start, line_end) if value else -1
            while at >= 0 and (kind, at) in used:
                at = raw.find(value, at + 1, line_end)
            if at < 0:
                found.append((kind, line_start, line_end))  # the value is not on its line as written
                continue
            used.add((kind, at))
            found.append((kind, at, at + len(value)))
        return found

    covers = frozenset([*DETECT_SECRETS_TYPES.values(), DETECT_SECRETS_DEFAULT]) - {"IP_ADDRESS"}
    return System(
        "detect-secrets",
        covers,
        scan,
        [
            f"detect-secrets {metadata.version('detect-secrets')}: every plugin, default filters,"
            " scan_file on the post written to a file (IP_ADDRESS not scored: its default filters drop every"
            " address its public-IP plugin finds)"
        ],
        stack.close,
    )


MAKERS: dict[str, Callable[[float], System]] = {
    "ours": make_ours,
    "presidio": make_presidio,
    "detect-secrets": make_detect_secrets,
}


# --- the corpus -----------------------------------------------------------------------------------------


@dataclass
class Corpus:
    name: str
    posts: list[dict[str, Any]]
    source: str
    quoted: list[list[tuple[int, int]]] | None = None  # per post; None: the corpus marks no quotations
    quoted_source: str = ""

    @property
    def chars(self) -> int:
        return sum(len(p["raw"]) for p in self.posts)

    @property
    def has_quoted(self) -> bool:
        return self.quoted is not None


def corpus_module(name: str) -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"bench.corpus.{name}")


def with_quotations(corpus: Corpus) -> Corpus:
    """The quoted spans: the posts' own ``"quoted"`` lists when they have them, else the corpus's definition
    of a quotation (``bench.corpus.checks.quoted_regions``, the rule that keeps labels out of quotes)."""
    if any("quoted" in p for p in corpus.posts):
        corpus.quoted = [spans_of(p.get("quoted", [])) for p in corpus.posts]
        corpus.quoted_source = 'the posts\' "quoted" spans'
        return corpus
    try:
        regions = corpus_module("checks").quoted_regions
    except (ImportError, AttributeError):
        return corpus
    corpus.quoted = [[(int(s), int(e)) for s, e in regions(p["raw"])] for p in corpus.posts]
    corpus.quoted_source = "bench.corpus.checks.quoted_regions"
    return corpus


def generated_corpus(seed: int, count: int) -> Corpus:
    posts = corpus_module("generate").generate(seed, count)
    return with_quotations(Corpus("generated", posts, f"bench.corpus.generate, seed {seed}, {count:,} posts"))


def handwritten_corpus(path: Path) -> Corpus | None:
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as lines:
        posts = [json.loads(line) for line in lines if line.strip()]
    return with_quotations(Corpus("handwritten", posts, path.name))


def spans_of(items: Sequence[Any]) -> list[tuple[int, int]]:
    """Spans given as ``{"start", "end"}`` objects or ``[start, end]`` pairs."""
    spans = []
    for item in items:
        if isinstance(item, dict):
            spans.append((int(item["start"]), int(item["end"])))
        else:
            spans.append((int(item[0]), int(item[1])))
    return spans


_FENCED = re.compile(r"^```[^\n]{0,40}\n(.{200,}?)\n```", re.MULTILINE | re.DOTALL)


def big_posts(posts: Sequence[dict[str, Any]], count: int, size: int, seed: int) -> list[str]:
    """``count`` posts of about ``size`` characters: corpus posts and the corpus's fenced logs, drawn at
    random and joined as paragraphs, cut at the last line break before ``size``."""
    rng = random.Random(seed)
    logs = [m.group(1) for p in posts for m in _FENCED.finditer(p["raw"])]
    out = []
    for _ in range(count):
        parts: list[str] = []
        total = 0
        while total < size:
            if logs and rng.random() < 0.5:
                part = "```\n" + rng.choice(logs) + "\n```"
            else:
                part = rng.choice(posts)["raw"]
            parts.append(part)
            total += len(part) + 2
        text = "\n\n".join(parts)
        cut = text.rfind("\n", 0, size)
        out.append(text[: cut if cut > size // 2 else size])
    return out


# Hostile posts: each shape is a unit repeated to the size (after an optional head).
HOSTILE_SHAPES: dict[str, tuple[str, str]] = {
    "digit run": ("", "4111111111111111"),
    "digit groups": ("", "4111 1111 1111 1111 "),
    "@ run": ("", "@"),
    "spaces": ("x", " "),
    "open [quote]": ("", '[quote="member, post:3, topic:45"]\nCall me on 613-722-4410 or mail me.\n'),
    "open ``` fence": ("```\n", "> 10.20.30.40 [quote] INVITE sip:2001@pbx password=Xy7#pq\n"),
    "password= run": ("", "password="),
    "open PEM BEGIN": ("", "-----BEGIN RSA PRIVATE KEY-----\n"),
}


def hostile_post(shape: str, size: int) -> str:
    head, unit = HOSTILE_SHAPES[shape]
    return (head + unit * ((size - len(head)) // len(unit) + 1))[:size]


# --- scoring --------------------------------------------------------------------------------------------


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Tally) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def as_json(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "f1": _round(self.f1),
        }


@dataclass
class Miss:
    kind: str  # "FP" or "FN"
    type: str
    post: str
    snippet: str
    note: str = ""


@dataclass
class Evaluation:
    system: str
    corpus: str
    covers: list[str]
    by_type: dict[str, Tally]
    overall: Tally
    clean_posts: int
    clean_flagged: int
    quoted_findings: int | None  # None: the corpus marks no quoted spans
    quoted_by_type: dict[str, int]
    ignored: int  # findings on items of a type the system does not cover (peers), not scored
    posts: int
    chars: int
    seconds: float  # CPU time of the timed loop
    wall_seconds: float
    misses: list[Miss] = field(default_factory=list)

    @property
    def posts_per_s(self) -> float:
        return self.posts / self.seconds if self.seconds else 0.0

    @property
    def wall_posts_per_s(self) -> float:
        return self.posts / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.chars / 1e6 / self.seconds if self.seconds else 0.0

    @property
    def clean_share(self) -> float | None:
        return self.clean_flagged / self.clean_posts if self.clean_posts else None

    def as_json(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "corpus": self.corpus,
            "covers": self.covers,
            "by_type": {t: tally.as_json() for t, tally in self.by_type.items()},
            "overall": self.overall.as_json(),
            "clean_posts": self.clean_posts,
            "clean_flagged": self.clean_flagged,
            "clean_flagged_share": _round(self.clean_share),
            "quoted_findings": self.quoted_findings,
            "quoted_by_type": self.quoted_by_type,
            "ignored_findings": self.ignored,
            "posts": self.posts,
            "chars": self.chars,
            "cpu_seconds": round(self.seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "posts_per_s": round(self.posts_per_s, 1),
            "wall_posts_per_s": round(self.wall_posts_per_s, 1),
        }


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return min(a[1], b[1]) - max(a[0], b[0])


def match(
    labels: Sequence[Prediction], predictions: Sequence[Prediction]
) -> tuple[set[int], set[int], list[tuple[int, int]]]:
    """Same type and overlapping spans; each label and each prediction matched at most once, the pairs with
    the largest overlap first. Returns the matched label indexes, prediction indexes, and the pairs."""
    pairs = [
        (overlap((ls, le), (ps, pe)), li, pi)
        for li, (lt, ls, le) in enumerate(labels)
        for pi, (pt, ps, pe) in enumerate(predictions)
        if lt == pt and overlap((ls, le), (ps, pe)) > 0
    ]
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    used_labels: set[int] = set()
    used_predictions: set[int] = set()
    matched = []
    for _size, li, pi in pairs:
        if li in used_labels or pi in used_predictions:
            continue
        used_labels.add(li)
        used_predictions.add(pi)
        matched.append((li, pi))
    return used_labels, used_predictions, matched


def _mask(value: str) -> str:
    """The first and last character; the rest as stars (long values shortened, their length given)."""
    if len(value) <= 2:
        return "*" * len(value)
    if len(value) > 30:
        return f"{value[0]}****({len(value)} chars)****{value[-1]}"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def snippet(raw: str, start: int, end: int, sensitive: Sequence[tuple[int, int]], width: int = 45) -> str:
    """The text around ``[start, end)``, that span in [[ ]], every sensitive span in the window masked."""
    lo, hi = max(0, start - width), min(len(raw), end + width)
    spans = sorted({(max(s, lo), min(e, hi)) for s, e in [*sensitive, (start, end)] if s < hi and e > lo})
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    out, at = [], lo
    for s, e in merged:
        out.append(raw[at:s])
        masked = _mask(raw[s:e])
        out.append(f"[[{masked}]]" if s <= start < e else masked)
        at = e
    out.append(raw[at:hi])
    text = "".join(out).replace("\r", "").replace("\n", "\\n").replace("\t", " ")
    return ("..." if lo > 0 else "") + text + ("..." if hi < len(raw) else "")


def evaluate(
    system: System,
    corpus: Corpus,
    predictions: Sequence[Sequence[Prediction]],
    seconds: tuple[float, float],
    keep_misses: bool,
) -> Evaluation:
    covered = [t for t in TYPES if t in system.covers]
    by_type = {t: Tally() for t in covered}
    clean = flagged = ignored = 0
    quoted_total: int | None = 0 if corpus.has_quoted else None
    quoted_by_type: Counter[str] = Counter()
    misses: list[Miss] = []
    for n_post, (post, found) in enumerate(zip(corpus.posts, predictions, strict=True)):
        raw = post["raw"]
        all_labels = [(lab["type"], int(lab["start"]), int(lab["end"])) for lab in post["labels"]]
        labels = [lab for lab in all_labels if lab[0] in system.covers]
        others = [lab for lab in all_labels if lab[0] not in system.covers]
        kept: list[Prediction] = []
        for prediction in found:
            if prediction[0] not in system.covers:
                continue
            if any(overlap(prediction[1:], lab[1:]) > 0 for lab in others):
                ignored += 1  # a peer's finding on an item of a type it does not claim: not scored
                continue
            kept.append(prediction)
        matched_labels, matched_predictions, _pairs = match(labels, kept)
        for n, (kind, _s, _e) in enumerate(labels):
            tally = by_type[kind]
            if n in matched_labels:
                tally.tp += 1
            else:
                tally.fn += 1
        for n, (kind, _s, _e) in enumerate(kept):
            if n not in matched_predictions:
                by_type[kind].fp += 1
        if post.get("kind") == "clean":
            clean += 1
            flagged += bool(kept)
        if corpus.quoted is not None and quoted_total is not None:
            quoted = corpus.quoted[n_post]
            for kind, s, e in kept:
                if any(overlap((s, e), q) > 0 for q in quoted):
                    quoted_total += 1
                    quoted_by_type[kind] += 1
        if keep_misses:
            sensitive = [(s, e) for _t, s, e in all_labels] + [(s, e) for _t, s, e in kept]
            for n, (kind, s, e) in enumerate(labels):
                if n not in matched_labels:
                    near = sorted({t for t, ps, pe in kept if overlap((s, e), (ps, pe)) > 0})
                    note = f"found as {', '.join(near)}" if near else ""
                    misses.append(Miss("FN", kind, post["id"], snippet(raw, s, e, sensitive), note))
            for n, (kind, s, e) in enumerate(kept):
                if n not in matched_predictions:
                    near = sorted({t for t, ls, le in all_labels if overlap((s, e), (ls, le)) > 0})
                    in_quote = corpus.quoted is not None and any(
                        overlap((s, e), q) > 0 for q in corpus.quoted[n_post]
                    )
                    if in_quote:
                        note = "in quoted text"
                    elif near:
                        note = f"labelled {', '.join(near)}"
                    elif post.get("kind") == "clean":
                        note = "clean post"
                    else:
                        note = ""
                    misses.append(Miss("FP", kind, post["id"], snippet(raw, s, e, sensitive), note))
    overall = Tally()
    for tally in by_type.values():
        overall.add(tally)
    return Evaluation(
        system=system.name,
        corpus=corpus.name,
        covers=covered,
        by_type=by_type,
        overall=overall,
        clean_posts=clean,
        clean_flagged=flagged,
        quoted_findings=quoted_total,
        quoted_by_type=dict(sorted(quoted_by_type.items())),
        ignored=ignored,
        posts=len(corpus.posts),
        chars=corpus.chars,
        seconds=seconds[0],
        wall_seconds=seconds[1],
        misses=misses,
    )


# --- measuring ------------------------------------------------------------------------------------------


def pin_one_core() -> int | None:
    """Run on one CPU (the highest this process may use); children inherit it. None where unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def scan_corpus(system: System, corpus: Corpus) -> tuple[list[list[Prediction]], tuple[float, float]]:
    """A warm-up on the first posts, then every post in a loop, timed (CPU and wall-clock seconds); the
    findings are what is scored."""
    for post in corpus.posts[:WARMUP_POSTS]:
        system.scan(post["raw"])
    found = []
    cpu, wall = time.process_time(), time.perf_counter()
    for post in corpus.posts:
        found.append(system.scan(post["raw"]))
    return found, (time.process_time() - cpu, time.perf_counter() - wall)


@dataclass
class Latency:
    posts: int
    mean_size: int
    p50_ms: float | None  # CPU time
    p99_ms: float | None
    max_ms: float | None
    wall_p99_ms: float | None


def measure_latency(system: System, posts: Sequence[str]) -> Latency:
    if not posts:
        return Latency(0, 0, None, None, None, None)
    system.scan(posts[0])  # warm-up
    times, walls = [], []
    for text in posts:
        cpu, wall = time.process_time(), time.perf_counter()
        system.scan(text)
        times.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return Latency(
        len(posts),
        sum(len(t) for t in posts) // len(posts),
        _round(percentile(times, 50), 2),
        _round(percentile(times, 99), 2),
        _round(max(times), 2),
        _round(percentile(walls, 99), 2),
    )


@dataclass
class Memory:
    peak_mb: float | None = None
    source: str = ""
    error: str | None = None


def _child_env(workdir: Path) -> dict[str, str]:
    """The child's temporary files go in the run's directory: a child stopped on a timeout cannot clean up."""
    return {**os.environ, "TMPDIR": str(workdir)}


def _child_command(task: str, system: str, args: argparse.Namespace, extra: Sequence[str]) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        task,
        "--system",
        system,
        "--presidio-threshold",
        str(args.presidio_threshold),
        *extra,
    ]


def measure_memory(system: str, corpus_file: Path, args: argparse.Namespace, timeout: float) -> Memory:
    """Peak resident size of a fresh process that imports the system, builds it and scans the corpus."""
    command = _child_command("memory", system, args, ["--input", str(corpus_file)])
    env = _child_env(corpus_file.parent)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    except subprocess.TimeoutExpired:
        return Memory(error=f"timed out after {timeout:.0f} s")
    if done.returncode != 0:
        return Memory(error=_last_line(done.stderr) or f"exit status {done.returncode}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Memory(result["peak_mb"], result["source"])


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def peak_rss() -> tuple[float, str]:
    """This process's peak resident size in MB. Linux's ``ru_maxrss`` keeps the peak of the process that
    forked this one across exec (a child of a big parent starts at the parent's size), so the peak of this
    process's own memory (VmHWM) is read where /proc has it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024, "VmHWM"
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "ru_maxrss"


@dataclass
class Hostile:
    shape: str
    size: int
    seconds: float | None = None  # best of the runs
    runs: int = 0
    findings: int = 0
    error: str | None = None  # "timed out", "skipped (...)", or what the process printed when it failed
    over: float | None = None  # timed out: the scan took longer than this many seconds


def measure_hostile(system: str, args: argparse.Namespace, timeout: float, workdir: Path) -> list[Hostile]:
    """Every shape at 100 kB then 1 MB, in a fresh process that reports each figure as it has it; a scan that
    takes longer than ``timeout`` is stopped (the process is ended and a new one continues with the rest)."""
    pending = [(shape, size) for shape in HOSTILE_SHAPES for size in HOSTILE_SIZES]
    results: dict[tuple[str, int], Hostile] = {}
    while pending:
        shapes = list(dict.fromkeys(shape for shape, _size in pending))
        sizes = sorted({size for _shape, size in pending})
        command = _child_command(
            "hostile", system, args, ["--shapes", json.dumps(shapes), "--sizes", json.dumps(sizes)]
        )
        with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1, env=_child_env(workdir)
            )
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()

            def failure(process: subprocess.Popen[str] = process, errors: Any = errors) -> str:
                if process.poll() is None:
                    process.kill()
                process.wait()
                errors.seek(0)
                return _last_line(errors.read()) or f"the process ended ({process.returncode})"

            try:
                started = _next_line(lines, max(timeout, 180.0))  # import and build, then {"ready": true}
                if started is None or not json.loads(started).get("ready"):
                    error = failure()
                    for key in pending:
                        results[key] = Hostile(*key, error=error)
                    break
                while pending:
                    line = _next_line(lines, timeout)
                    shape, size = pending.pop(0)
                    if line is None:
                        if process.poll() is None:
                            results[(shape, size)] = Hostile(shape, size, error="timed out", over=timeout)
                        else:
                            results[(shape, size)] = Hostile(shape, size, error=failure())
                        for later in [key for key in pending if key[0] == shape]:
                            results[later] = Hostile(
                                *later, error="skipped (the smaller post did not finish)"
                            )
                            pending.remove(later)
                        break
                    figure = json.loads(line)
                    results[(shape, size)] = Hostile(
                        shape, size, figure["seconds"], figure["runs"], figure["findings"]
                    )
            finally:
                if process.poll() is None:
                    process.kill()
                process.wait()
    return [results[(shape, size)] for shape in HOSTILE_SHAPES for size in HOSTILE_SIZES]


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _next_line(lines: queue.Queue[str | None], timeout: float) -> str | None:
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


def run_child(args: argparse.Namespace) -> int:
    """``--child memory``: build the system, scan every post of --input, print the peak resident size.
    ``--child hostile``: build it, then print one line per hostile shape and size."""
    offline()
    try:
        system = MAKERS[args.system](args.presidio_threshold) if args.system != "none" else None
    except PeerUnavailable as exc:
        print(f"{args.system}: {exc}", file=sys.stderr)
        return 3
    if args.child == "memory":
        with open(args.input, encoding="utf-8") as lines:
            for line in lines:
                raw = json.loads(line)["raw"]
                if system is not None:
                    system.scan(raw)
        peak, source = peak_rss()
        print(json.dumps({"peak_mb": round(peak, 1), "source": source}))
        return 0
    assert system is not None
    system.scan(hostile_post("open [quote]", 2000) + hostile_post("digit groups", 2000))  # warm-up
    print(json.dumps({"ready": True}), flush=True)
    for shape in json.loads(args.shapes):
        for size in json.loads(args.sizes):
            text = hostile_post(shape, size)
            runs: list[float] = []
            findings = 0
            while len(runs) < 3 and sum(runs) < HOSTILE_BUDGET_S:
                started = time.process_time()
                findings = len(system.scan(text))
                runs.append(time.process_time() - started)
            figure = {"shape": shape, "size": size, "seconds": min(runs), "runs": len(runs)}
            print(json.dumps(figure | {"findings": findings}), flush=True)
    return 0


# --- the run --------------------------------------------------------------------------------------------


@dataclass
class Check:
    scope: str
    name: str
    value: str
    passed: bool | None  # None: not judged (the figure is not available)


@dataclass
class SystemRun:
    name: str
    available: bool
    covers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    latency: Latency | None = None
    memory: Memory | None = None
    hostile: list[Hostile] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "available": self.available,
            "covers": self.covers,
            "notes": self.notes,
            "error": self.error,
            "corpora": {name: e.as_json() for name, e in self.evaluations.items()},
            "latency_100kb": asdict(self.latency) if self.latency else None,
            "memory": asdict(self.memory) if self.memory else None,
            "hostile": [asdict(h) for h in self.hostile],
        }


def checks_of(ours: SystemRun, presidio: SystemRun | None) -> list[Check]:
    scope = "generated"
    evaluation = ours.evaluations.get("generated")
    checks: list[Check] = []
    if evaluation is None:
        return checks
    for kind in CHECKSUMMED:
        tally = evaluation.by_type[kind]
        p, r = tally.precision, tally.recall
        judged = None if p is None or r is None else p >= TARGET_CHECKSUMMED and r >= TARGET_CHECKSUMMED
        checks.append(
            Check(scope, f"{kind} P and R >= {TARGET_CHECKSUMMED:g}", f"{_fmt(p)} / {_fmt(r)}", judged)
        )
    for kind, target in TARGET_PRECISION.items():
        p = evaluation.by_type[kind].precision
        checks.append(
            Check(scope, f"{kind} precision >= {target:g}", _fmt(p), None if p is None else p >= target)
        )
    f1 = evaluation.overall.f1
    checks.append(
        Check(scope, f"overall F1 >= {TARGET_F1:g}", _fmt(f1), None if f1 is None else f1 >= TARGET_F1)
    )
    share = evaluation.clean_share
    checks.append(
        Check(
            scope,
            f"clean posts flagged <= {TARGET_CLEAN_FLAGGED:.0%}",
            f"{evaluation.clean_flagged:,} / {evaluation.clean_posts:,}"
            + (f" ({share:.1%})" if share is not None else ""),
            None if share is None else share <= TARGET_CLEAN_FLAGGED,
        )
    )
    quoted = evaluation.quoted_findings
    checks.append(
        Check(
            scope,
            "no finding from quoted text",
            "n/a (no quoted spans)" if quoted is None else f"{quoted:,} findings",
            None if quoted is None else quoted == 0,
        )
    )
    rate = evaluation.posts_per_s
    checks.append(
        Check(
            scope,
            f"throughput >= {TARGET_POSTS_PER_S:,} posts/s",
            f"{rate:,.0f} posts/s (CPU)",
            rate >= TARGET_POSTS_PER_S,
        )
    )
    peer = presidio.evaluations.get("generated") if presidio is not None else None
    if peer is not None and peer.posts_per_s:
        ratio = rate / peer.posts_per_s
        checks.append(
            Check(
                scope,
                f"throughput >= {TARGET_VS_PRESIDIO:g}x Presidio's",
                f"{ratio:,.1f}x",
                ratio >= TARGET_VS_PRESIDIO,
            )
        )
    else:
        checks.append(
            Check(scope, f"throughput >= {TARGET_VS_PRESIDIO:g}x Presidio's", "n/a (not run)", None)
        )
    p99 = ours.latency.p99_ms if ours.latency else None
    checks.append(
        Check(
            "100 kB",
            f"p99 < {TARGET_P99_MS:g} ms for a 100 kB post",
            "n/a" if p99 is None else f"{p99:.1f} ms (CPU)",
            None if p99 is None else p99 < TARGET_P99_MS,
        )
    )
    peak = ours.memory.peak_mb if ours.memory else None
    checks.append(
        Check(
            "process",
            f"peak resident < {TARGET_RSS_MB:g} MB",
            "n/a" if peak is None else f"{peak:.0f} MB",
            None if peak is None else peak < TARGET_RSS_MB,
        )
    )
    return checks


def linear_flags(run: SystemRun) -> list[tuple[str, str, bool]]:
    """(shape, ratio text, flagged) for a system's hostile figures."""
    flags = []
    by_key = {(h.shape, h.size): h for h in run.hostile}
    for shape in HOSTILE_SHAPES:
        small, large = by_key.get((shape, HOSTILE_SIZES[0])), by_key.get((shape, HOSTILE_SIZES[1]))
        if small is None or large is None:
            continue
        text, flagged = _ratio(small, large)
        flags.append((shape, text, flagged))
    return flags


def _ratio(small: Hostile, large: Hostile) -> tuple[str, bool]:
    if small.seconds is None:
        return "-", True
    if large.seconds is None:
        if large.over is not None:
            return "timeout", True  # not finished in `over` wall-clock seconds
        return "-", True
    ratio = large.seconds / small.seconds if small.seconds else math.inf
    return f"{ratio:,.1f}", ratio > LINEAR_FLAG


# --- reporting ------------------------------------------------------------------------------------------


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _cell(value: float | None, width: int = 6) -> str:
    return f"{'-' if value is None else f'{value:.3f}':>{width}}"


def render_corpus(corpus: Corpus, runs: Sequence[SystemRun]) -> str:
    posts = corpus.posts
    planted = sum(1 for p in posts if p.get("kind") == "planted")
    labels = Counter(lab["type"] for p in posts for lab in p["labels"])
    lines = [
        f"== {corpus.name} corpus ({corpus.source}): {len(posts):,} posts, {planted:,} planted with"
        f" {sum(labels.values()):,} labels, {len(posts) - planted:,} clean; {corpus.chars / 1e6:.2f} MB",
    ]
    evaluated = [r for r in runs if corpus.name in r.evaluations]
    ours = next((r for r in evaluated if r.name == "ours"), None)
    peers = [r for r in evaluated if r.name != "ours"]
    head1 = f"   {'':<15}{'':>7}"
    head2 = f"   {'type':<15}{'labels':>7}"
    if ours:
        head1 += f"  {' ours ':-^38}"
        head2 += f"  {'tp':>5} {'fp':>5} {'fn':>5}  {'prec':>6} {'rec':>6} {'F1':>6}"
    for peer in peers:
        head1 += f"  {' ' + peer.name + ' ':-^20}"
        head2 += f"  {'prec':>6} {'rec':>6} {'F1':>6}"
    lines += [head1, head2]

    def row(name: str, count: int, tallies: dict[str, Tally | None]) -> str:
        text = f"   {name:<15}{count:>7,}"
        if ours:
            t = tallies.get("ours")
            if t is None:
                text += " " * 40
            else:
                text += f"  {t.tp:>5,} {t.fp:>5,} {t.fn:>5,}"
                text += f"  {_cell(t.precision)} {_cell(t.recall)} {_cell(t.f1)}"
        for peer in peers:
            t = tallies.get(peer.name)
            text += f"  {'':>20}" if t is None else f"  {_cell(t.precision)} {_cell(t.recall)} {_cell(t.f1)}"
        return text.rstrip()

    for kind in TYPES:
        tallies = {r.name: r.evaluations[corpus.name].by_type.get(kind) for r in evaluated}
        lines.append(row(kind, labels.get(kind, 0), tallies))
    lines.append(
        row(
            "overall (micro)",
            sum(labels.values()),
            {r.name: r.evaluations[corpus.name].overall for r in evaluated},
        )
    )
    for peer in peers:
        lines.append(f"     {peer.name}: scored on {', '.join(peer.covers)} only")

    def share(e: Evaluation) -> str:
        if not e.clean_posts:
            return "no clean posts"
        return f"{e.clean_flagged:,} / {e.clean_posts:,} ({e.clean_flagged / e.clean_posts:.1%})"

    lines.append(
        "   clean posts with a finding: "
        + "; ".join(f"{r.name} {share(r.evaluations[corpus.name])}" for r in evaluated)
    )
    if corpus.has_quoted:
        parts = []
        for r in evaluated:
            e = r.evaluations[corpus.name]
            kinds = ", ".join(f"{k} {n}" for k, n in e.quoted_by_type.items())
            parts.append(f"{r.name} {e.quoted_findings:,}" + (f" ({kinds})" if kinds else ""))
        with_quotes = sum(1 for spans in corpus.quoted or [] if spans)
        lines.append(
            f"   findings in quoted text ({with_quotes:,} posts quote someone; {corpus.quoted_source}): "
            + "; ".join(parts)
        )
    else:
        lines.append("   findings in quoted text: n/a (the corpus marks no quoted spans)")
    if peers:
        lines.append(
            "   peer findings on items of a type the peer does not cover (not scored): "
            + "; ".join(f"{r.name} {r.evaluations[corpus.name].ignored:,}" for r in peers)
        )
    lines.append(
        "   scan speed (this corpus, one core): "
        + "; ".join(
            f"{r.name} {r.evaluations[corpus.name].posts_per_s:,.0f} posts/s"
            f" ({r.evaluations[corpus.name].mb_per_s:.2f} MB/s)"
            for r in evaluated
            if r.evaluations[corpus.name].seconds
        )
    )
    return "\n".join(lines)


def render_performance(runs: Sequence[SystemRun], cpu: int | None, baseline: Memory | None) -> str:
    where = f"pinned to CPU {cpu}" if cpu is not None else "not pinned"
    lines = [
        f"== speed and memory (one core, {where}; CPU time of the scanning process, wall-clock beside)",
        f"   {'':<16}{'-- corpus posts/s --':>23}   {'':>15}{' 100 kB posts, ms ':-^34}",
        f"   {'system':<16}{'CPU':>9}{'MB/s':>7}{'wall':>7}   {'posts':>15}{'p50':>8}{'p99':>8}{'max':>8}"
        f"{'p99 wall':>10}   {'peak RSS MB':>11}",
    ]
    for r in runs:
        if not r.available:
            lines.append(f"   {r.name:<16}{r.error or 'not run'}")
            continue
        e = r.evaluations.get("generated")
        rate = (
            f"{e.posts_per_s:>9,.0f}{e.mb_per_s:>7.2f}{e.wall_posts_per_s:>7,.0f}"
            if e and e.seconds
            else f"{'-':>9}{'-':>7}{'-':>7}"
        )
        lat = r.latency
        if lat and lat.posts:
            latency = f"{lat.posts:>6} x {lat.mean_size / 1000:>3.0f} kB"
            latency += "".join(f"{v:>8.1f}" for v in (lat.p50_ms, lat.p99_ms, lat.max_ms) if v is not None)
            latency += f"{lat.wall_p99_ms:>10.1f}" if lat.wall_p99_ms is not None else ""
        else:
            latency = f"{'-':>15}{'-':>8}{'-':>8}{'-':>8}{'-':>10}"
        mem = r.memory
        if mem is None:
            memory = f"{'-':>11}"
        elif mem.peak_mb is None:
            memory = f"{'-':>11}  ({mem.error})"
        else:
            memory = f"{mem.peak_mb:>11.0f}"
        lines.append(f"   {r.name:<16}{rate}   {latency}   {memory}")
    if baseline is not None and baseline.peak_mb is not None:
        lines.append(
            f"   peak RSS: a fresh process that imports, builds and scans the corpus ({baseline.source});"
            f" the same process reading the corpus without a scanner peaks at {baseline.peak_mb:.0f} MB"
        )
    return "\n".join(lines)


def render_hostile(runs: Sequence[SystemRun], timeout: float) -> str:
    measured = [r for r in runs if r.hostile]
    lines = [
        f"== hostile input: CPU seconds to scan 100 kB and 1 MB, ratio 1 MB / 100 kB (~10 linear,"
        f" > {LINEAR_FLAG:g} flagged with !; a scan stops after {timeout:g} s)",
    ]
    head = f"   {'shape':<16}"
    for r in measured:
        head += f"  {r.name[:14] + ' 100 kB':>21}{'1 MB':>9}{'ratio':>9}"
    lines.append(head)
    for shape in HOSTILE_SHAPES:
        text = f"   {shape:<16}"
        for r in measured:
            by_key = {(h.shape, h.size): h for h in r.hostile}
            small, large = by_key[(shape, HOSTILE_SIZES[0])], by_key[(shape, HOSTILE_SIZES[1])]
            ratio, flagged = _ratio(small, large)
            text += f"  {_seconds(small):>21}{_seconds(large):>9}{ratio:>8}{'!' if flagged else ' '}"
        lines.append(text)
    for r in measured:
        for h in r.hostile:
            if h.error and h.over is None and not h.error.startswith("skipped"):
                lines.append(f"   {r.name} {h.shape} {h.size:,}: {h.error}")
    return "\n".join(lines)


def _seconds(h: Hostile) -> str:
    if h.seconds is not None:
        return f"{h.seconds:.3f}"
    if h.over is not None:
        return f">{h.over:g}s"
    return "-"


def render_misses(evaluation: Evaluation, limit: int) -> str:
    lines = [
        f"== errors of ours on the {evaluation.corpus} corpus (up to {limit} false positives and {limit}"
        " false negatives per type; values masked)"
    ]
    for kind in TYPES:
        for which in ("FN", "FP"):
            misses = [m for m in evaluation.misses if m.type == kind and m.kind == which]
            for miss in misses[:limit]:
                note = f"   ({miss.note})" if miss.note else ""
                lines.append(f"   {which} {kind:<14} {miss.post:<9} {miss.snippet}{note}")
            if len(misses) > limit:
                lines.append(f"   {which} {kind:<14} ... {len(misses) - limit:,} more")
    if len(lines) == 1:
        lines.append("   none")
    return "\n".join(lines)


def render_summary(checks: Sequence[Check], runs: Sequence[SystemRun]) -> str:
    lines = ["== summary (generated corpus, ours)"]
    for check in checks:
        lines.append(
            summary_row(check.scope, check.name, check.value, verdict(check.passed), widths=(36, 22))
        )
    ours = next((r for r in runs if r.name == "ours"), None)
    if ours and ours.hostile:
        flagged = [f"{shape} ({ratio})" for shape, ratio, bad in linear_flags(ours) if bad]
        value = "FLAG: " + ", ".join(flagged) if flagged else "every shape <= 20"
        lines.append(summary_row("hostile", "1 MB / 100 kB time (information)", value, "", widths=(36, 22)))
    return "\n".join(lines)


# --- command line ---------------------------------------------------------------------------------------


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _peers(text: str) -> list[str]:
    if text in ("all", ""):
        return list(PEERS)
    if text == "none":
        return []
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in PEERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown peer {', '.join(unknown)}: choose from {', '.join(PEERS)}")
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated corpus (7)")
    parser.add_argument(
        "--posts", type=positive_int, default=2000, help="posts in the generated corpus (2,000)"
    )
    parser.add_argument(
        "--handwritten",
        type=Path,
        default=HANDWRITTEN,
        help="hand-written posts, JSON lines (bench/corpus/...)",
    )
    parser.add_argument(
        "--peers",
        type=_peers,
        default=list(PEERS),
        help="all (default), none, or a list: presidio,detect-secrets",
    )
    parser.add_argument(
        "--presidio-threshold", type=float, default=0.4, help="Presidio's score threshold (0.4)"
    )
    parser.add_argument(
        "--big-posts", type=_count, default=50, help="100 kB posts for the latency figures (50)"
    )
    parser.add_argument(
        "--peer-big-posts",
        type=_count,
        default=10,
        help="100 kB posts for the peers' latency (10: they are slow)",
    )
    parser.add_argument(
        "--hostile-timeout", type=float, default=30.0, help="seconds before a hostile scan is stopped (30)"
    )
    parser.add_argument(
        "--errors",
        type=_count,
        default=0,
        metavar="N",
        help="print up to N false positives and negatives per type",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target passes")
    # A measurement in a fresh process (started by the benchmark itself).
    parser.add_argument("--child", choices=["memory", "hostile"], help=argparse.SUPPRESS)
    parser.add_argument("--system", choices=[*SYSTEMS, "none"], help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--shapes", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_systems(names: Sequence[str], threshold: float) -> Iterator[tuple[SystemRun, System | None]]:
    for name in names:
        try:
            system = MAKERS[name](threshold)
        except PeerUnavailable as exc:
            yield SystemRun(name, False, error=str(exc)), None
            continue
        yield SystemRun(name, True, sorted(system.covers, key=TYPES.index), system.notes), system


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 (or, with --check, 1 when a target fails); 2 when the corpus cannot be loaded."""
    args = parse_args(argv)
    offline()
    if args.child:
        return run_child(args)

    cpu = pin_one_core()
    try:
        progress(f"generating the corpus (seed {args.seed}, {args.posts:,} posts) ...")
        corpora = [generated_corpus(args.seed, args.posts)]
    except (ImportError, AttributeError) as exc:
        print(f"cannot load the corpus generator (bench/corpus/generate.py): {exc}", file=sys.stderr)
        return 2
    handwritten = handwritten_corpus(args.handwritten)
    if handwritten is not None:
        corpora.append(handwritten)
    generated = corpora[0]
    big = big_posts(generated.posts, max(args.big_posts, args.peer_big_posts), 100_000, args.seed)

    runs: list[SystemRun] = []
    with tempfile.TemporaryDirectory(prefix="mug-bench-scanner-") as tmp:
        corpus_file = Path(tmp) / "corpus.jsonl"
        with corpus_file.open("w", encoding="utf-8") as out:
            for post in generated.posts:
                out.write(json.dumps({"raw": post["raw"]}, ensure_ascii=False) + "\n")
        progress("memory baseline (reading the corpus in a fresh process) ...")
        baseline = measure_memory("none", corpus_file, args, timeout=600)

        for run, system in build_systems(["ours", *args.peers], args.presidio_threshold):
            runs.append(run)
            if system is None:
                progress(f"{run.name}: {run.error}")
                continue
            try:
                for corpus in corpora:
                    progress(f"{run.name}: scanning the {corpus.name} corpus ...")
                    found, seconds = scan_corpus(system, corpus)
                    run.evaluations[corpus.name] = evaluate(
                        system, corpus, found, seconds, run.name == "ours"
                    )
                count = args.big_posts if run.name == "ours" else args.peer_big_posts
                progress(f"{run.name}: {count} posts of 100 kB ...")
                run.latency = measure_latency(system, big[:count])
            finally:
                system.close()
            progress(f"{run.name}: peak memory in a fresh process ...")
            run.memory = measure_memory(run.name, corpus_file, args, timeout=3600)
            progress(f"{run.name}: hostile input ...")
            run.hostile = measure_hostile(run.name, args, args.hostile_timeout, Path(tmp))

    ours = runs[0]
    presidio = next((r for r in runs if r.name == "presidio" and r.available), None)
    checks = checks_of(ours, presidio)
    passed = all(c.passed is not False for c in checks)
    if args.json:
        document: dict[str, Any] = {
            "settings": {
                "seed": args.seed,
                "posts": args.posts,
                "handwritten": handwritten.source if handwritten else None,
                "peers": args.peers,
                "presidio_threshold": args.presidio_threshold,
                "big_posts": args.big_posts,
                "peer_big_posts": args.peer_big_posts,
                "hostile_timeout": args.hostile_timeout,
                "cpu": cpu,
            },
            "targets": {
                "checksummed_precision_recall": TARGET_CHECKSUMMED,
                "precision": TARGET_PRECISION,
                "overall_f1": TARGET_F1,
                "clean_flagged_share": TARGET_CLEAN_FLAGGED,
                "posts_per_s": TARGET_POSTS_PER_S,
                "vs_presidio": TARGET_VS_PRESIDIO,
                "p99_ms_100kb": TARGET_P99_MS,
                "peak_rss_mb": TARGET_RSS_MB,
                "linear_flag": LINEAR_FLAG,
            },
            "memory_baseline": asdict(baseline),
            "systems": [r.as_json() for r in runs],
            "checks": [asdict(c) for c in checks],
            "passed": passed,
        }
        if args.errors:
            document["errors"] = {
                name: [asdict(m) for m in evaluation.misses] for name, evaluation in ours.evaluations.items()
            }
        print(json.dumps(document, indent=2))
    else:
        for run in runs:
            status = "; ".join(run.notes) if run.available else f"not run: {run.error}"
            print(f"-- {run.name}: {status}")
        if handwritten is None:
            print(f"-- hand-written posts: {args.handwritten.name} not found, skipped")
        for corpus in corpora:
            print(render_corpus(corpus, runs))
        print(render_performance(runs, cpu, baseline))
        print(render_hostile(runs, args.hostile_timeout))
        if args.errors:
            for evaluation in ours.evaluations.values():
                print(render_misses(evaluation, args.errors))
        print(render_summary(checks, runs))
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
