"""The values members paste never outlive the webhooks that carried them.

An end-to-end run over HTTP (the stack of test_end_to_end) with planted values: a card number, a password
in a pasted config block, a US SSN and an API key, in posts, an edit, a topic edit, a whisper, a private
message, a deleted post, a forged webhook and a forum outage. Afterwards the values are searched for in
every text and binary column of every table (and, on SQLite, in the bytes of the database file and its
-wal and -shm files) and in everything that was logged: none may appear. The findings hold masked previews
and fingerprints; the inbox keeps each delivery's ids and body hash, but not the post's text.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import MetaData, select
from sqlalchemy.engine import make_url

from sidecar.config import Config
from sidecar.db.engine import is_sqlite
from sidecar.db.models import Delivery, DeliveryStatus, FindingStatus
from sidecar.jobs import inbox
from sidecar.logs import JsonFormatter
from tests.findings.test_end_to_end import WHISPER, Stack, build_stack
from tests.integration.polling import wait_for
from tests.support import headers_for

CARD = "4012 8888 8888 1881"
PASSWORD = "Hunter2-Wombat!77"
SSN = "536-22-8143"
API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
# Each value as it could be written down: as pasted, and as its digits alone.
PLANTED: dict[str, tuple[str, ...]] = {
    "card": (CARD, CARD.replace(" ", "")),
    "password": (PASSWORD,),
    "ssn": (SSN, SSN.replace("-", "")),
    "api key": (API_KEY,),
}
CONFIG_BLOCK = (
    f"Our reporting database config, in case it helps:\n\n```\n[db]\nhost = db1\npassword = {PASSWORD}\n```\n"
)


class Stacks:
    """Starts stacks (as test_end_to_end does) and stops them all, when asked or at the end."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._stops: list[Callable[[], object]] = []

    def make(self, **changes: Any) -> Stack:
        return build_stack(self._config, self._stops, **changes)

    def stop(self) -> None:
        while self._stops:
            self._stops.pop()()


@pytest.fixture
def stacks(config: Config) -> Iterator[Stacks]:
    started = Stacks(config)
    yield started
    started.stop()


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, at every level, as the app's JSON log handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def planted_in(data: bytes) -> list[str]:
    """The planted values (by name) found in ``data``, in any of the forms they could be written in."""
    return [name for name, forms in PLANTED.items() if any(form.encode() in data for form in forms)]


def search_tables(stack: Stack) -> list[str]:
    """Where the planted values are in the database: ``table.column[row]: value``, every table reflected."""
    metadata = MetaData()
    metadata.reflect(bind=stack.runtime.engine)
    hits: list[str] = []
    with stack.runtime.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for number, row in enumerate(conn.execute(select(table))):
                values = dict(row._mapping)
                # Which row: its id (and, for the inbox, the event) when the table has them.
                where = ", ".join(
                    f"{key}={values[key]}" for key in ("id", "event_name", "event_type") if key in values
                )
                for column, value in values.items():
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    if isinstance(value, str):
                        value = value.encode()
                    if isinstance(value, bytes):
                        hits.extend(
                            f"{table.name}.{column} [{where or number}]: {name}" for name in planted_in(value)
                        )
    return hits


def search_files(database: Path) -> list[str]:
    """Where the planted values are in the SQLite files (the database, its -wal and -shm)."""
    hits = []
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists():
            data = path.read_bytes()
            for name, forms in PLANTED.items():
                for form in forms:
                    at = data.find(form.encode())
                    if at >= 0:
                        context = data[max(0, at - 60) : at].decode("utf-8", "replace")
                        hits.append(f"{path.name} @{at}: {name}, after {context!r}")
    return hits


def search_files_once_idle(database: Path, *, within: float = 10.0) -> list[str]:
    """``search_files`` once the worker has had its idle moment: it folds the log into the database (and
    empties the -wal) when it next finds nothing to do, which may come just after the inbox settled. The
    hits of the last look if the files still hold a value after ``within`` seconds."""
    deadline = time.monotonic() + within
    while (hits := search_files(database)) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the worker thread's progress, not pacing the test
    return hits


def test_planted_values_are_stored_and_logged_nowhere(
    stacks: Stacks, caplog: pytest.LogCaptureFixture, json_log: io.StringIO
) -> None:
    caplog.set_level(logging.DEBUG)
    stack = stacks.make()
    sim = stack.sim

    # A card in a new topic; a password in a config block in a reply.
    card_post = stack.post(
        "ann", f"Our billing contact paid with {CARD}, can someone check?", title="Billing"
    )
    password_post = stack.post("ben", CONFIG_BLOCK, topic_id=card_post.topic_id)
    # An SSN put into a topic's first post by a topic edit (only topic_edited fires).
    topic = stack.post("ann", "Forms for the conference registration", title="Conference forms")
    stack.settle()
    sim.edit_topic_first_post(topic.topic_id, "Conference forms (filled in)", f"My SSN is {SSN} for the form")
    # An API key, read through a forum outage (the read fails once), then edited out.
    sim.faults.fail_next = 1
    key_post = stack.post("ben", f"Try it with api_key = {API_KEY}", topic_id=card_post.topic_id)
    stack.settle()
    stack.edit(key_post.id, "Try it with your own API key (removed mine)", username="ben")
    # A whisper and a private message (both skipped), and a post deleted once reported.
    stack.special_post("mod", f"staff only: the card was {CARD}", WHISPER, card_post.topic_id)
    sim.send_private_message(stack.ids["ann"], ["ben"], "Payment", f"Ben, my card is {CARD}, thanks")
    doomed = stack.post("ann", f"Again: SSN {SSN}, password = {PASSWORD}", topic_id=card_post.topic_id)
    stack.settle()
    sim.delete_post(doomed.id, actor=sim.user(stack.ids["ann"]))
    # A forged webhook carrying a value: refused, its body neither stored nor logged.
    forged = json.dumps(
        {"post": {"id": 999, "topic_id": 1, "post_number": 1, "raw": f"card {CARD}"}}
    ).encode()
    intake = str(sim.webhooks.url)
    headers = headers_for(forged, event="post_created", secret="not-the-secret-at-all")
    assert requests.post(intake, data=forged, headers=headers, timeout=10).status_code == 401
    stack.settle()

    # The run did what it should: the values were found and reported, by masked preview.
    found = {(f.post_id, f.type, f.status, f.preview) for f in stack.findings()}
    assert (card_post.id, "CREDIT_CARD", FindingStatus.OPEN, "**** **** **** 1881") in found
    assert (password_post.id, "PASSWORD", FindingStatus.OPEN, "\u2022\u2022\u2022\u2022") in found
    assert (topic.id, "US_SSN", FindingStatus.OPEN, "***-**-8143") in found
    assert (key_post.id, "API_KEY", FindingStatus.RESOLVED_BY_EDIT, "sk_l\u2022\u2022\u2022\u2022") in found
    assert {f.status for f in stack.findings(doomed.id)} == {FindingStatus.POST_DELETED}
    assert len(stack.warnings("ann")) == 1  # her later posts fell in the same window
    assert len(stack.warnings("ben")) == 1
    deliveries = stack.deliveries()
    assert any(d.attempts >= 2 for d in deliveries)  # the outage was retried through

    # The inbox keeps every delivery's ids and the hash of the body as it arrived, not the post's text.
    sent = {d.event_id: d for d in sim.webhooks.events()}
    assert len(deliveries) >= 15
    for delivery in deliveries:
        original = sent[delivery.event_id]
        assert delivery.event_name == original.event_name
        assert delivery.body_sha256 == hashlib.sha256(original.body).hexdigest()
        if delivery.event_type == "post":
            stored, was = json.loads(delivery.body)["post"], original.payload["post"]
            assert (stored["id"], stored["topic_id"], stored["version"]) == (
                was["id"],
                was["topic_id"],
                was["version"],
            )
            assert (stored["raw"], stored["cooked"]) == (None, None)
            assert delivery.subject == f"post:{was['id']}"

    # Nowhere: in no column of any table (the inbox's other events included), in none of the bytes SQLite
    # keeps on disk (while the sidecar runs, and once it has stopped), in nothing logged by the sidecar
    # or the libraries under it.
    found_in: dict[str, list[str]] = {"tables": search_tables(stack)}
    database = make_url(str(stack.runtime.engine.url)).database
    if is_sqlite(stack.runtime.engine):
        assert database
        found_in["files while running"] = search_files_once_idle(Path(database))
    logged = "\n".join([*(r.getMessage() for r in caplog.records), caplog.text, json_log.getvalue()])
    assert "delivery done" in logged
    assert "handler failed" in logged  # the outage's traceback was logged, and searched
    found_in["logs"] = planted_in(logged.encode())
    stacks.stop()
    if database and is_sqlite(stack.runtime.engine):
        found_in["files once stopped"] = search_files(Path(database))
    problems = {where: hits for where, hits in found_in.items() if hits}
    assert problems == {}, json.dumps(problems, indent=1)


def test_a_delivery_that_went_dead_keeps_no_text_and_an_admin_retry_reads_the_post(stacks: Stacks) -> None:
    stack = stacks.make(max_attempts=2)
    sim = stack.sim
    sim.faults.error_rate = 1.0  # the forum is down for every attempt
    post = stack.post("ann", f"Please charge {CARD} today", title="Urgent payment")

    def dead() -> Delivery | None:
        return next(
            (
                d
                for d in stack.deliveries()
                if d.subject == f"post:{post.id}" and d.status == DeliveryStatus.DEAD
            ),
            None,
        )

    delivery = wait_for(dead, timeout=20.0, what="the delivery to go dead")
    assert delivery is not None
    sent = next(d for d in sim.webhooks.events("post_created") if d.payload["post"]["id"] == post.id)
    assert delivery.body_sha256 == hashlib.sha256(sent.body).hexdigest()
    stored = json.loads(delivery.body)["post"]
    assert (stored["id"], stored["raw"], stored["cooked"]) == (post.id, None, None)
    assert search_tables(stack) == []
    assert stack.findings() == []

    sim.faults.clear()
    with stack.runtime.sessions.begin() as session:
        inbox.retry(session, delivery.id, stack.runtime.clock.now())
    stack.settle()
    [row] = stack.findings()
    assert (row.post_id, row.type, row.status) == (post.id, "CREDIT_CARD", FindingStatus.OPEN)
    assert len(stack.warnings("ann")) == 1
    assert len(stack.flags(post.id)) == 1
    [again] = [d for d in stack.deliveries() if d.subject == f"post:{post.id}"]
    assert again.status == DeliveryStatus.DONE
    assert json.loads(again.body)["post"]["raw"] is None
