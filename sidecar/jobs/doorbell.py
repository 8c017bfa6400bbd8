"""The intake's word to the worker of its own process that a delivery is waiting.

An idle worker looks for work every ``worker.poll_seconds`` (1 s by default). In ``mug-sidecar serve`` the
intake and the worker share a process, so the intake rings this bell after each delivery it commits and the
worker waits on it instead of sleeping out its interval: a post's warning follows its webhook at once, not up
to a second later. Workers in other processes (``mug-sidecar worker``) hear nothing and poll as before.

No ring is lost: the bell stays rung until the worker has waited on it, and the worker looks for work after
every wait, so a delivery committed before its ring is found whether the ring came before or during the
wait.
"""

from __future__ import annotations

import threading


class Doorbell:
    def __init__(self) -> None:
        self._rung = threading.Event()

    def ring(self) -> None:
        self._rung.set()

    def wait(self, timeout: float) -> bool:
        """Wait until rung (at once if rung since the last wait) or ``timeout``; whether it was rung."""
        rung = self._rung.wait(timeout)
        self._rung.clear()
        return rung
