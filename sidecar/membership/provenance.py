"""Where a record came from, and what was wrong with it, so every problem can be shown at its line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")

# Origin and Located are named tuples, not frozen dataclasses: an import makes two per row, and a tuple is
# built several times faster, which shows at 100,000 rows.


class Origin(NamedTuple):
    """A place in a source: a file and the line its row starts on (1 is the header of a CSV file)."""

    source: str
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line}"


class Located(NamedTuple, Generic[T]):
    record: T
    origin: Origin


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a row (or a whole source, at line 0) cannot be imported; ``column`` None is the row as a whole."""

    source: str
    line: int
    column: str | None
    reason: str

    @classmethod
    def at(cls, origin: Origin, column: str | None, reason: str) -> Problem:
        return cls(origin.source, origin.line, column, reason)

    def __str__(self) -> str:
        place = self.source if self.line == 0 else f"{self.source}:{self.line}"
        return f"{place}: {self.column}: {self.reason}" if self.column else f"{place}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.source, "line": self.line, "column": self.column, "reason": self.reason}
