"""Which parts of a post the author did not write: other people's quotes.

Discourse posts are Markdown with BBCode. Quoted text comes in three shapes, all skipped:

- ``[quote="name, post:3, topic:45"] ... [/quote]`` (what the Quote button inserts; nests; an unclosed
  ``[quote]`` is shown literally, so it quotes nothing);
- ``<blockquote> ... </blockquote>``;
- ``>`` lines, with CommonMark's lazy continuation: a non-blank line right after a quoted line belongs to
  the same quoted paragraph.

Code (fenced blocks and inline code) is scanned like any text: configs get pasted there. Inside a fenced
block nothing is a quote (``> `` in a pasted shell session is not one).

One pass over the lines and one regex pass over the tags: linear in the length of the post, whatever it
holds (unclosed fences and tags included).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Span = tuple[int, int]

_FENCE = re.compile(r"[ ]{0,3}(`{3,}|~{3,})")
_QUOTE_LINE = re.compile(r"[ ]{0,3}>")
_TAG = re.compile(r"\[(/?)quote(?:=[^\]\n]{0,500})?\]|<(/?)blockquote\b[^>\n]{0,200}>", re.IGNORECASE)


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    start = 0
    length = len(text)
    while start < length:
        end = text.find("\n", start)
        if end < 0:
            end = length
        yield start, end, text[start:end]
        start = end + 1


def fenced_and_quoted_lines(text: str) -> tuple[list[Span], list[Span]]:
    """The spans of fenced code blocks and of ``>``-quoted paragraphs (line spans, merged)."""
    fences: list[Span] = []
    quotes: list[Span] = []
    fence: str | None = None
    fence_start = 0
    in_quote = False
    for start, end, line in _lines(text):
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fences.append((fence_start, end))
                fence = None
            continue
        opened = _FENCE.match(line)
        if opened is not None:
            fence, fence_start, in_quote = opened.group(1), start, False
            continue
        if _QUOTE_LINE.match(line):
            in_quote = True
            _add(quotes, start, end)
        elif in_quote and line.strip():
            _add(quotes, start, end)  # lazy continuation of the quoted paragraph
        else:
            in_quote = False
    if fence is not None:
        fences.append((fence_start, len(text)))  # an unclosed fence runs to the end
    return fences, quotes


def quoted_spans(text: str) -> list[Span]:
    """Every span of ``text`` that is someone else's quoted text, sorted and merged."""
    if ">" not in text and "[" not in text and "<" not in text:
        return []
    fences, quotes = fenced_and_quoted_lines(text)
    spans = list(quotes)
    spans.extend(_tag_quotes(text, fences))
    return _merge(spans)


def _tag_quotes(text: str, fences: list[Span]) -> list[Span]:
    spans: list[Span] = []
    stacks: dict[str, list[int]] = {"quote": [], "blockquote": []}
    fence_index = 0
    for match in _TAG.finditer(text):
        position = match.start()
        while fence_index < len(fences) and fences[fence_index][1] <= position:
            fence_index += 1
        if fence_index < len(fences) and fences[fence_index][0] <= position:
            continue  # a tag inside a code block is text
        kind = "quote" if match.group(0)[0] == "[" else "blockquote"
        closing = bool(match.group(1) or match.group(2))
        stack = stacks[kind]
        if not closing:
            stack.append(position)
        elif stack:
            spans.append((stack.pop(), match.end()))  # nested spans merge; an unclosed outer one adds none
    return spans


def _add(spans: list[Span], start: int, end: int) -> None:
    if spans and spans[-1][1] + 1 >= start:
        spans[-1] = (spans[-1][0], end)
    else:
        spans.append((start, end))


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def inside(spans: list[Span], start: int, end: int) -> bool:
    """Whether ``[start, end)`` overlaps any of the sorted, merged ``spans``."""
    lo, hi = 0, len(spans)
    while lo < hi:
        mid = (lo + hi) // 2
        if spans[mid][1] <= start:
            lo = mid + 1
        else:
            hi = mid
    return lo < len(spans) and spans[lo][0] < end
