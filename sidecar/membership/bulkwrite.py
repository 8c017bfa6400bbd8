"""Writing many rows at once: SQLAlchemy compiles each statement once, the driver's executemany runs it.

Core's executemany builds a parameter dictionary and runs every type's bind processor for every row; at
100,000 members that costs more than the database's own work (measured on SQLite: about 40% of an import).
Here SQLAlchemy still writes the SQL for the dialect, the column types still decide how a value is stored
(``ready_date`` and ``ready_time`` are their bind processors), but rows travel as plain tuples, prepared
once, straight to the driver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, delete, insert, update
from sqlalchemy.sql.compiler import SQLCompiler

BATCH = 5000  # rows per executemany: bounded memory, few statements

T = TypeVar("T")


def batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class BulkWriter:
    """Inserts, updates and deletes by key on one connection, in the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def ready_date(self, table: Table, column: str) -> Callable[[date | None], Any]:
        """How a date of ``table.column`` is handed to the driver (a string on SQLite, itself elsewhere)."""
        processor = table.c[column].type.bind_processor(self._conn.dialect)
        return processor if processor is not None else _unchanged

    def ready_time(self, table: Table, column: str, value: datetime) -> Any:
        """A time of ``table.column`` as the driver takes it (one value: a whole import has one ``now``)."""
        processor = table.c[column].type.bind_processor(self._conn.dialect)
        return processor(value) if processor is not None else value

    def insert(self, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert ``rows``, tuples of driver-ready values in ``columns`` order; returns how many."""
        compiled = insert(table).compile(dialect=self._conn.dialect, column_keys=list(columns))
        shape = _shaper(compiled, columns)
        count = 0
        for chunk in batches(rows):
            self._conn.exec_driver_sql(compiled.string, [shape(row) for row in chunk])
            count += len(chunk)
        return count

    def update(self, table: Table, key: str, rows: Iterable[dict[str, Any]]) -> None:
        """Update by ``key`` through Core (type processing included): changes are few next to inserts."""
        # The key travels as "_key": a bound parameter named like a column is reserved for its SET clause.
        statement = update(table).where(table.c[key] == bindparam("_key"))
        for chunk in batches(rows):
            self._conn.execute(statement, [_keyed(row, key) for row in chunk])

    def delete_where_in(self, table: Table, column: str, values: Iterable[Any]) -> None:
        for chunk in batches(values):
            self._conn.execute(delete(table).where(table.c[column].in_(chunk)))


def _unchanged(value: date | None) -> date | None:
    return value


def _shaper(compiled: Any, columns: Sequence[str]) -> Callable[[tuple[Any, ...]], Any]:
    """Rows as the compiled statement's parameters: tuples in bind order (qmark) or dicts (pyformat)."""
    assert isinstance(compiled, SQLCompiler)
    if not compiled.positional:
        names = tuple(columns)
        return lambda row: dict(zip(names, row, strict=True))
    order = [columns.index(name) for name in compiled.positiontup or ()]
    if order == list(range(len(columns))):
        return _same
    return lambda row: tuple(row[i] for i in order)


def _same(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return row


def _keyed(row: dict[str, Any], key: str) -> dict[str, Any]:
    keyed = {k: v for k, v in row.items() if k != key}
    keyed["_key"] = row[key]
    return keyed
