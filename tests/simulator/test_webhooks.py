"""Webhooks as Discourse sends them: wrapper, headers, signature, events, faults, and both delivery modes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sidecar.clock import FixedClock
from sidecar.forum.simulator import DiscourseSimulator, start_background
from sidecar.forum.simulator.webhooks import Delivery, subscription_of
from tests.integration.polling import wait_for
from tests.simulator.conftest import WEBHOOK_SECRET
from webhooks.events import DiscourseUser, Post, Topic, WebhookEvent, parse_event
from webhooks.signature import verify

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

CAPTURES = Path(__file__).parents[1] / "fixtures" / "discourse" / "captures"
RAW = "A post long enough to be a real post on the forum."


def parse(delivery: Delivery) -> WebhookEvent:
    headers = delivery.headers
    return parse_event(
        delivery_id=1,
        event_id=int(headers["X-Discourse-Event-Id"]),
        instance=headers["X-Discourse-Instance"],
        name=headers["X-Discourse-Event"],
        body=delivery.body,
    )


def every_event(sim: DiscourseSimulator) -> None:
    """Drive the forum through every event the simulator emits."""
    sim.add_user_field("Membership number", required=True)
    sim.create_group("members")
    erin = sim.sign_up("erin", "erin@example.org", "Erin", user_fields={"Membership number": "M-1"})
    sim.confirm_email(erin.id)
    sim.approve_user(erin.id)
    sim.update_user(erin.id, name="Erin Example")
    sim.log_in(erin.id)
    sim.suspend_user(erin.id, sim.clock.now() + timedelta(days=1), "Lapsed")
    sim.unsuspend_user(erin.id)
    sim.add_group_members("members", [erin])
    post = sim.write_post(erin.id, RAW, title="A topic for every event")
    sim.edit_post(post.id, RAW + " Edited.")
    sim.edit_topic_first_post(post.topic_id, "A retitled topic for events", RAW + " Again.")
    reply = sim.write_post(erin.id, RAW, topic_id=post.topic_id)
    sim.flag_post(1, reply.id, 8)
    sim.delete_post(reply.id)
    sim.remove_group_members("members", [erin])
    sim.webhooks.ping()
    sim.destroy_user(erin.id, delete_posts=True)


def test_every_event_is_signed_and_parses_in_the_sidecar(sim: DiscourseSimulator) -> None:
    every_event(sim)

    deliveries = sim.webhooks.pending()
    names = [d.event_name for d in deliveries]
    assert set(names) >= {
        "user_created", "user_confirmed_email", "user_approved", "user_updated", "user_logged_in",
        "user_logged_out", "user_suspended", "user_unsuspended", "user_destroyed", "post_created",
        "post_edited", "post_destroyed", "topic_created", "topic_edited", "topic_destroyed",
        "reviewable_created", "user_added_to_group", "user_removed_from_group", "ping",
    }  # fmt: skip
    for delivery in deliveries:
        verify(WEBHOOK_SECRET.encode(), delivery.body, delivery.headers["X-Discourse-Event-Signature"])
        parse(delivery)  # raises on a payload the sidecar cannot read
        document = json.loads(delivery.body)
        assert delivery.body == json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        assert list(document) == [delivery.event_type]


def test_headers_are_discourses(sim: DiscourseSimulator) -> None:
    sim.sign_up("erin", "erin@example.org")
    sim.webhooks.ping()

    first, second = sim.webhooks.pending()

    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["X-Discourse-Instance"] == sim.base_url
    assert (first.headers["X-Discourse-Event-Type"], first.headers["X-Discourse-Event"]) == (
        "user",
        "user_created",
    )
    assert int(second.headers["X-Discourse-Event-Id"]) == int(first.headers["X-Discourse-Event-Id"]) + 1
    assert first.headers["User-Agent"].startswith("Discourse/2025.12.0")
    assert second.body == b'{"ping":"OK"}'


def test_no_signature_without_a_secret(sim_clock: FixedClock) -> None:
    sim = DiscourseSimulator(clock=sim_clock)
    sim.webhooks.ping()

    assert "X-Discourse-Event-Signature" not in sim.webhooks.pending()[0].headers


def test_user_payload_has_the_facts_keys_and_no_active_or_approved(sim: DiscourseSimulator) -> None:
    sim.add_user_field("Membership number")
    user = sim.sign_up("erin", "erin@example.org", "Erin", user_fields={"Membership number": "M-1"})
    sim.suspend_user(user.id, sim.clock.now() + timedelta(days=2), "Lapsed")

    created = sim.webhooks.events("user_created")[0].payload["user"]
    suspended = sim.webhooks.events("user_suspended")[0].payload["user"]

    for key in ("id", "username", "name", "email", "secondary_emails", "created_at", "last_seen_at",
                "trust_level", "admin", "moderator", "staged", "groups", "user_fields"):  # fmt: skip
        assert key in created
    assert "active" not in created
    assert "approved" not in created
    assert "suspended_till" not in created
    assert created["user_fields"] == {"1": "M-1"}
    assert {"id", "name", "automatic"} <= set(created["groups"][0])
    assert (suspended["suspend_reason"], suspended["suspended_till"]) == (
        "Lapsed",
        "2026-11-30T12:00:00.000Z",
    )
    event = parse(sim.webhooks.events("user_suspended")[0])
    assert isinstance(event.payload, DiscourseUser)


def test_payload_keys_are_those_of_the_real_captures(sim: DiscourseSimulator) -> None:
    user = sim.sign_up("erin", "erin@example.org")
    sim.write_post(user.id, RAW, title="A topic for comparing keys")
    plugin_keys = {"can_chat_user", "accepted_answers", "can_accept_answer", "can_unaccept_answer",
                   "accepted_answer", "topic_accepted_answer", "can_vote", "vote_count", "user_voted",
                   "discourse_zendesk_plugin_zendesk_id", "discourse_zendesk_plugin_zendesk_url",
                   "pending_posts"}  # fmt: skip

    for event, kind in (("user_created", "user"), ("post_created", "post"), ("topic_created", "topic")):
        captured = json.loads((CAPTURES / f"{event}-body.json").read_bytes())[kind]
        ours = sim.webhooks.events(event)[0].payload[kind]
        assert set(ours) - set(captured) <= {"user_fields", "external_id", "user_option"}, event
        assert set(captured) - plugin_keys - {"user_option"} <= set(ours), event


def test_post_and_topic_payloads(sim: DiscourseSimulator) -> None:
    user = sim.create_user("bob", "bob@example.org")
    post = sim.write_post(user.id, RAW, title="A topic about payload keys", category_id=4)

    payload = sim.webhooks.events("post_created")[0].payload["post"]
    post_event = parse(sim.webhooks.events("post_created")[0])
    topic_event = parse(sim.webhooks.events("topic_created")[0])

    assert (payload["raw"], payload["topic_title"], payload["topic_archetype"]) == (
        RAW,
        post.raw and "A topic about payload keys",
        "regular",
    )
    assert payload["post_url"] == f"/t/a-topic-about-payload-keys/{post.topic_id}/1"
    assert isinstance(post_event.payload, Post)
    assert isinstance(topic_event.payload, Topic)


def test_editing_title_and_first_post_fires_only_topic_edited(sim: DiscourseSimulator) -> None:
    user = sim.create_user("bob", "bob@example.org")
    post = sim.write_post(user.id, RAW, title="A topic about to be edited")
    sim.webhooks.clear()

    sim.edit_topic_first_post(post.topic_id, "A topic that was edited", RAW + " More.")

    assert [d.event_name for d in sim.webhooks.pending()] == ["topic_edited"]
    assert "raw" not in sim.webhooks.pending()[0].payload["topic"]
    assert sim.post(post.id).version == 2


def test_a_hook_with_individual_events_gets_those_and_the_ping(sim: DiscourseSimulator) -> None:
    sim.webhooks.configure(events=["post_created", "group_user_added", "reviewable_updated"])

    every_event(sim)

    names = {d.event_name for d in sim.webhooks.pending()}
    # group_user_added is subscribed to, user_added_to_group is what the header reads (FACTS.md §1).
    assert names == {"post_created", "user_added_to_group", "ping"}


def test_a_subscription_can_go_back_to_every_event(sim: DiscourseSimulator) -> None:
    sim.webhooks.configure(events=["post_created"])
    sim.sign_up("erin", "erin@example.org")
    sim.webhooks.configure(every_event=True)
    sim.sign_up("fred", "fred@example.org")

    assert [parse(d).user.username for d in sim.webhooks.pending()] == ["fred"]


def test_subscriptions_by_the_subscriptions_name() -> None:
    assert subscription_of("user_added_to_group") == "group_user_added"
    assert subscription_of("user_removed_from_group") == "group_user_removed"
    assert subscription_of("reviewable_transitioned_to") == "reviewable_updated"
    assert subscription_of("topic_closed_status_updated") == "topic_edited"
    assert subscription_of("post_edited") == "post_edited"


def test_deliver_all_hands_deliveries_to_a_sender_and_records_statuses(sim: DiscourseSimulator) -> None:
    sim.sign_up("erin", "erin@example.org")
    sim.webhooks.ping()
    received: list[tuple[str, dict[str, str], bytes]] = []

    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        received.append((url, headers, body))
        return 500 if b"ping" in body else 200

    done = sim.webhooks.deliver_all(send)

    assert [d.status for d in done] == [200, 500]
    assert [d.delivered for d in done] == [True, False]
    assert [h["X-Discourse-Event"] for _, h, _ in received] == ["user_created", "ping"]
    assert sim.webhooks.pending() == []


# --- faults ------------------------------------------------------------------------------------------------


def test_drop(sim: DiscourseSimulator) -> None:
    sim.webhooks.faults.drop = 1.0
    sim.sign_up("erin", "erin@example.org")

    assert sim.webhooks.pending() == []
    assert [d.event_name for d in sim.webhooks.dropped] == ["user_created"]


def test_duplicate_repeats_the_same_event_id_and_signature(sim: DiscourseSimulator) -> None:
    sim.webhooks.faults.duplicate = 1.0
    sim.sign_up("erin", "erin@example.org")

    first, twin = sim.webhooks.pending()

    assert twin.headers == first.headers
    assert twin.body == first.body


def test_retry_sends_the_same_body_with_a_new_event_id(sim: DiscourseSimulator) -> None:
    sim.webhooks.faults.retry = 1.0
    sim.sign_up("erin", "erin@example.org")

    first, retry = sim.webhooks.pending()

    assert retry.body == first.body
    assert retry.headers["X-Discourse-Event-Id"] != first.headers["X-Discourse-Event-Id"]
    assert retry.headers["X-Discourse-Event-Signature"] == first.headers["X-Discourse-Event-Signature"]
    assert retry.fault == "retry"


def test_delay_holds_until_released(sim: DiscourseSimulator) -> None:
    sim.webhooks.faults.delay = 1.0
    user = sim.sign_up("erin", "erin@example.org")
    sim.webhooks.faults.delay = 0.0
    sim.confirm_email(user.id)

    before = [d.event_name for d in sim.webhooks.pending()]
    sim.webhooks.release_held()
    after = [d.event_name for d in sim.webhooks.pending()]

    assert before == ["user_confirmed_email"]
    assert after == ["user_confirmed_email", "user_created"]


def test_reorder_delivers_after_the_next_event(sim: DiscourseSimulator) -> None:
    sim.webhooks.faults.reorder = 1.0
    user = sim.sign_up("erin", "erin@example.org")
    sim.webhooks.faults.reorder = 0.0
    sim.confirm_email(user.id)
    sim.approve_user(user.id)

    assert [d.event_name for d in sim.webhooks.pending()] == [
        "user_confirmed_email",
        "user_created",
        "user_approved",
    ]


def test_fault_draws_are_reproducible_with_a_seed(sim_clock: FixedClock) -> None:
    def run() -> list[tuple[str, str | None]]:
        sim = DiscourseSimulator(clock=sim_clock, rng_seed=7)
        sim.webhooks.faults.drop = 0.3
        sim.webhooks.faults.duplicate = 0.3
        for i in range(20):
            sim.sign_up(f"user{i}", f"user{i}@example.org")
        return [(d.headers["X-Discourse-Event-Id"], d.fault) for d in sim.webhooks.pending()]

    first, second = run(), run()

    assert first == second
    assert len(first) != 20  # some were dropped or duplicated


# --- over HTTP ---------------------------------------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)  # events answered 500


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        request = Request(environ)
        state.received.append((dict(request.headers), request.get_data()))
        status = 500 if request.headers.get("X-Discourse-Event") in state.failing else 200
        return Response(b"ok", status=status)(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/webhooks/discourse"
    yield state
    server.shutdown()
    thread.join(timeout=10)


def test_http_delivery_from_a_background_thread(sim: DiscourseSimulator, receiver: Receiver) -> None:
    sim.webhooks.configure(url=receiver.url)
    receiver.failing.add("user_confirmed_email")
    with start_background(sim) as running:
        user = sim.sign_up("erin", "erin@example.org")
        sim.confirm_email(user.id)
        assert sim.webhooks.flush(timeout=10)

    assert [h["X-Discourse-Event"] for h, _ in receiver.received] == ["user_created", "user_confirmed_email"]
    headers, body = receiver.received[0]
    verify(WEBHOOK_SECRET.encode(), body, headers["X-Discourse-Event-Signature"])
    assert headers["X-Discourse-Instance"] == running.url
    assert [d.status for d in sim.webhooks.events()] == [200, 500]  # no retry of the failure


def test_http_delivery_records_connection_errors(sim: DiscourseSimulator) -> None:
    sim.webhooks.configure(url="http://127.0.0.1:9/unreachable")
    sim.webhooks.start()
    try:
        sim.webhooks.ping()
        wait_for(lambda: sim.webhooks.events()[0].attempts, timeout=10, what="a delivery attempt")
    finally:
        sim.webhooks.stop()

    attempt = sim.webhooks.events()[0].attempts[0]
    assert attempt.status is None
    assert attempt.error is not None
