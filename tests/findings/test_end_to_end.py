"""Findings end to end over HTTP: the simulated forum sends its post and topic webhooks to the sidecar's
intake, the sidecar's worker (in a thread, built as ``make_worker`` builds it) scans the posts and acts on
the forum through the adapter, and both sides are checked afterwards.

What the author, the moderators and the queue get for each kind of post; what duplicated, re-sent,
reordered and delayed webhooks, edit storms and a forum outage change (nothing: the same state, every
action once); and what it costs (the simulator counts every API request). Real time throughout (the
worker's retry delays are shrunk); every wait polls with a deadline.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from stdnum import luhn
from werkzeug.serving import make_server

from sidecar.app import create_app
from sidecar.config import Config
from sidecar.db.models import (
    AuthorNotice,
    Delivery,
    DeliveryStatus,
    FindingAllowance,
    FindingStatus,
    PostFinding,
    PostScan,
)
from sidecar.findings.queue import FindingsQueue
from sidecar.forum.factory import build_forum
from sidecar.forum.port import ForumClient
from sidecar.forum.simulator import DiscourseSimulator, RunningSimulator, start_background
from sidecar.forum.simulator.json_posts import webhook_post
from sidecar.forum.simulator.records import ApiRequest, Archetype, Flag, Post
from sidecar.jobs.worker import Worker
from sidecar.runtime import Runtime, build_runtime
from tests.findings.conftest import audit_of
from tests.forum.conftest import API_KEY
from tests.integration.polling import retry_every_delivery, settle, wait_for
from tests.registration.conftest import forum_actions
from tests.support import SECRET
from webhooks.dispatch import make_processor
from webhooks.handlers import build_registry

TIMEOUT = 20.0
NOTIFY_MODERATORS = 7
WHISPER, SMALL_ACTION = 4, 3

CARD = "4012 8888 8888 1881"
CARD_PREVIEW = "**** **** **** 1881"
SSN = "536-22-8143"
SSN_PREVIEW = "***-**-8143"
PHONE = "613-722-4410"
CLEAN = (
    "Upgraded the MiVB to 9.1.0.15, ext 4410 rings the 6930 at MAC 00:08:5D:12:34:56; "
    "sip:1001@pbx.example.com From: <sip:+16135550123@pbx.example.com>;tag=4111111111111111"
)


def card(n: int) -> str:
    """A distinct valid (Luhn) Visa number, written in groups of four."""
    digits = f"400000{n:09d}"
    digits += luhn.calc_check_digit(digits)
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


def phone(n: int) -> str:
    return f"613-722-{4400 + n}"


@dataclass
class Stack:
    """The simulated forum and the sidecar (intake served, worker running), wired to each other."""

    runtime: Runtime
    settings: Config
    sim: DiscourseSimulator
    running: RunningSimulator
    forum: ForumClient
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def api_username(self) -> str:
        return self.settings.forum.api_username

    # --- the forum's side

    def user(self, username: str, **fields: Any) -> int:
        """A forum account made by an admin, without a webhook (the sign-up flow is not under test)."""
        self.ids[username] = self.sim.create_user(username, f"{username}@acme.test", emit=False, **fields).id
        return self.ids[username]

    def post(self, username: str, raw: str, *, topic_id: int | None = None, title: str | None = None) -> Post:
        return self.sim.write_post(self.ids[username], raw, topic_id=topic_id, title=title)

    def edit(self, post_id: int, raw: str, username: str = "ann") -> Post:
        return self.sim.edit_post(post_id, raw, actor=self.sim.user(self.ids[username]))

    def special_post(self, username: str, raw: str, post_type: int, topic_id: int) -> Post:
        """A whisper or a small action: Discourse makes these; the simulator's scripting API writes regular
        posts, so the post is made quietly, given its type, and announced as Discourse would."""
        sim = self.sim
        with sim.lock:
            with sim.webhooks.suppressed():
                post = sim.write_post(self.ids[username], raw, topic_id=topic_id)
                post.post_type = post_type
            sim.webhooks.emit("post_created", "post", {"post": webhook_post(sim, post)})
        return post

    def request_count(self) -> int:
        with self.sim.lock:
            return len(self.sim.requests)

    def requests_since(self, count: int) -> list[tuple[str, str, int]]:
        with self.sim.lock:
            return [(r.method, r.path, r.status) for r in self.sim.requests[count:]]

    def warnings(self, username: str) -> list[tuple[str, str]]:
        """(title, text) of the private messages the sidecar's API user sent ``username``, oldest first."""
        with self.sim.lock:
            return [
                (t.title, self.sim.first_post(t.id).raw)
                for t in self.sim.private_messages(to=username, sent_by=self.api_username)
            ]

    def flags(self, post_id: int) -> list[Flag]:
        return [f for f in self.sim.flags_on(post_id) if f.deleted_at is None]

    def posts_by(self, username: str) -> list[Post]:
        with self.sim.lock:
            author = self.sim.find_user(username=username)
            assert author is not None
            return [p for p in self.sim.posts.values() if p.user_id == author.id]

    # --- the sidecar's side

    def settle(self) -> None:
        """Nothing queued on the forum's side, nothing unfinished in the inbox, and it stays so."""
        settle(self.runtime, self.sim, timeout=TIMEOUT)

    def deliveries(self) -> list[Delivery]:
        with self.runtime.sessions() as session:
            return list(session.execute(select(Delivery).order_by(Delivery.id)).scalars())

    def findings(self, post_id: int | None = None) -> list[PostFinding]:
        with self.runtime.sessions() as session:
            query = select(PostFinding).order_by(PostFinding.id)
            if post_id is not None:
                query = query.where(PostFinding.post_id == post_id)
            rows = list(session.execute(query).scalars())
            for row in rows:
                session.expunge(row)
            return rows

    def scans(self, post_id: int) -> list[tuple[int, str, int, bool]]:
        """(version, status, findings, pm_sent) of the post's scanned versions."""
        with self.runtime.sessions() as session:
            rows = session.execute(
                select(PostScan.version, PostScan.status, PostScan.findings, PostScan.pm_sent)
                .where(PostScan.post_id == post_id)
                .order_by(PostScan.version)
            ).all()
        return [(v, s, n, bool(p)) for v, s, n, p in rows]

    def queue(self) -> FindingsQueue:
        return FindingsQueue(sessions=self.runtime.sessions, clock=self.runtime.clock, forum=self.forum)

    def post_state(self, post_id: int) -> dict[str, Any]:
        """Everything both sides hold about a post, in a form two runs can be compared in."""
        return {
            "findings": sorted(
                (f.type, f.status, f.first_version, f.last_version, f.notified_at is not None)
                for f in self.findings(post_id)
            ),
            "scans": self.scans(post_id),
            "flags": [(f.post_action_type_id, f.user_id) for f in self.flags(post_id)],
        }


StackFactory = Callable[..., Stack]


def build_stack(config: Config, stops: list[Callable[[], object]], **changes: Any) -> Stack:
    """The stack on ``config``'s database; ``changes`` replace ``[scanning]`` settings, except
    ``api_username`` and ``read_timeout_seconds`` (the forum's) and ``max_attempts`` (the worker's)."""
    api_username = changes.pop("api_username", "system")
    max_attempts = changes.pop("max_attempts", 50)
    read_timeout = changes.pop("read_timeout_seconds", 10.0)
    settings = dataclasses.replace(
        config,
        worker=dataclasses.replace(
            config.worker,
            retry_base_seconds=0.2,
            retry_max_seconds=1.0,
            poll_seconds=0.05,
            max_attempts=max_attempts,
        ),
        scanning=dataclasses.replace(config.scanning, **changes),
    )
    runtime = build_runtime(settings)  # the wall clock: retries wait in real time
    stops.append(runtime.engine.dispose)

    intake = make_server("127.0.0.1", 0, create_app(runtime=runtime), threaded=True)
    serving = threading.Thread(target=intake.serve_forever, args=(0.05,), name="intake", daemon=True)
    serving.start()

    def stop_intake() -> None:
        intake.shutdown()
        serving.join(timeout=10)

    stops.append(stop_intake)

    sim = DiscourseSimulator(
        api_key=API_KEY,
        webhook_url=f"http://127.0.0.1:{intake.server_port}/webhooks/discourse",
        webhook_secret=SECRET,
        rate_limit=100_000,
    )
    running = start_background(sim)
    stops.append(running.stop)

    forum_settings = dataclasses.replace(
        settings.forum,
        url=running.url,
        api_key=API_KEY,
        api_username=api_username,
        rate_limit=100_000,
        rate_burst=50_000,
        retries=0,  # a 5xx fails the delivery at once: the worker's retries are under test
        read_timeout_seconds=read_timeout,
    )
    settings = dataclasses.replace(settings, forum=forum_settings)
    forum = build_forum(runtime, forum_settings)
    processor = make_processor(
        build_registry(), sessions=runtime.sessions, clock=runtime.clock, config=settings, forum=forum
    )
    worker = Worker(
        runtime.sessions,
        processor,
        settings=settings.worker,
        clock=runtime.clock,
        metrics=runtime.metrics,
        name="e2e-worker",
    )
    stop = threading.Event()
    working = threading.Thread(target=worker.run, args=(stop,), name="worker", daemon=True)
    working.start()

    def stop_worker() -> None:
        stop.set()
        working.join(timeout=30)

    stops.append(stop_worker)

    stack = Stack(runtime, settings, sim, running, forum)
    stack.user("ann", trust_level=1)
    stack.user("ben", trust_level=1)
    stack.user("mod", moderator=True)
    return stack


@pytest.fixture
def make_stack(config: Config) -> Iterator[StackFactory]:
    stops: list[Callable[[], object]] = []
    yield lambda **changes: build_stack(config, stops, **changes)
    for stop in reversed(stops):
        stop()


def assert_all_handled(stack: Stack) -> None:
    assert {d.status for d in stack.deliveries()} <= {DeliveryStatus.DONE, DeliveryStatus.IGNORED}


# --- one post, as it should go ---------------------------------------------------------------------------


def test_a_card_gets_one_pm_to_the_author_and_one_flag_and_an_edit_resolves_it(
    make_stack: StackFactory,
) -> None:
    stack = make_stack()
    sim = stack.sim
    post = stack.post(
        "ann", f"Our billing contact paid with {CARD}, can someone check?", title="Billing help"
    )
    stack.settle()

    [(title, pm)] = stack.warnings("ann")
    assert title == "About your post in \u201cBilling help\u201d"
    assert f"a payment card number: {CARD_PREVIEW}" in pm
    assert f"{stack.running.url}/t/billing-help/{post.topic_id}/1" in pm
    assert CARD not in pm
    assert CARD.replace(" ", "") not in pm
    [flag] = stack.flags(post.id)
    assert flag.post_action_type_id == NOTIFY_MODERATORS
    assert flag.user_id == sim.system_user.id
    assert flag.message is not None
    assert "a payment card number" in flag.message
    assert "1881" not in flag.message
    [row] = stack.findings()
    assert (row.post_id, row.type, row.severity, row.status, row.preview) == (
        post.id,
        "CREDIT_CARD",
        "critical",
        FindingStatus.OPEN,
        CARD_PREVIEW,
    )
    assert (row.author_id, row.author_username) == (stack.ids["ann"], "ann")
    assert row.notified_at is not None
    assert row.flagged_at is not None
    assert stack.scans(post.id) == [(1, "done", 1, True)]
    assert [a for _, a, _ in audit_of(stack.runtime, "finding.")] == ["finding.opened"]

    # The author takes the number out: the finding is resolved, and nothing more is sent or called.
    before = stack.request_count()
    stack.edit(post.id, "Our billing contact paid by card, number removed. Can someone check?")
    stack.settle()

    assert stack.requests_since(before) == []
    [row] = stack.findings()
    assert (row.status, row.last_version) == (FindingStatus.RESOLVED_BY_EDIT, 1)
    assert len(stack.warnings("ann")) == 1
    assert len(stack.flags(post.id)) == 1
    assert stack.scans(post.id) == [(1, "done", 1, True), (2, "done", 0, False)]
    assert [a for _, a, _ in audit_of(stack.runtime, "finding.")] == [
        "finding.opened",
        "finding.resolved_by_edit",
    ]
    assert_all_handled(stack)


def test_a_quoted_card_in_a_reply_and_the_sidecars_own_messages_are_not_scanned(
    make_stack: StackFactory,
) -> None:
    stack = make_stack()
    first = stack.post("ann", f"my card is {CARD}, please charge the renewal", title="Renewal payment")
    stack.settle()
    before = stack.request_count()
    reply = stack.post(
        "ben",
        f'[quote="ann, post:1, topic:{first.topic_id}"]\nmy card is {CARD}, please charge the renewal\n'
        "[/quote]\nPlease take that number out of your post!",
        topic_id=first.topic_id,
    )
    stack.settle()

    assert stack.requests_since(before) == []  # a clean post: not even a read
    assert stack.warnings("ben") == []
    assert stack.scans(reply.id) == [(1, "done", 0, False)]
    assert stack.flags(reply.id) == []
    assert [f.post_id for f in stack.findings()] == [first.id]
    # The sidecar's warning (and the PM its flag made for the staff) came back as post_created and were
    # left alone: no scan, no read, no finding.
    own = stack.posts_by(stack.api_username)
    assert len(own) == 2
    assert {stack.sim.topic(p.topic_id).archetype for p in own} == {Archetype.PRIVATE_MESSAGE}
    created = [d for d in stack.deliveries() if d.event_name == "post_created"]
    assert {d.subject for d in created} == {f"post:{p.id}" for p in [first, reply, *own]}
    for p in own:
        assert stack.scans(p.id) == []
    assert_all_handled(stack)


# --- webhook faults: every run ends in the same state ----------------------------------------------------


def _expected_after_card_and_ssn(stack: Stack) -> dict[str, Any]:
    # The sidecar reads the post before acting: it only ever sees the edited version (2), with both values.
    return {
        "findings": [
            ("CREDIT_CARD", FindingStatus.OPEN, 2, 2, True),
            ("US_SSN", FindingStatus.OPEN, 2, 2, True),
        ],
        "scans": [(2, "done", 2, True)],
        "flags": [(NOTIFY_MODERATORS, stack.sim.system_user.id)],
    }


@pytest.mark.parametrize("fault", ["none", "duplicate", "reorder", "delay"])
def test_duplicated_reordered_and_delayed_webhooks_end_in_the_same_state(
    make_stack: StackFactory, fault: str
) -> None:
    stack = make_stack()
    sim, faults = stack.sim, stack.sim.webhooks.faults
    topic = stack.post("ann", "Questions about the renewal of our site licence", title="Licence renewal")
    stack.settle()

    # The post and its edit happen before the sidecar can read the forum (it waits for the forum's lock).
    with sim.lock:
        if fault == "duplicate":
            faults.duplicate = 1.0  # every event twice with the same id (a manual redeliver) ...
            faults.retry = 1.0  # ... and once more with a new id (Discourse's automatic retry)
        faults.reorder = 1.0 if fault == "reorder" else 0.0  # post_created goes out after post_edited
        faults.delay = 1.0 if fault == "delay" else 0.0  # post_created is held back until released
        post = stack.post("ann", f"Please charge card {CARD} for the renewal.", topic_id=topic.topic_id)
        faults.reorder = faults.delay = 0.0
        stack.edit(post.id, f"Please charge card {CARD} for the renewal. My SSN is {SSN} if needed.")
    if fault == "delay":
        wait_for(lambda: len(stack.flags(post.id)) == 1, timeout=TIMEOUT, what="the edit to be acted on")
        assert [d.event_name for d in sim.webhooks.release_held()] == ["post_created"]
    stack.settle()
    faults.clear()

    expected = _expected_after_card_and_ssn(stack)
    assert stack.post_state(post.id) == expected
    [(_, pm)] = stack.warnings("ann")
    assert f"a payment card number: {CARD_PREVIEW}" in pm
    assert f"a US Social Security number: {SSN_PREVIEW}" in pm
    [flag] = stack.flags(post.id)
    assert flag.message is not None
    assert "a payment card number" in flag.message
    assert "a US Social Security number" in flag.message
    assert_all_handled(stack)
    subject = [d.event_name for d in stack.deliveries() if d.subject == f"post:{post.id}"]
    if fault in ("reorder", "delay"):
        assert subject == ["post_edited", "post_created"]
    else:
        assert subject == ["post_created", "post_edited"]  # the intake kept one of each
    if fault == "duplicate":
        sent = Counter((d.event_name, d.fault) for d in sim.webhooks.events() if d.event_type == "post")
        assert sent[("post_created", "duplicate")] >= 1
        assert sent[("post_created", "retry")] >= 1
        assert all(d.delivered for d in sim.webhooks.events())

    # An admin retries every delivery: nothing is read for the versions done, nothing is sent again.
    writes_before = [r for r in stack.requests_since(0) if r[0] != "GET"]
    # An admin retries every delivery, whose post text has been taken out.
    retry_every_delivery(stack.runtime, stack.sim, timeout=TIMEOUT)
    assert [r for r in stack.requests_since(0) if r[0] != "GET"] == writes_before
    assert stack.post_state(post.id) == expected
    assert len(stack.warnings("ann")) == 1
    assert_all_handled(stack)


def test_an_edit_removing_the_card_delivered_before_the_post_leaves_nothing(make_stack: StackFactory) -> None:
    stack = make_stack()
    sim = stack.sim
    topic = stack.post("ann", "Questions about the renewal of our site licence", title="Licence renewal")
    stack.settle()
    before = stack.request_count()
    with sim.lock:
        sim.webhooks.faults.reorder = 1.0
        post = stack.post("ann", f"Please charge card {CARD} for the renewal.", topic_id=topic.topic_id)
        sim.webhooks.faults.reorder = 0.0
        stack.edit(post.id, "Please charge the card on file for the renewal.")
    stack.settle()

    assert [d.event_name for d in stack.deliveries() if d.subject == f"post:{post.id}"] == [
        "post_edited",
        "post_created",
    ]
    assert stack.post_state(post.id) == {"findings": [], "scans": [(2, "done", 0, False)], "flags": []}
    assert stack.warnings("ann") == []
    # The late post_created carried the card: the post was read (and found clean), nothing was written.
    assert stack.requests_since(before) == [("GET", f"/posts/{post.id}.json", 200)]
    assert_all_handled(stack)


# --- the moderators' decisions ---------------------------------------------------------------------------


def test_a_dismissal_silences_the_same_value_for_that_author(make_stack: StackFactory) -> None:
    stack = make_stack(pm_window_minutes=0)  # every version may be told: only the dismissal silences
    first = stack.post("ann", f"The vendor's test card is {CARD}, for the lab", title="Lab test cards")
    stack.settle()
    [row] = stack.findings()
    decided = stack.queue().dismiss(row.id, actor="mod", reason="the vendor's published test card")
    assert (decided["status"], decided["decided_by"]) == ("dismissed", "mod")

    before = stack.request_count()
    again = stack.post("ann", f"Reminder: the lab's test card is {CARD}.", title="Lab test cards again")
    edited = stack.edit(first.id, f"The vendor's test card is {CARD}, for the lab (see the manual)")
    stack.settle()

    assert stack.requests_since(before) == []  # not even a read: the payloads were clean for her
    assert [(f.post_id, f.status) for f in stack.findings()] == [(first.id, FindingStatus.DISMISSED)]
    assert stack.scans(again.id) == [(1, "done", 0, False)]
    assert stack.scans(first.id)[-1] == (edited.version, "done", 0, False)
    assert len(stack.warnings("ann")) == 1
    assert stack.flags(again.id) == []
    assert [(who, a) for who, a, _ in audit_of(stack.runtime, "finding.dismissed")] == [
        ("mod", "finding.dismissed")
    ]
    with stack.runtime.sessions() as session:
        allowed = session.execute(select(FindingAllowance.forum_user_id, FindingAllowance.created_by)).all()
    assert [tuple(a) for a in allowed] == [(stack.ids["ann"], "mod")]

    # The allowance is the author's: someone else posting the same number is reported.
    other = stack.post("ben", f"Is {CARD} really a test card?", title="Test card question")
    stack.settle()
    assert [(f.post_id, f.author_username, f.status) for f in stack.findings(other.id)] == [
        (other.id, "ben", FindingStatus.OPEN)
    ]
    assert len(stack.warnings("ben")) == 1
    assert len(stack.flags(other.id)) == 1


# --- what is skipped -------------------------------------------------------------------------------------


def test_whispers_small_actions_private_messages_and_system_posts_are_skipped(
    make_stack: StackFactory,
) -> None:
    stack = make_stack()
    sim = stack.sim
    topic = stack.post("ann", "Our site survey for the new MiVoice Business", title="Site survey")
    stack.settle()
    before = stack.request_count()

    whisper = stack.special_post("mod", f"staff only: her card is {CARD}", WHISPER, topic.topic_id)
    small = stack.special_post("mod", f"closed: card {CARD} was posted", SMALL_ACTION, topic.topic_id)
    stack.edit(whisper.id, f"staff only: her card is {CARD}, SSN {SSN}", username="mod")
    pm = sim.send_private_message(stack.ids["ann"], ["ben"], "Payment", f"Ben, my card is {CARD}, thanks")
    system = sim.write_post(sim.system_user.id, f"Automated: card {CARD} seen", topic_id=topic.topic_id)
    stack.settle()

    assert stack.requests_since(before) == []
    assert stack.findings() == []
    for post in (whisper, small, pm, system):
        assert stack.scans(post.id) == []
    assert stack.warnings("ann") == []
    assert stack.warnings("mod") == []
    assert sim.flags_on() == []
    handled = Counter(d.event_name for d in stack.deliveries() if d.status == DeliveryStatus.DONE)
    assert handled["post_created"] == 5  # the topic, the whisper, the small action, the PM, system's
    assert handled["post_edited"] == 1
    assert_all_handled(stack)


def test_private_messages_are_scanned_when_configured_but_never_the_sidecars_own(
    make_stack: StackFactory,
) -> None:
    # The warning itself names a phone number: scanning the sidecar's own messages would report it.
    message = (
        "Hello {username}, your post {post_url} shows:\n\n{findings}\n\n"
        "Questions? Call the office: 613-722-4499."
    )
    stack = make_stack(private_messages=True, pm_message=message)
    sim = stack.sim
    before = stack.request_count()
    pm = sim.send_private_message(stack.ids["ann"], ["ben"], "Payment", f"Ben, my card is {CARD}, thanks")
    stack.settle()

    assert stack.requests_since(before) == [
        ("GET", f"/posts/{pm.id}.json", 200),
        ("POST", "/posts.json", 200),
        ("POST", "/post_actions.json", 200),
    ]
    [row] = stack.findings()
    assert (row.post_id, row.type, row.status) == (pm.id, "CREDIT_CARD", FindingStatus.OPEN)
    [(_, warning)] = stack.warnings("ann")
    assert f"a payment card number: {CARD_PREVIEW}" in warning
    assert "613-722-4499" in warning
    assert len(stack.flags(pm.id)) == 1
    own = stack.posts_by(stack.api_username)
    assert len(own) == 2  # the warning, and the PM the flag made for the staff
    for post in own:
        assert stack.scans(post.id) == []
    assert_all_handled(stack)


def test_posts_by_the_api_user_are_skipped(make_stack: StackFactory) -> None:
    stack = make_stack(api_username="admin", private_messages=True)  # an ordinary account, id > 0
    sim = stack.sim
    admin = sim.find_user(username="admin")
    assert admin is not None
    topic = stack.post("ann", "Our site survey for the new MiVoice Business", title="Site survey")
    stack.settle()
    before = stack.request_count()
    announcement = sim.write_post(admin.id, f"Example only: {CARD}", title="How to pay the dues")
    reply = sim.write_post(admin.id, f"Please do not post numbers like {CARD}", topic_id=topic.topic_id)
    stack.settle()

    assert stack.requests_since(before) == []
    assert stack.findings() == []
    assert stack.scans(announcement.id) == []
    assert stack.scans(reply.id) == []

    # A member's card: the warning and the flag's staff PM are the admin's posts, and are not scanned.
    post = stack.post("ann", f"Charge {CARD} please", topic_id=topic.topic_id)
    stack.settle()
    assert [f.post_id for f in stack.findings()] == [post.id]
    [(_, warning)] = stack.warnings("ann")
    assert CARD_PREVIEW in warning
    assert [f.user_id for f in stack.flags(post.id)] == [admin.id]
    for own in stack.posts_by("admin"):
        assert stack.scans(own.id) == []
    assert_all_handled(stack)


# --- topic edits and deletions ---------------------------------------------------------------------------


def test_a_topic_edit_is_read_from_the_forum_and_scanned(make_stack: StackFactory) -> None:
    stack = make_stack()
    sim = stack.sim
    first = stack.post("ann", "Which handsets work with the new MiVB release?", title="Handset support")
    stack.settle()
    before, emitted = stack.request_count(), len(sim.webhooks.events())
    sim.edit_topic_first_post(
        first.topic_id, "Handset support and billing", f"Which handsets work? Also, bill my card {CARD}."
    )
    stack.settle()

    # One revision of the title and the first post: only topic_edited, and no text in it.
    edited = sim.webhooks.events()[emitted]
    assert (edited.event_name, edited.event_type) == ("topic_edited", "topic")
    assert "raw" not in edited.payload["topic"]
    assert not any(
        d.event_name == "post_edited" and d.payload["post"]["id"] == first.id
        for d in sim.webhooks.events()[emitted:]
    )
    assert stack.requests_since(before) == [
        ("GET", f"/posts/by_number/{first.topic_id}/1.json", 200),
        ("POST", "/posts.json", 200),
        ("POST", "/post_actions.json", 200),
    ]
    [row] = stack.findings()
    assert (row.post_id, row.type, row.status, row.first_version) == (
        first.id,
        "CREDIT_CARD",
        FindingStatus.OPEN,
        2,
    )
    assert stack.scans(first.id) == [(1, "done", 0, False), (2, "done", 1, True)]
    [(title, warning)] = stack.warnings("ann")
    assert CARD_PREVIEW in warning
    assert CARD not in warning
    assert len(stack.flags(first.id)) == 1
    # The topic is named in the warning's title, as for any other post.
    assert title == "About your post in \u201cHandset support and billing\u201d"
    assert_all_handled(stack)


def test_a_topic_edit_of_a_private_message_is_not_read_unless_configured(make_stack: StackFactory) -> None:
    stack = make_stack()
    sim = stack.sim
    pm = sim.send_private_message(stack.ids["ann"], ["ben"], "Payment", "Ben, I will send the details")
    stack.settle()
    before = stack.request_count()
    sim.edit_topic_first_post(pm.topic_id, "Payment details", f"Ben, my card is {CARD}")
    stack.settle()
    assert stack.requests_since(before) == []
    assert stack.findings() == []
    assert_all_handled(stack)


def test_deleting_the_post_closes_its_open_findings(make_stack: StackFactory) -> None:
    stack = make_stack()
    topic = stack.post("ann", "Questions about the renewal of our site licence", title="Licence renewal")
    post = stack.post("ann", f"Card {CARD}, and call me on my cell {PHONE}", topic_id=topic.topic_id)
    stack.settle()
    assert {(f.type, f.status) for f in stack.findings()} == {
        ("CREDIT_CARD", FindingStatus.OPEN),
        ("PHONE", FindingStatus.OPEN),
    }
    before = stack.request_count()
    stack.sim.delete_post(post.id, actor=stack.sim.user(stack.ids["ann"]))
    stack.settle()

    assert stack.requests_since(before) == []
    assert {(f.type, f.status) for f in stack.findings()} == {
        ("CREDIT_CARD", FindingStatus.POST_DELETED),
        ("PHONE", FindingStatus.POST_DELETED),
    }
    [(actor, action, details)] = audit_of(stack.runtime, "finding.post_deleted")
    assert (actor, action) == ("sidecar", "finding.post_deleted")
    assert sorted(details["findings"]) == sorted(f.id for f in stack.findings())
    assert [d.event_name for d in stack.deliveries() if d.subject == f"post:{post.id}"] == [
        "post_created",
        "post_destroyed",
    ]
    assert_all_handled(stack)


# --- loops and storms ------------------------------------------------------------------------------------


def test_an_edit_storm_gets_one_pm_per_window_and_one_flag(make_stack: StackFactory) -> None:
    stack = make_stack()  # scanning.pm_window_minutes: 10
    topic = stack.post("ann", "Contact details for the site survey next week", title="Site survey")
    stack.settle()
    before = stack.request_count()

    items: list[str] = []
    for n in range(20):  # twenty edits within the minute, each with a new number
        items.append(f"my cell {phone(n)}" if n % 2 == 0 else f"card {card(n)}")
        stack.edit(topic.id, "Contact details for the site survey: " + "; ".join(items))
    stack.settle()

    assert len(stack.warnings("ann")) == 1
    assert len(stack.flags(topic.id)) == 1
    flags_sent = [r for r in stack.requests_since(before) if r[:2] == ("POST", "/post_actions.json")]
    assert [status for *_, status in flags_sent].count(200) == 1
    rows = stack.findings(topic.id)
    assert Counter(f.type for f in rows) == {"PHONE": 10, "CREDIT_CARD": 10}
    assert {(f.status, f.last_version) for f in rows} == {(FindingStatus.OPEN, 21)}
    assert stack.scans(topic.id)[-1][:2] == (21, "done")
    assert sum(1 for *_, pm_sent in stack.scans(topic.id) if pm_sent) == 1
    told = [f for f in rows if f.notified_at is not None]
    [(_, first_pm)] = stack.warnings("ann")
    assert told
    assert all(f.preview in first_pm for f in told)
    assert_all_handled(stack)

    # The window passes (the last message is dated back past it): the next version tells what is untold.
    with stack.runtime.sessions.begin() as session:
        notice = session.get(AuthorNotice, stack.ids["ann"])
        assert notice is not None
        notice.last_pm_at -= timedelta(minutes=stack.settings.scanning.pm_window_minutes + 1)
        dated_back = notice.last_pm_at
    items.append(f"my cell {phone(20)}")
    stack.edit(topic.id, "Contact details for the site survey: " + "; ".join(items))
    stack.settle()

    with stack.runtime.sessions() as session:
        notice = session.get(AuthorNotice, stack.ids["ann"])
        assert notice is not None
        assert notice.last_pm_at > dated_back  # the second message starts a new window

    first, second = stack.warnings("ann")
    untold = [f for f in rows if f.notified_at is None]
    assert all(f.preview in second[1] for f in untold)
    assert "\u2022\u2022\u2022-\u2022\u2022\u2022-4420" in second[1]
    assert all(f.preview not in second[1] for f in told)
    assert all(f.notified_at is not None for f in stack.findings(topic.id))
    assert len(stack.flags(topic.id)) == 1
    for value in [*(phone(n) for n in range(0, 21, 2)), *(card(n) for n in range(1, 20, 2))]:
        assert value not in first[1]
        assert value not in second[1]
    assert_all_handled(stack)


@pytest.mark.parametrize("outage", ["read", "pm", "flag"])
def test_a_forum_outage_delays_the_pm_and_the_flag_without_losing_or_repeating_them(
    make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch, outage: str
) -> None:
    stack = make_stack()
    sim = stack.sim
    topic = stack.post("ann", "Questions about the renewal of our site licence", title="Licence renewal")
    stack.settle()

    # The forum goes down right before the sidecar's read, its PM or its flag.
    record = sim.record_request
    went_down = threading.Event()

    def record_then_fail(request: ApiRequest) -> None:
        record(request)
        last_good = {
            "pm": ("GET", "/posts/"),
            "flag": ("POST", "/posts.json"),
        }.get(outage)
        if (
            last_good is not None
            and not went_down.is_set()
            and request.method == last_good[0]
            and request.path.startswith(last_good[1])
            and request.status == 200
        ):
            went_down.set()
            sim.faults.error_rate = 1.0

    monkeypatch.setattr(sim, "record_request", record_then_fail)
    if outage == "read":
        sim.faults.error_rate = 1.0
        went_down.set()
    post = stack.post("ann", f"Please charge card {CARD} for the renewal.", topic_id=topic.topic_id)

    def failing() -> bool:
        return any(
            d.subject == f"post:{post.id}" and d.attempts >= 2 and d.status == DeliveryStatus.FAILED
            for d in stack.deliveries()
        )

    wait_for(failing, timeout=TIMEOUT, what="the delivery failing and being retried")
    assert went_down.is_set()
    assert len(stack.warnings("ann")) == (1 if outage == "flag" else 0)
    assert stack.flags(post.id) == []
    sim.faults.clear()  # the forum is back
    stack.settle()

    assert any(status == 503 for *_, status in stack.requests_since(0))
    [(_, pm)] = stack.warnings("ann")
    assert CARD_PREVIEW in pm
    assert len(stack.flags(post.id)) == 1
    assert stack.post_state(post.id) == {
        "findings": [("CREDIT_CARD", FindingStatus.OPEN, 1, 1, True)],
        "scans": [(1, "done", 1, True)],
        "flags": [(NOTIFY_MODERATORS, sim.system_user.id)],
    }
    [delivery] = [d for d in stack.deliveries() if d.subject == f"post:{post.id}"]
    assert delivery.status == DeliveryStatus.DONE
    assert delivery.attempts >= 3
    writes = [(m, p, s) for m, p, s in stack.requests_since(0) if m == "POST" and s == 200]
    assert writes.count(("POST", "/post_actions.json", 200)) == 1
    assert_all_handled(stack)


def test_a_pm_whose_answer_was_lost_is_not_sent_again(
    make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forum takes the PM but answers after the sidecar stopped waiting: the PM may have been sent, so
    the retry must not send it again (only an error answer from the forum means nothing was sent)."""
    stack = make_stack(read_timeout_seconds=1.0)
    sim = stack.sim
    topic = stack.post("ann", "Questions about the renewal of our site licence", title="Licence renewal")
    stack.settle()

    def slow_once(seconds: float) -> None:
        # The simulated forum's latency (faults.latency) for one request: the PM, right after the read.
        sim.faults.latency = 0.0
        time.sleep(seconds)  # the forum is slow, in its own thread; the test waits by polling

    monkeypatch.setattr(sim, "sleep", slow_once)
    record = sim.record_request
    armed = threading.Event()

    def record_then_slow_down(request: ApiRequest) -> None:
        record(request)
        if request.method == "GET" and request.path.startswith("/posts/") and not armed.is_set():
            armed.set()
            sim.faults.latency = 3.0

    monkeypatch.setattr(sim, "record_request", record_then_slow_down)
    post = stack.post("ann", f"Please charge card {CARD} for the renewal.", topic_id=topic.topic_id)

    def pm_attempts() -> list[str]:
        return [o for a, t, o, _ in forum_actions(stack.runtime) if a == "send_private_message"]

    def all_pm_requests_answered() -> bool:
        with sim.lock:
            answered = [r for r in sim.requests if (r.method, r.path) == ("POST", "/posts.json")]
        return "failed" in pm_attempts() and len(answered) == len(pm_attempts())

    wait_for(all_pm_requests_answered, timeout=TIMEOUT, what="the slow PM to be answered")
    stack.settle()

    assert pm_attempts()[0] == "failed"  # the sidecar gave up waiting for the answer
    assert len(stack.warnings("ann")) == 1
    assert len(stack.flags(post.id)) == 1
    [delivery] = [d for d in stack.deliveries() if d.subject == f"post:{post.id}"]
    assert delivery.status == DeliveryStatus.DONE
    assert_all_handled(stack)


# --- cost ------------------------------------------------------------------------------------------------


def test_a_clean_post_costs_no_forum_call_and_a_post_with_findings_one_read_one_pm_one_flag(
    make_stack: StackFactory,
) -> None:
    stack = make_stack()
    before = stack.request_count()
    clean = stack.post("ann", CLEAN, title="Upgrade notes for the MiVB")
    reply = stack.post("ben", "Thanks, that worked for us too on 9.1.", topic_id=clean.topic_id)
    stack.edit(clean.id, CLEAN + "\n\nEdit: the 6930s needed a reboot.")
    stack.settle()
    assert stack.requests_since(before) == []
    assert stack.scans(reply.id) == [(1, "done", 0, False)]

    before = stack.request_count()
    found = stack.post("ann", f"Bill card {CARD} and my SSN is {SSN}", topic_id=clean.topic_id)
    stack.settle()
    assert stack.requests_since(before) == [
        ("GET", f"/posts/{found.id}.json", 200),
        ("POST", "/posts.json", 200),
        ("POST", "/post_actions.json", 200),
    ]

    # A high finding (a personal phone): a private message and no flag.
    before = stack.request_count()
    high = stack.post("ben", f"For the survey, call me on my cell {PHONE}", topic_id=clean.topic_id)
    stack.settle()
    assert stack.requests_since(before) == [
        ("GET", f"/posts/{high.id}.json", 200),
        ("POST", "/posts.json", 200),
    ]
    [(_, warning)] = stack.warnings("ben")
    assert "a personal phone number: \u2022\u2022\u2022-\u2022\u2022\u2022-4410" in warning
    assert stack.flags(high.id) == []
    assert_all_handled(stack)
