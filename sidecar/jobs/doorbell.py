"""The intake's word to ``serve``'s own worker that a delivery is waiting.

An idle worker looks for work every ``worker.poll_seconds`` (1 s by default). ``mug-sidecar serve`` starts
its worker itself (in a child process, or as a thread), so the intake rings this bell after each delivery it
commits and the worker waits on it instead of sleeping out its interval: a post's warning follows its webhook
at once, not up to a second later. Workers started on their own (``mug-sidecar worker``) hear nothing and
poll as before.

No ring is lost: the bell stays rung until the worker has waited on it, and the worker looks for work after
every wait, so a delivery committed before its ring is found whether the ring came before or during the
wait.

Between processes the bell is a pipe, handed to the child when it starts: a ring writes a byte (never
blocking: a full pipe is a bell already rung), a wait reads them all. Not a ``multiprocessing.Event``: its
lock is a semaphore the two processes share, and a child killed while holding it would leave every ring of
the web app's request threads blocked for good.
"""

from __future__ import annotations

import os
import select
import threading
from contextlib import suppress
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext


class Doorbell:
    """A bell for the threads of one process (``across_processes`` for a child's)."""

    def __init__(self) -> None:
        self._rung = threading.Event()

    @classmethod
    def across_processes(cls, context: BaseContext) -> Doorbell:
        return PipeDoorbell(*context.Pipe(duplex=False))

    def ring(self) -> None:
        self._rung.set()

    def wait(self, timeout: float) -> bool:
        """Wait until rung (at once if rung since the last wait) or ``timeout``; whether it was rung."""
        rung = self._rung.wait(timeout)
        self._rung.clear()
        return rung


class PipeDoorbell(Doorbell):
    """The bell on a pipe: rung in one process, waited on in another (both ends travel to a spawned child)."""

    def __init__(self, reader: Connection, writer: Connection) -> None:
        self._reader = reader
        self._writer = writer
        for end in (reader, writer):
            os.set_blocking(end.fileno(), False)

    def ring(self) -> None:
        with suppress(BlockingIOError):  # a pipe full of rings nobody has heard yet is rung
            os.write(self._writer.fileno(), b"\0")

    def wait(self, timeout: float) -> bool:
        fd = self._reader.fileno()
        readable, _, _ = select.select([fd], [], [], timeout)
        if not readable:
            return False
        with suppress(BlockingIOError):  # read until none is left
            while os.read(fd, 4096):  # every ring so far: one wait answers them all
                pass
        return True

    def __getstate__(self) -> tuple[Connection, Connection]:
        return self._reader, self._writer  # sent to a spawned child only (multiprocessing passes the ends)

    def __setstate__(self, ends: tuple[Connection, Connection]) -> None:
        self.__init__(*ends)  # type: ignore[misc]
