"""Webhook emission as Discourse does it (dc: app/jobs/regular/emit_web_hook_event.rb).

Every event is serialized when it is emitted (a snapshot, as Discourse's payloads are), wrapped as
``{"<type>": {...}}`` in compact JSON, and given headers ``Content-Type``, ``X-Discourse-Instance``,
``X-Discourse-Event-Id`` (a new integer per delivery attempt), ``X-Discourse-Event-Type``,
``X-Discourse-Event``, ``User-Agent: Discourse/<version>...`` and, when a secret is set,
``X-Discourse-Event-Signature: sha256=<hex HMAC of the body>``.

Two ways out:

- the outbox: ``pending()`` lists deliveries ready to go, ``deliver_all(send)`` hands each to
  ``send(url, headers, body) -> status`` (a Flask test client, a recorder...) and records the status;
- HTTP: ``start()`` runs a thread that POSTs each delivery with ``requests`` (20 s timeout, no retry, as
  Discourse) and records each attempt; ``flush(timeout)`` waits until the outbox is empty.

Faults (``faults``, see WebhookFaults) are drawn from a seeded ``random.Random`` per emitted event.

The hook is "Send me everything" unless ``configure(events=...)`` names the events it subscribes to
(Discourse's "Select individual events"); an event outside them is neither serialized nor sent, as Discourse
checks for a subscribed hook before it builds the payload. Subscriptions go by the subscription's name,
which for a few events is not the header's (``group_user_added`` sends ``user_added_to_group``, FACTS.md §1).
The ping goes to every hook.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from sidecar.clock import Clock
from sidecar.forum.simulator.faults import WebhookFaults
from webhooks.signature import sign

log = logging.getLogger(__name__)

DISCOURSE_VERSION = "2025.12.0-latest"
TIMEOUT_SECONDS = 20.0  # Discourse's open/read/write timeout for a delivery

Send = Callable[[str, dict[str, str], bytes], int]


# Header names whose subscription has another name. A topic's status updates go out under topic_edited.
_SUBSCRIPTION = {
    "user_added_to_group": "group_user_added",
    "user_removed_from_group": "group_user_removed",
    "reviewable_score_updated": "reviewable_updated",
    "reviewable_transitioned_to": "reviewable_updated",
}


def subscription_of(event_name: str) -> str:
    """The event a hook must subscribe to for a delivery whose ``X-Discourse-Event`` is ``event_name``."""
    if event_name.startswith("topic_") and event_name.endswith("_status_updated"):
        return "topic_edited"
    return _SUBSCRIPTION.get(event_name, event_name)


def encode(document: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as Discourse's ``MultiJson.dump`` writes bodies (non-ASCII kept as is)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Attempt:
    at: datetime
    status: int | None  # None when the request failed before any answer
    error: str | None = None


@dataclass
class Delivery:
    """One delivery attempt Discourse makes: its own event id, the body, the headers, what came back."""

    event_id: int
    event_name: str
    event_type: str
    url: str | None
    headers: dict[str, str]
    body: bytes
    created_at: datetime
    fault: str | None = None  # "duplicate", "retry", "delayed", "reordered" when a fault made it
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def payload(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


class WebhookEmitter:
    """Collects events into deliveries, applies faults, and hands them out (outbox or HTTP)."""

    def __init__(
        self,
        *,
        clock: Clock,
        instance: str,
        url: str | None = None,
        secret: str | None = None,
        version: str = DISCOURSE_VERSION,
        content_type: str = "application/json",
        rng_seed: int = 0,
    ) -> None:
        self.clock = clock
        self.instance = instance
        self.url = url
        self.secret = secret
        self.version = version
        self.content_type = content_type
        self.faults = WebhookFaults()
        self.enabled = True
        self.subscribed: frozenset[str] | None = None  # None: every event ("Send me everything")
        self._rng = random.Random(rng_seed)  # noqa: S311 -- fault draws must be reproducible, not secret
        self._lock = threading.Condition()
        self._next_id = 1
        self._outbox: deque[Delivery] = deque()
        self._held: list[Delivery] = []
        self._swap: list[Delivery] = []
        self._inflight = 0
        self.history: list[Delivery] = []  # every delivery ever queued, in queueing order
        self.dropped: list[Delivery] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._session: requests.Session | None = None

    # --- configuration --------------------------------------------------------------------------------

    def configure(
        self,
        *,
        url: str | None = None,
        secret: str | None = None,
        events: Iterable[str] | None = None,
        every_event: bool = False,
    ) -> None:
        """Set the payload URL, the secret, and the events subscribed to (``every_event``: all of them)."""
        with self._lock:
            if url is not None:
                self.url = url
            if secret is not None:
                self.secret = secret
            if every_event:
                self.subscribed = None
            elif events is not None:
                self.subscribed = frozenset(events)

    def wants(self, event_name: str) -> bool:
        """Whether the hook is subscribed to ``event_name`` (a header name): if not, nothing is built."""
        subscribed = self.subscribed
        if event_name == "ping":
            return True  # the admin's "Ping" button goes to every hook
        return self.enabled and (subscribed is None or subscription_of(event_name) in subscribed)

    def seed(self, value: int) -> None:
        with self._lock:
            self._rng.seed(value)

    @contextmanager
    def suppressed(self) -> Iterator[None]:
        """Emit nothing inside the block (used while loading a seed: the forum's initial state)."""
        with self._lock:
            previous, self.enabled = self.enabled, False
        try:
            yield
        finally:
            with self._lock:
                self.enabled = previous

    # --- emission -------------------------------------------------------------------------------------

    def emit(self, event_name: str, event_type: str, document: Mapping[str, Any]) -> list[Delivery]:
        """Queue ``document`` (the whole body, e.g. ``{"user": {...}}``); returns what was queued now.
        Nothing when the hook is not subscribed to the event."""
        if not self.wants(event_name):
            return []
        body = encode(document)
        with self._lock:
            if not self.enabled:
                return []
            earlier_swapped, self._swap = self._swap, []
            first = self._new_delivery(event_name, event_type, body)
            if self._roll(self.faults.drop):
                self.dropped.append(first)
                self._queue(earlier_swapped)
                return []
            out = [first]
            if self._roll(self.faults.duplicate):
                twin = copy.deepcopy(first)
                twin.fault = "duplicate"
                out.append(twin)
            if self._roll(self.faults.retry):
                out.append(self._new_delivery(event_name, event_type, body, fault="retry"))
            now_out: list[Delivery] = []
            for delivery in out:
                if self._roll(self.faults.delay):
                    delivery.fault = delivery.fault or "delayed"
                    self._held.append(delivery)
                elif self._roll(self.faults.reorder):
                    delivery.fault = delivery.fault or "reordered"
                    self._swap.append(delivery)
                else:
                    now_out.append(delivery)
            self._queue(now_out)
            self._queue(earlier_swapped)  # an earlier reordered event now arrives after this one
            return now_out

    def ping(self) -> list[Delivery]:
        return self.emit("ping", "ping", {"ping": "OK"})

    def redeliver(self, event_id: int) -> Delivery:
        """Discourse's manual "Redeliver": the stored headers and body again, same event id."""
        with self._lock:
            for delivery in self.history:
                if delivery.event_id == event_id:
                    again = Delivery(
                        event_id=delivery.event_id,
                        event_name=delivery.event_name,
                        event_type=delivery.event_type,
                        url=self.url,
                        headers=dict(delivery.headers),
                        body=delivery.body,
                        created_at=self.clock.now(),
                        fault="redelivered",
                    )
                    self._queue([again])
                    return again
        raise KeyError(f"no delivery with event id {event_id}")

    def _roll(self, probability: float) -> bool:
        return probability > 0 and self._rng.random() < probability

    def _new_delivery(self, name: str, event_type: str, body: bytes, fault: str | None = None) -> Delivery:
        event_id = self._next_id
        self._next_id += 1
        headers = {
            "Content-Type": self.content_type,
            "X-Discourse-Instance": self.instance,
            "X-Discourse-Event-Id": str(event_id),
            "X-Discourse-Event-Type": event_type,
            "X-Discourse-Event": name,
            "User-Agent": f"Discourse/{self.version}; +https://www.discourse.org/",
        }
        if self.secret:
            headers["X-Discourse-Event-Signature"] = sign(self.secret.encode(), body)
        return Delivery(
            event_id=event_id,
            event_name=name,
            event_type=event_type,
            url=self.url,
            headers=headers,
            body=body,
            created_at=self.clock.now(),
            fault=fault,
        )

    def _queue(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self._outbox.append(delivery)
            self.history.append(delivery)
        if deliveries:
            self._lock.notify_all()

    # --- faults held back -----------------------------------------------------------------------------

    def held(self) -> list[Delivery]:
        with self._lock:
            return list(self._held)

    def release_held(self) -> list[Delivery]:
        """Send the delayed deliveries now (they arrive after everything emitted since)."""
        with self._lock:
            released, self._held = self._held, []
            self._queue(released)
            return released

    def release_reordered(self) -> list[Delivery]:
        """Send a reordered delivery still waiting for a next event."""
        with self._lock:
            released, self._swap = self._swap, []
            self._queue(released)
            return released

    # --- the outbox -----------------------------------------------------------------------------------

    def pending(self) -> list[Delivery]:
        with self._lock:
            return list(self._outbox)

    def clear(self) -> None:
        """Forget queued, held and past deliveries (the event id counter keeps counting)."""
        with self._lock:
            self._outbox.clear()
            self._held.clear()
            self._swap.clear()
            self.history.clear()
            self.dropped.clear()

    def events(self, name: str | None = None) -> list[Delivery]:
        """Queued and past deliveries, optionally of one event name."""
        with self._lock:
            return [d for d in self.history if name is None or d.event_name == name]

    def deliver_next(self, send: Send) -> Delivery | None:
        with self._lock:
            if not self._outbox:
                return None
            delivery = self._outbox.popleft()
            self._inflight += 1
        try:
            url = delivery.url or self.url or ""
            self._attempt(delivery, lambda: send(url, dict(delivery.headers), delivery.body))
        finally:
            with self._lock:
                self._inflight -= 1
                self._lock.notify_all()
        return delivery

    def deliver_all(self, send: Send) -> list[Delivery]:
        """Hand every pending delivery to ``send`` in order; returns them with their attempts recorded."""
        done: list[Delivery] = []
        while (delivery := self.deliver_next(send)) is not None:
            done.append(delivery)
        return done

    def _attempt(self, delivery: Delivery, call: Callable[[], int]) -> None:
        try:
            status: int | None = call()
            error = None
        except Exception as exc:  # noqa: BLE001 -- a failed delivery is recorded, as Discourse records it
            status, error = None, f"{type(exc).__name__}: {exc}"
        delivery.attempts.append(Attempt(at=self.clock.now(), status=status, error=error))

    # --- HTTP delivery --------------------------------------------------------------------------------

    def start(self) -> None:
        """Deliver over HTTP from a background thread (requires ``url``)."""
        with self._lock:
            if self._thread is not None:
                return
            if not self.url:
                raise ValueError("webhook delivery over HTTP needs a webhook URL")
            self._stopping = False
            self._session = requests.Session()
            self._thread = threading.Thread(target=self._run, name="simulator-webhooks", daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._lock.notify_all()
        if thread is not None:
            thread.join(timeout)
        if self._session is not None:
            self._session.close()
            self._session = None

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or in flight; False if the deadline passed first."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._outbox and self._inflight == 0, timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._stopping or bool(self._outbox))
                if self._stopping:
                    return
            self.deliver_next(self._post)

    def _post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        session = self._session or requests.Session()
        response = session.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
        return response.status_code
