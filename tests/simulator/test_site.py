"""The model and its scripting API: defaults, automatic groups, Discourse's rules, events."""

from __future__ import annotations

import http.client
import logging
import os
import socket
import threading
from urllib.parse import urlsplit

import pytest
import requests
from waitress import wasyncore

from sidecar.forum.simulator import ApiError, DiscourseSimulator, ValidationFailed, start_background
from tests.simulator.conftest import API_KEY

RAW = "A post long enough to be a real post on the forum."


def test_a_new_forum_has_the_system_user_an_admin_and_the_automatic_groups(sim: DiscourseSimulator) -> None:
    system = sim.user(-1)
    admin = sim.find_user(username="admin")

    assert (system.username, system.admin) == ("system", True)
    assert admin is not None
    assert admin.admin
    assert {g.name for g in sim.groups.values() if g.automatic} == {
        "everyone", "admins", "moderators", "staff",
        "trust_level_0", "trust_level_1", "trust_level_2", "trust_level_3", "trust_level_4",
    }  # fmt: skip


def test_ids_are_monotonic(sim: DiscourseSimulator) -> None:
    first = sim.create_user("a1", "a1@example.org")
    sim.destroy_user(first.id)
    second = sim.create_user("a2", "a2@example.org")

    assert second.id > first.id


def test_sign_up_is_inactive_unapproved_and_fires_user_created_at_once(sim: DiscourseSimulator) -> None:
    user = sim.sign_up("erin", "erin@example.org", "Erin")

    assert (user.active, user.approved) == (False, False)
    assert [d.event_name for d in sim.webhooks.pending()] == ["user_created"]
    assert [e.kind for e in sim.emails] == ["signup"]


def test_automatic_groups_follow_the_user(sim: DiscourseSimulator) -> None:
    member = sim.create_user("bob", "bob@example.org", trust_level=2)
    moderator = sim.create_user("mo", "mo@example.org", moderator=True, trust_level=3)
    staged = sim.create_user("st", "st@example.org", staged=True, trust_level=1)

    assert [g.name for g in sim.groups_of(member)] == ["trust_level_0", "trust_level_1", "trust_level_2"]
    assert [g.name for g in sim.groups_of(moderator)][:2] == ["moderators", "staff"]
    assert sim.groups_of(staged) == []
    assert [u.username for u in sim.group_members("staff")] == ["admin", "mo"]


def test_update_user_merges_fields_and_fires_user_updated(sim: DiscourseSimulator) -> None:
    field = sim.add_user_field("Membership number")
    user = sim.create_user("bob", "bob@example.org", user_fields={"Membership number": "M-1"}, emit=False)

    sim.update_user(user.id, name="Bob B", user_fields={field.id: "M-2"})

    payload = sim.webhooks.events("user_updated")[0].payload["user"]
    assert (payload["name"], payload["user_fields"]) == ("Bob B", {"1": "M-2"})


def test_taken_usernames_and_emails_are_refused(sim: DiscourseSimulator) -> None:
    sim.create_user("bob", "bob@example.org")

    with pytest.raises(ValidationFailed, match="Username has already been taken"):
        sim.create_user("BOB", "other@example.org")
    with pytest.raises(ValidationFailed, match="Primary email has already been taken"):
        sim.create_user("other", "Bob@Example.org")


def test_rules_apply_to_the_scripting_api_too(sim: DiscourseSimulator) -> None:
    mo = sim.create_user("mo", "mo@example.org", moderator=True)
    bob = sim.create_user("bob", "bob@example.org", trust_level=1)
    post = sim.write_post(bob.id, RAW, title="A topic by Bob here")

    with pytest.raises(ApiError) as suspended_staff:
        sim.suspend_user(mo.id, sim.clock.now(), "no")
    with pytest.raises(ApiError) as foreign_edit:
        sim.edit_post(post.id, RAW + "!", actor=sim.create_user("carol", "carol@example.org"))
    with pytest.raises(ApiError) as unknown_recipient:
        sim.send_private_message(bob.id, ["ghost"], "Hello there", RAW)

    assert suspended_staff.value.status == 403
    assert foreign_edit.value.status == 403
    assert unknown_recipient.value.status == 422


def test_new_users_may_flag_only_in_private_messages(sim: DiscourseSimulator) -> None:
    bob = sim.create_user("bob", "bob@example.org", trust_level=1)
    newbie = sim.create_user("newbie", "newbie@example.org", trust_level=0)
    public = sim.write_post(bob.id, RAW, title="A public topic by Bob")
    private = sim.send_private_message(bob.id, ["newbie"], "A private message", RAW)

    with pytest.raises(ApiError):
        sim.flag_post(newbie.id, public.id, 4)
    flag = sim.flag_post(newbie.id, private.id, 4)

    assert flag.post_id == private.id


def test_quietly_emits_nothing(sim: DiscourseSimulator) -> None:
    with sim.quietly():
        sim.sign_up("erin", "erin@example.org")

    sim.webhooks.ping()

    assert [d.event_name for d in sim.webhooks.pending()] == ["ping"]


def test_concurrent_requests_share_the_limit_exactly(sim: DiscourseSimulator) -> None:
    sim.configure_rate_limit(50, 60)
    statuses: list[int] = []
    lock = threading.Lock()
    with start_background(sim) as running:

        def client() -> None:
            with requests.Session() as session:
                for _ in range(10):
                    response = session.get(
                        f"{running.url}/admin/users/1.json",
                        headers={"Api-Key": API_KEY, "Api-Username": "admin"},
                        timeout=10,
                    )
                    with lock:
                        statuses.append(response.status_code)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert sorted(statuses) == [200] * 50 + [429] * 30
    assert sim.limiter.max_in_window == 50


def test_a_renamed_user_is_found_by_the_new_name_only(sim: DiscourseSimulator) -> None:
    carol = sim.create_user("carol", "carol@example.org")
    assert sim.find_user(username="Carol") is carol  # looked up once: remembered

    anonymized = sim.anonymize_user(carol.id)

    assert sim.find_user(username="carol") is None
    assert sim.find_user(username=anonymized.username) is carol


def test_flags_and_reviewables_are_found_by_post(sim: DiscourseSimulator) -> None:
    bob = sim.create_user("bob", "bob@example.org", trust_level=1)
    dave = sim.create_user("dave", "dave@example.org", trust_level=1)
    first = sim.write_post(bob.id, RAW, title="A first public topic by Bob")
    second = sim.write_post(bob.id, RAW, title="A second public topic by Bob")

    on_first = sim.flag_post(dave.id, first.id, 4)
    on_second = sim.flag_post(dave.id, second.id, 4)

    assert sim.flags_on(first.id) == [on_first]
    assert sim.live_flags(second.id, 4) == [on_second]
    assert sim.live_flags(second.id, 3) == []
    reviewable = sim.reviewable_for(second.id)
    assert reviewable is not None
    assert reviewable.flag_ids == [on_second.id]
    with pytest.raises(ApiError):  # one notify flag per user and post
        sim.flag_post(dave.id, first.id, 4)


def test_the_served_forum_keeps_connections_open_between_requests(sim: DiscourseSimulator) -> None:
    headers = {"Api-Key": API_KEY, "Api-Username": "admin"}
    with start_background(sim) as running:
        connection = http.client.HTTPConnection(urlsplit(running.url).netloc, timeout=10)
        sockets, statuses = [], []
        try:
            for _ in range(3):
                connection.request("GET", "/site.json", headers=headers)
                answer = connection.getresponse()
                answer.read()
                statuses.append(answer.status)
                sockets.append(connection.sock)  # None once the server said "Connection: close"
        finally:
            connection.close()

    assert statuses == [200, 200, 200]
    assert sockets[0] is not None
    assert sockets == [sockets[0]] * 3  # one connection, used three times


def test_stopping_a_server_whose_loop_closed_its_wake_up_pipe_still_stops_it(sim: DiscourseSimulator) -> None:
    running = start_background(sim)
    server = running._server._server  # the waitress server under the running simulator
    server.trigger.close()  # as its loop does when the pipe fails

    running.stop(timeout=10)

    assert not running._thread.is_alive()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{running.url}/site.json", timeout=2)


def test_a_server_whose_loop_fails_stops_serving_and_says_so(
    sim: DiscourseSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    running = start_background(sim)
    server = running._server
    broken = socket.socket()
    wasyncore.dispatcher(broken, map=server._map)
    os.close(broken.detach())  # a socket closed under the loop: its next select fails (EBADF)

    with caplog.at_level(logging.WARNING, logger="sidecar.forum.simulator.server"):
        running._thread.join(timeout=10)

    assert not running._thread.is_alive()  # the loop ended without an unhandled error in its thread
    assert "the simulated forum stopped serving" in caplog.text
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{running.url}/site.json", timeout=2)  # refused, not left waiting
    running.stop(timeout=10)
