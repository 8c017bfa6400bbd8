"""Engines and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import ColumnElement, Engine, Insert, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
_HOLDS_LOCK = "mug_sqlite_write_lock"
_READ_ONLY = "mug_read_only"  # execution option: a transaction that only reads (see ``reading``)


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine set up for several threads of one process (SQLite) or many hosts (PostgreSQL)."""
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)

    database = make_url(url).database
    if _is_file(database):
        Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Removed text (post bodies scrubbed after scanning) must not linger in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    # SQLite has one writer. Left to its busy handler, waiting threads poll in sleeps of up to 100 ms and
    # are served in no order (measured: p99 of 340 ms under 8 threads); queueing them on a lock in this
    # process first serves them in turn, and a lock file queues the processes that share the database
    # (`serve --no-worker` beside `worker`) the same way. The timeout falls back to the busy handler, never
    # to a deadlock.
    write_lock = threading.Lock()
    between_processes = WriterLockFile(Path(f"{database}-writer")) if _is_file(database) else None

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_READ_ONLY):
            # A reader: in WAL mode it neither waits for the writer nor holds it up.
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        acquired = write_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        connection.info[_HOLDS_LOCK] = acquired
        try:
            if acquired and between_processes is not None:
                between_processes.acquire()
            # Take SQLite's write lock up front: a deferred transaction that later writes fails with
            # SQLITE_BUSY instead of waiting when another connection committed in between.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection.info)
            raise

    def _release(info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_LOCK, False):
            if between_processes is not None:
                between_processes.release()
            write_lock.release()

    event.listen(engine, "commit", lambda connection: _release(connection.info))
    event.listen(engine, "rollback", lambda connection: _release(connection.info))
    # A connection handed back to the pool mid-transaction is rolled back by the pool, not by a Connection.
    event.listen(engine, "reset", lambda _dbapi, record, _state: _release(record.info))

    return engine


def shared_with_other_processes(engine: Engine) -> bool:
    """Whether another process opening this engine's URL sees the same database (not SQLite in memory)."""
    return engine.dialect.name != "sqlite" or _is_file(engine.url.database)


def _is_file(database: str | None) -> bool:
    """A database in a file of its own path (not in memory, not a ``file:`` URI)."""
    return database is not None and database not in ("", ":memory:") and not database.startswith("file:")


class WriterLockFile:
    """The write lock between processes: an exclusive ``flock`` on a file beside the database, held for
    the length of a write transaction. A waiting process sleeps in the kernel and wakes the moment the lock
    is let go (SQLite's busy handler would poll it in sleeps of up to 100 ms); a process that dies lets it
    go with its files. Threads of one process queue on their own lock first: one thread of a process holds
    this at a time. Without ``fcntl`` (Windows) it does nothing, and the busy handler decides alone."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._usable = fcntl is not None

    def acquire(self) -> None:
        if not self._usable:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            # A directory the sidecar may not write to: SQLite's busy handler still keeps writers apart.
            log.warning("cannot open the writer lock file %s (%s): writers poll instead", self.path, exc)
            self._usable = False
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # which lets the lock go


def truncate_wal(engine: Engine) -> bool:
    """SQLite: copy the write-ahead log into the database file and empty it.

    ``secure_delete`` overwrites removed content in the database file, but the log keeps the frames written
    before (post bodies scrubbed after scanning included) until they are checkpointed over. An idle worker
    calls this after it has scrubbed something. A busy database is left alone: the next idle moment retries.
    True when done (always on PostgreSQL, where there is nothing to do); False when SQLite was busy.
    """
    if not is_sqlite(engine):
        return True
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # Never wait: with other connections reading or writing, TRUNCATE would sit in the busy handler
        # (other workers, a shutdown waiting for this one); busy, it returns at once and the next idle
        # moment tries again.
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            busy, _log, _checkpointed = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()
    finally:
        raw.close()
    return not busy


def _dialect_insert(dialect_name: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The backend's own ``INSERT``, the one that knows ``ON CONFLICT``."""
    return postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)


def insert_or_ignore(dialect_name: str, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` on either backend: a duplicate key is an answer, not an error."""
    return _dialect_insert(dialect_name, table).on_conflict_do_nothing()


def upsert(
    dialect_name: str,
    table: Table,
    keys: Sequence[str],
    updates: Sequence[str],
    where: ColumnElement[bool] | None = None,
) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` setting ``updates`` to the new row's values, on either
    backend: one statement instead of a read, then an insert or an update. With ``where``, a row already
    there is changed only where it holds (with ``RETURNING``, no row back means it did not)."""
    statement = _dialect_insert(dialect_name, table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in updates}, where=where
    )


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session that only reads. On SQLite it starts a deferred transaction instead of taking the write
    lock, so it never queues behind the intake's and the worker's writes (a write in it would fail as
    busy instead of waiting: use ``sessions.begin()`` for that). On PostgreSQL it is a plain session."""
    with sessions() as session:
        session.connection(execution_options={_READ_ONLY: True})
        yield session
