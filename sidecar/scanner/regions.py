"""Which parts of a post the author did not write: other people's quotes.

Discourse posts are Markdown with BBCode. Quoted text comes in three shapes, all skipped:

- ``[quote="name, post:3, topic:45"] ... [/quote]`` (what the Quote button inserts; nests; an unclosed
  ``[quote]`` is shown literally, so it quotes nothing);
- ``<blockquote> ... </blockquote>``;
- ``>`` lines, with CommonMark's lazy continuation: a non-blank line right after a quoted line belongs to
  the same quoted paragraph.

Code (fenced blocks and inline code) is scanned like any text: configs get pasted there. Inside a fenced
block nothing is a quote (``> `` in a pasted shell session is not one).

A regex search for the lines that open a fence or a quote, and one regex pass over the tags: linear in
the length of the post, whatever it holds (unclosed fences and tags included).
"""

from __future__ import annotations

import functools
import re

from sidecar.scanner.text import lower

Span = tuple[int, int]

# A line that opens a fence or a quote: at the start of the post, or after a newline (a literal, fast).
_MARK = re.compile(r"[ ]{0,3}(?:(`{3,}|~{3,})|>)")
_NEXT_MARK = re.compile(r"\n[ ]{0,3}(?:(`{3,}|~{3,})|>)")
# What ends a quoted paragraph: a blank line, a line that opens a fence, or the end of the post.
_PARAGRAPH_END = re.compile(r"\n(?:[^\S\n]*(?:\n|\Z)|[ ]{0,3}(?:`{3,}|~{3,}))")
# The tags, found by their shared word (a literal the engine searches for fast), with what opens them read
# behind it: "[quote", "[/quote", "<blockquote", "</blockquote".
_TAG = re.compile(
    r"quote(?:(?:(?<=\[quote)|(?<=\[/quote))(?:=[^\]\n]{0,500})?\]"
    r"|(?:(?<=<blockquote)|(?<=</blockquote))\b[^>\n]{0,200}>)"
)


@functools.lru_cache(maxsize=16)
def _closing_fence(fence: str) -> re.Pattern[str]:
    """A line of only the fence's character, at least as many as opened it."""
    return re.compile(rf"\n[^\S\n]*{re.escape(fence[0])}{{{len(fence)},}}[^\S\n]*$", re.MULTILINE)


def fenced_and_quoted_lines(text: str) -> tuple[list[Span], list[Span]]:
    """The spans of fenced code blocks and of ``>``-quoted paragraphs (from the start of their first line
    to the end of their last). Only the lines that open a fence or a quote are visited, found by regex: a
    100 kB log is not walked line by line."""
    fences: list[Span] = []
    quotes: list[Span] = []
    mark = _MARK.match(text)
    start = 0
    if mark is None:
        mark = _NEXT_MARK.search(text)
        start = mark.start() + 1 if mark is not None else 0
    while mark is not None:
        if mark.group(1):  # a fence: to its closing line, or (unclosed) to the end of the post
            line_end = text.find("\n", start)
            close = _closing_fence(mark.group(1)).search(text, line_end) if line_end >= 0 else None
            end = close.end() if close is not None else len(text)
            fences.append((start, end))
        else:  # a quoted paragraph, lazy continuation lines included
            stop = _PARAGRAPH_END.search(text, start)
            end = stop.start() if stop is not None else len(text)
            quotes.append((start, end))
        mark = _NEXT_MARK.search(text, end)
        start = mark.start() + 1 if mark is not None else 0
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
    lowered = lower(text)
    for match in _TAG.finditer(lowered):
        kind = "quote" if match.group(0).endswith("]") else "blockquote"
        position = match.start() - (1 if kind == "quote" else 6)  # the "[" or "<", or the "/" after it
        closing = lowered[position] == "/"
        position -= closing
        while fence_index < len(fences) and fences[fence_index][1] <= position:
            fence_index += 1
        if fence_index < len(fences) and fences[fence_index][0] <= position:
            continue  # a tag inside a code block is text
        stack = stacks[kind]
        if not closing:
            stack.append(position)
        elif stack:
            spans.append((stack.pop(), match.end()))  # nested spans merge; an unclosed outer one adds none
    return spans


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
