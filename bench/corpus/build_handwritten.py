"""Build ``handwritten.jsonl`` from the marked-up ``handwritten.src.txt`` and check it.

    python bench/corpus/build_handwritten.py           # rebuild the JSONL, then check it
    python bench/corpus/build_handwritten.py --check   # check that the JSONL matches the source and is sound

Source format: a post starts with a header line ``=== hw-NNN planted`` or ``=== hw-NNN clean``; its text runs
until the next header (blank lines around it are dropped). A sensitive value the author wrote is marked
``⟦TYPE|value⟧``; the markers are removed from the text and become labels with exact character offsets. The
value may span lines (private keys, two-line addresses). Lines before the first header are comments.
Quoted values (another member's words in ``[quote]`` or ``>``) are left unmarked.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

try:
    from bench.corpus import checks
except ModuleNotFoundError:  # run as a script: python bench/corpus/build_handwritten.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.corpus import checks

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "handwritten.src.txt"
OUTPUT = HERE / "handwritten.jsonl"
HEADER_RE = re.compile(r"^=== (hw-\d{3}) (planted|clean)[ \t]*$", re.MULTILINE)
MARK_RE = re.compile(r"⟦([A-Z_]+)\|(.*?)⟧", re.DOTALL)


def parse_markup(text: str) -> tuple[str, list[dict]]:
    """Strip ``⟦TYPE|value⟧`` markers; return the raw text and the labels they stood for."""
    raw: list[str] = []
    labels = []
    pos = 0
    length = 0
    for m in MARK_RE.finditer(text):
        before = text[pos : m.start()]
        raw.append(before)
        length += len(before)
        type_, value = m.group(1), m.group(2)
        if type_ not in checks.TYPES:
            raise ValueError(f"unknown type {type_!r} in marker {m.group(0)[:60]!r}")
        labels.append({"type": type_, "start": length, "end": length + len(value)})
        raw.append(value)
        length += len(value)
        pos = m.end()
    raw.append(text[pos:])
    out = "".join(raw)
    if "⟦" in out or "⟧" in out:
        raise ValueError(f"unbalanced marker near {out[max(0, out.find('⟦')) :][:60]!r}")
    return out, labels


def build(source: str) -> list[dict]:
    headers = list(HEADER_RE.finditer(source))
    posts = []
    for i, h in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(source)
        body = source[h.end() : end].strip("\n")
        raw, labels = parse_markup(body)
        posts.append({"id": h.group(1), "raw": raw, "labels": labels, "kind": h.group(2)})
    return posts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--check", action="store_true", help="do not write; verify the JSONL is current and sound"
    )
    args = ap.parse_args(argv)
    posts = build(SOURCE.read_text(encoding="utf-8"))
    text = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts)
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"FAIL: {OUTPUT.name} is out of date; run build_handwritten.py")
            return 1
    else:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.name}: {len(posts)} posts")
    problems = checks.check_posts(posts)
    print(checks.summary(posts))
    if problems:
        print(f"FAIL: {len(problems)} problems")
        for line in problems:
            print("  " + line)
        return 1
    print("OK: labels valid, no overlaps, clean posts unlabelled, quotations unlabelled, no unlabelled leaks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
