"""Which lines of a post each whole-post pattern needs to run on, found in one pass of a multi-pattern engine.

A detector's own pattern, run by Python's ``re`` over a 100 kB log, tries a match at every digit or at every
occurrence of its first character: four digit-led patterns alone cost about 9 ms on such a post. Hyperscan
runs every *locator* at once, in one pass at memory speed, and reports, for each locator, the lines where it
matched. The detector then runs its pattern over those lines only.

A locator is a Hyperscan expression that matches, inside one line, wherever its pattern can find something
the detector keeps: the pattern with its lookarounds turned into the characters they look at (or dropped),
its upper bounds dropped, and sometimes the detector's later checks folded in (a phone number has at least
ten digits). It may match more, never less. Running the pattern over whole lines gives the same matches as
over the whole post, because none of these patterns crosses a line break and none of their lookaheads
tells a line break from the end of the text; lookbehinds see the text before the line as usual. So the
findings are the same with or without the prefilter; a test compares the two over the corpora.

Hyperscan reads bytes: each character of the post becomes one byte, so offsets stay character offsets. A
non-ASCII character becomes ``?``, except those Python's patterns take for ASCII ones: a decimal digit
(``\\d`` matches any) becomes ``0``, and the four letters that case-fold to ASCII (U+0130, U+0131, U+017F,
U+212A) become that letter.
Where Hyperscan is not installed or does not run on this CPU, every pattern runs over the whole post.
"""

from __future__ import annotations

import bisect
import codecs
import functools
import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence

from sidecar.scanner.text import lower

log = logging.getLogger(__name__)

Span = tuple[int, int]

# The characters Python's case-insensitive matching takes for ASCII letters.
_FOLDS = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}


def _as_ascii(error: UnicodeError) -> tuple[str, int]:
    """The ``encode`` error handler of the locators: one ASCII character for each other one, "0" for a
    decimal digit (Python's ``\\d`` matches it), the ASCII letter for one that case-folds to it, else "?"."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    run = error.object[error.start : error.end]
    return "".join("0" if c.isdecimal() else _FOLDS.get(c, "?") for c in run), error.end


codecs.register_error("mug-sidecar-locators", _as_ascii)


class Lines:
    """For one post: the lines (start, end) where each locator matched, and where each word starts; both
    everywhere (the whole post, every ``str.find``) when not known."""

    __slots__ = ("_found", "_looked_for", "_starts")

    def __init__(
        self,
        found: Mapping[str, Sequence[Span]] | None = None,
        starts: Mapping[str, list[int]] | None = None,
        looked_for: frozenset[str] = frozenset(),
    ) -> None:
        """``starts``: where each word of ``looked_for`` that the post holds starts (the others it lacks)."""
        self._found = found
        self._starts = starts or {}
        self._looked_for = looked_for

    def finditer(self, name: str, pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
        """``pattern.finditer(text)``, run only over the lines where locator ``name`` matched."""
        if self._found is None:
            yield from pattern.finditer(text)
            return
        for start, end in self._found.get(name, ()):
            yield from pattern.finditer(text, start, end)

    def hits(self, lowered: str, words: Sequence[str]) -> list[int]:
        """Every position where one of ``words`` starts in ``lowered`` (the post lowercased), sorted."""
        found: list[int] = []
        for word in words:
            if word in self._looked_for:
                found.extend(self._starts.get(word, ()))
                continue
            at = lowered.find(word)  # C speed, no regex pass
            while at >= 0:
                found.append(at)
                at = lowered.find(word, at + 1)
        found.sort()
        return found

    def near(self, name: str, start: int, end: int) -> bool:
        """Whether a line where locator ``name`` matched overlaps ``start..end`` (always, when not known)."""
        if self._found is None:
            return True
        spans = self._found.get(name, ())
        at = bisect.bisect_right(spans, (end,))  # the lines starting before end...
        return at > 0 and spans[at - 1][1] >= start  # ...the last of which ends at or after start


EVERYWHERE = Lines()


class Prefilter:
    """The compiled locators; ``lines(text)`` is safe to call from several threads at once."""

    def __init__(self, locators: Mapping[str, Sequence[str]], words: Sequence[str] = ()) -> None:
        import hyperscan

        self._names = [name for name, expressions in locators.items() for _ in expressions]
        self._words = list(words)
        self._looked_for = frozenset(words)
        expressions = [
            # ...then the rest of the line, so that each match ends at the line's end: one report per line
            (expression if expression.endswith("$") else f"{expression}[^\\n]*$").encode("ascii")
            for alternatives in locators.values()
            for expression in alternatives
        ]
        expressions += [re.escape(word).encode("ascii") for word in self._words]
        flags = [hyperscan.HS_FLAG_MULTILINE] * len(self._names) + [hyperscan.HS_FLAG_CASELESS] * len(words)
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions), flags=flags
        )
        self._hyperscan = hyperscan
        self._local = threading.local()

    def lines(self, text: str) -> Lines:
        data = text.encode("ascii", "mug-sidecar-locators")
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hyperscan.Scratch(self._database)
        ends: dict[int, list[int]] = {}  # by expression: where its matches end

        def found(expression: int, _start: int, end: int, _flags: int, _context: object) -> None:
            at = ends.get(expression)
            if at is None:
                ends[expression] = [end]
            else:
                at.append(end)

        self._database.scan(data, match_event_handler=found, scratch=scratch)
        lines: dict[str, set[int]] = {}
        starts: dict[str, list[int]] = {}
        locators = len(self._names)  # the locators' expressions come first, then the words'
        for expression, at in ends.items():
            if expression < locators:
                lines.setdefault(self._names[expression], set()).update(at)
            else:
                word = self._words[expression - locators]
                starts[word] = [end - len(word) for end in at]
        if starts and not text.isascii():
            # "?" and the ASCII stand-ins may make a word where the lowered post has none: keep the true ones.
            lowered = lower(text)
            starts = {word: [i for i in at if lowered.startswith(word, i)] for word, at in starts.items()}
        return Lines(
            {name: [(text.rfind("\n", 0, end) + 1, end) for end in sorted(at)] for name, at in lines.items()},
            starts,
            self._looked_for,
        )


@functools.cache
def compiled(
    locators: tuple[tuple[str, tuple[str, ...]], ...], words: tuple[str, ...] = ()
) -> Prefilter | None:
    """The prefilter for these locators, built once per process; None where Hyperscan is not installed or
    cannot run. A locator Hyperscan cannot compile is a bug: it raises."""
    try:
        import hyperscan
    except ImportError:
        log.info("hyperscan is not installed: the scanner runs every pattern over the whole post")
        return None
    try:
        return Prefilter(dict(locators), words)
    except hyperscan.CompilerError:
        raise
    except hyperscan.error as exc:  # a CPU it does not support, a platform mismatch
        log.warning("hyperscan cannot run here (%s): the scanner runs every pattern over the whole post", exc)
        return None
