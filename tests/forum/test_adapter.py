"""The Discourse adapter at the HTTP boundary: paths, bodies, errors, 429, retries, dry run."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from sqlalchemy import select
from sqlalchemy.orm import Session

from sidecar import audit
from sidecar.clock import FixedClock
from sidecar.config import Config
from sidecar.db.models import AuditEntry, ForumAction
from sidecar.forum.discourse import DiscourseForum, endpoint_of
from sidecar.forum.port import (
    FlagType,
    Forbidden,
    NotFound,
    Outcome,
    RateLimited,
    Rejected,
    Unavailable,
)
from sidecar.runtime import Runtime
from tests.forum.conftest import API_KEY, FORUM, ClockSleeper, make_forum

JSON = "application/json; charset=utf-8"


def ok(rsps: responses.RequestsMock, method: str, path: str, body: object = None, status: int = 200) -> None:
    rsps.add(
        method,
        FORUM + path,
        json={"success": "OK"} if body is None else body,
        status=status,
        content_type=JSON,
    )


def actions(runtime: Runtime) -> list[tuple[str, str, str, str | None]]:
    with runtime.sessions() as session:
        rows = session.execute(select(ForumAction).order_by(ForumAction.id)).scalars()
        return [(a.action, a.target, a.outcome, a.cause) for a in rows]


def user_row(user_id: int, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": user_id,
        "username": f"u{user_id}",
        "name": None,
        "email": f"u{user_id}@example.org",
        "secondary_emails": [],
        "active": True,
        "admin": False,
        "moderator": False,
        "approved": True,
        "staged": False,
        "trust_level": 1,
        "created_at": "2026-01-01T00:00:00.000Z",
        "suspended_till": None,
        "silenced_till": None,
    }
    row.update(extra)
    return row


@pytest.mark.parametrize(
    ("verb", "path", "template"),
    [
        ("PUT", "/admin/users/12/suspend.json", "PUT /admin/users/{id}/suspend"),
        ("GET", "/admin/users/list/active.json?page=2", "GET /admin/users/list/active"),
        ("GET", "/groups/board/members.json", "GET /groups/{group}/members"),
        ("PUT", "/groups/41/members.json", "PUT /groups/{group}/members"),
        ("GET", "/u/alice.json", "GET /u/{username}"),
        ("POST", "/posts.json", "POST /posts"),
    ],
)
def test_endpoint_templates(verb: str, path: str, template: str) -> None:
    assert endpoint_of(verb, path) == template


def test_approve_is_a_put_with_the_api_headers_and_is_logged(
    forum: DiscourseForum, rsps: responses.RequestsMock, runtime: Runtime
) -> None:
    ok(rsps, "PUT", "/admin/users/5/approve.json")
    assert forum.approve_user(5) == Outcome.DONE
    [call] = rsps.calls
    assert call.request.method == "PUT"
    assert call.request.headers["Api-Key"] == API_KEY
    assert call.request.headers["Api-Username"] == "system"
    assert actions(runtime) == [("approve_user", "user:5", "done", "test")]


def test_suspend_sends_an_aware_time_reason_and_message(
    forum: DiscourseForum, rsps: responses.RequestsMock
) -> None:
    ok(rsps, "PUT", "/admin/users/9/suspend.json", {"suspension": {"suspended_till": "2027-01-01T00:00:00Z"}})
    until = datetime(2027, 1, 1, tzinfo=UTC)
    assert (
        forum.suspend_user(9, until=until, reason="Membership ended", message="Renew at mug.org")
        == Outcome.DONE
    )
    body = json.loads(rsps.calls[0].request.body or b"")
    assert body == {
        "suspend_until": "2027-01-01T00:00:00+00:00",
        "reason": "Membership ended",
        "message": "Renew at mug.org",
    }


def test_second_suspend_409_counts_as_already_done(
    forum: DiscourseForum, rsps: responses.RequestsMock, runtime: Runtime
) -> None:
    rsps.add(
        "PUT",
        FORUM + "/admin/users/9/suspend.json",
        status=409,
        json={"errors": ["already suspended"]},
        content_type=JSON,
    )
    assert forum.suspend_user(9, until=datetime(2027, 1, 1, tzinfo=UTC), reason="x") == Outcome.ALREADY_DONE
    assert actions(runtime) == [("suspend_user", "user:9", "already_done", "test")]


def test_bad_suspensions_are_refused_before_sending(
    forum: DiscourseForum, rsps: responses.RequestsMock
) -> None:
    with pytest.raises(ValueError, match="300"):
        forum.suspend_user(1, until=datetime(2027, 1, 1, tzinfo=UTC), reason="x" * 301)
    with pytest.raises(ValueError, match="timezone"):
        forum.suspend_user(1, until=datetime(2027, 1, 1), reason="x")  # noqa: DTZ001 - the point of the test
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, NotFound), (403, Forbidden), (422, Rejected), (400, Rejected), (502, Unavailable)],
)
def test_errors_map_onto_one_tree(
    forum: DiscourseForum, rsps: responses.RequestsMock, runtime: Runtime, status: int, error: type[Exception]
) -> None:
    rsps.add(
        "PUT",
        FORUM + "/admin/users/3/unsuspend.json",
        status=status,
        json={"errors": ["nope"]},
        content_type=JSON,
    )
    with pytest.raises(error) as raised:
        forum.unsuspend_user(3)
    if isinstance(raised.value, Rejected):
        assert raised.value.messages == ("nope",)
    assert actions(runtime) == [("unsuspend_user", "user:3", "failed", "test")]


def test_a_short_429_is_waited_out_and_retried(
    forum: DiscourseForum, rsps: responses.RequestsMock, sleeper: ClockSleeper
) -> None:
    rsps.add(
        "GET",
        FORUM + "/admin/users/7.json",
        status=429,
        headers={"Retry-After": "3"},
        json={
            "errors": ["slow down"],
            "error_type": "rate_limit",
            "extras": {"wait_seconds": 3, "time_left": "3 seconds"},
        },
        content_type=JSON,
    )
    rsps.add("GET", FORUM + "/admin/users/7.json", json=user_row(7), content_type=JSON)
    assert forum.get_user(7).username == "u7"
    assert 3.0 in sleeper.waits


def test_a_long_429_gives_the_job_back_and_holds_off_every_process(
    runtime: Runtime,
    forum_config: Config,
    clock: FixedClock,
    sleeper: ClockSleeper,
    rsps: responses.RequestsMock,
) -> None:
    forum = make_forum(runtime, forum_config, clock, sleeper)
    rsps.add(
        "GET",
        FORUM + "/admin/users/7.json",
        status=429,
        json={
            "errors": ["slow down"],
            "error_type": "rate_limit",
            "extras": {"wait_seconds": 120, "time_left": "2 minutes"},
        },
        content_type=JSON,
    )
    with pytest.raises(RateLimited) as raised:
        forum.get_user(7)
    assert raised.value.wait_seconds == 120
    assert sum(sleeper.waits) <= forum_config.forum.max_wait_seconds
    # Another process's client shares the bucket: it does not even try.
    other = make_forum(runtime, forum_config, clock, sleeper)
    with pytest.raises(RateLimited) as again:
        other.get_user(7)
    assert again.value.status is None  # refused by the sidecar's own budget, not sent
    assert again.value.wait_seconds > 100
    assert len(rsps.calls) == 1


def test_retry_after_as_an_http_date_is_understood(
    forum: DiscourseForum, rsps: responses.RequestsMock
) -> None:
    later = (datetime.now(UTC) + timedelta(seconds=600)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    rsps.add(
        "GET",
        FORUM + "/admin/users/7.json",
        status=429,
        headers={"Retry-After": later},
        body="",
        content_type="text/plain",
    )
    with pytest.raises(RateLimited) as raised:
        forum.get_user(7)
    assert 500 < raised.value.wait_seconds <= 600


def test_idempotent_reads_are_retried_after_5xx_and_network_errors(
    forum: DiscourseForum, rsps: responses.RequestsMock
) -> None:
    rsps.add("GET", FORUM + "/admin/users/8.json", status=503, body="busy")
    rsps.add("GET", FORUM + "/admin/users/8.json", body=requests.ConnectionError("reset"))
    rsps.add("GET", FORUM + "/admin/users/8.json", json=user_row(8), content_type=JSON)
    assert forum.get_user(8).id == 8
    assert len(rsps.calls) == 3


def test_reads_give_up_after_the_configured_retries(
    forum: DiscourseForum, rsps: responses.RequestsMock
) -> None:
    rsps.add("GET", FORUM + "/admin/users/8.json", status=500, body="oops")
    with pytest.raises(Unavailable):
        forum.get_user(8)
    assert len(rsps.calls) == 1 + forum._api._transport.settings.retries


def test_a_private_message_is_never_resent_blindly(
    forum: DiscourseForum, rsps: responses.RequestsMock, runtime: Runtime
) -> None:
    rsps.add("POST", FORUM + "/posts.json", status=502, body="bad gateway")
    with pytest.raises(Unavailable):
        forum.send_private_message(["alice"], "About your post", "Please edit it.")
    assert len(rsps.calls) == 1
    assert actions(runtime) == [("send_private_message", "pm:alice", "failed", "test")]


def test_private_message_body_and_result(forum: DiscourseForum, rsps: responses.RequestsMock) -> None:
    ok(rsps, "POST", "/posts.json", {"id": 91, "topic_id": 44, "post_number": 1})
    sent = forum.send_private_message(["alice", "bob"], "Title here", "Body here")
    assert (sent.topic_id, sent.post_id, sent.outcome) == (44, 91, Outcome.DONE)
    assert json.loads(rsps.calls[0].request.body or b"") == {
        "archetype": "private_message",
        "target_recipients": "alice,bob",
        "title": "Title here",
        "raw": "Body here",
    }


def test_email_lookup_encodes_plus_and_at(forum: DiscourseForum, rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET", FORUM + "/admin/users/list/all.json", json=[user_row(4, email="a+b@x.org")], content_type=JSON
    )
    [user] = forum.find_users_by_email("a+b@x.org")
    assert user.email == "a+b@x.org"
    url = rsps.calls[0].request.url or ""
    assert "email=a%2Bb%40x.org" in url
    assert parse_qs(urlsplit(url).query)["email"] == ["a+b@x.org"]


def test_iter_users_pages_through_the_admin_list(forum: DiscourseForum, rsps: responses.RequestsMock) -> None:
    pages = {1: range(1, 101), 2: range(101, 201), 3: range(201, 204)}
    for rows in pages.values():
        rsps.add(
            "GET",
            FORUM + "/admin/users/list/active.json",
            json=[user_row(i) for i in rows],
            content_type=JSON,
        )
    users = list(forum.iter_users("active"))
    assert [u.id for u in users] == list(range(1, 204))
    queries = [parse_qs(urlsplit(c.request.url or "").query) for c in rsps.calls]
    assert [q["page"] for q in queries] == [["1"], ["2"], ["3"]]
    assert all(
        q["order"] == ["created"] and q["asc"] == ["true"] and q["show_emails"] == ["true"] for q in queries
    )


def test_dry_run_records_writes_without_sending(
    runtime: Runtime,
    forum_config: Config,
    clock: FixedClock,
    sleeper: ClockSleeper,
    rsps: responses.RequestsMock,
) -> None:
    forum = make_forum(runtime, forum_config, clock, sleeper, dry_run=True)
    assert forum.approve_user(1) == Outcome.DRY_RUN
    assert forum.suspend_user(2, until=datetime(2027, 1, 1, tzinfo=UTC), reason="r") == Outcome.DRY_RUN
    assert forum.send_private_message(["a"], "t", "r").outcome == Outcome.DRY_RUN
    assert forum.anonymize_user(3) is None
    assert len(rsps.calls) == 0
    assert [a[2] for a in actions(runtime)] == ["dry_run"] * 4


def test_adding_members_who_are_all_there_already_is_done(
    forum: DiscourseForum, rsps: responses.RequestsMock, runtime: Runtime
) -> None:
    ok(rsps, "GET", "/groups/members.json", {"group": {"id": 41, "name": "members"}})
    rsps.add(
        "PUT",
        FORUM + "/groups/41/members.json",
        status=422,
        json={"errors": ["u1 is already a member"]},
        content_type=JSON,
    )
    ok(
        rsps,
        "GET",
        "/groups/members/members.json",
        {
            "members": [{"id": 1, "username": "U1", "name": None}],
            "owners": [],
            "meta": {"total": 1, "limit": 50, "offset": 0},
        },
    )
    assert forum.add_group_members("members", ["u1"]) == Outcome.ALREADY_DONE
    assert json.loads(rsps.calls[1].request.body or b"") == {"usernames": "u1"}
    assert actions(runtime) == [("add_group_members", "group:members:u1", "already_done", "test")]


def test_adding_a_missing_member_after_a_refusal_still_fails(
    forum: DiscourseForum, rsps: responses.RequestsMock
) -> None:
    ok(rsps, "GET", "/groups/members.json", {"group": {"id": 41, "name": "members"}})
    rsps.add(
        "PUT",
        FORUM + "/groups/41/members.json",
        status=422,
        json={"errors": ["no such user"]},
        content_type=JSON,
    )
    ok(
        rsps,
        "GET",
        "/groups/members/members.json",
        {"members": [], "owners": [], "meta": {"total": 0, "limit": 50, "offset": 0}},
    )
    with pytest.raises(Rejected):
        forum.add_group_members("members", ["ghost"])


def test_removing_members_who_were_not_there_is_already_done(
    forum: DiscourseForum, rsps: responses.RequestsMock
) -> None:
    ok(rsps, "GET", "/groups/members.json", {"group": {"id": 41, "name": "members"}})
    ok(
        rsps,
        "DELETE",
        "/groups/41/members.json",
        {"success": "OK", "usernames": [], "skipped_usernames": ["u1"]},
    )
    assert forum.remove_group_members("members", ["u1"]) == Outcome.ALREADY_DONE


def test_group_members_are_paged(forum: DiscourseForum, rsps: responses.RequestsMock) -> None:
    first = [{"id": i, "username": f"u{i}", "name": None} for i in range(50)]
    second = [{"id": i, "username": f"u{i}", "name": None} for i in range(50, 70)]
    ok(
        rsps,
        "GET",
        "/groups/board/members.json",
        {"members": first, "owners": [], "meta": {"total": 70, "limit": 50, "offset": 0}},
    )
    ok(
        rsps,
        "GET",
        "/groups/board/members.json",
        {"members": second, "owners": [], "meta": {"total": 70, "limit": 50, "offset": 50}},
    )
    assert len(forum.group_members("board")) == 70
    assert parse_qs(urlsplit(rsps.calls[1].request.url or "").query)["offset"] == ["50"]


def test_a_repeated_flag_is_already_done(forum: DiscourseForum, rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        FORUM + "/post_actions.json",
        status=403,
        json={"errors": ["not permitted"]},
        content_type=JSON,
    )
    ok(
        rsps,
        "GET",
        "/posts/70.json",
        {"id": 70, "topic_id": 3, "raw": "x", "version": 1, "actions_summary": [{"id": 7, "acted": True}]},
    )
    assert forum.flag_post(70, message="Card number in post") == Outcome.ALREADY_DONE
    assert json.loads(rsps.calls[0].request.body or b"") == {
        "id": 70,
        "post_action_type_id": 7,
        "message": "Card number in post",
    }


def test_a_refused_flag_that_was_never_taken_is_an_error(
    forum: DiscourseForum, rsps: responses.RequestsMock
) -> None:
    rsps.add(
        "POST",
        FORUM + "/post_actions.json",
        status=403,
        json={"errors": ["not permitted"]},
        content_type=JSON,
    )
    ok(
        rsps,
        "GET",
        "/posts/70.json",
        {"id": 70, "topic_id": 3, "raw": "x", "version": 1, "actions_summary": []},
    )
    with pytest.raises(Forbidden):
        forum.flag_post(70, flag_type=FlagType.SPAM)


def test_notify_moderators_needs_a_message(forum: DiscourseForum) -> None:
    with pytest.raises(ValueError, match="message"):
        forum.flag_post(1)


def test_calls_are_counted_by_endpoint_and_status(
    forum: DiscourseForum, rsps: responses.RequestsMock, runtime: Runtime
) -> None:
    rsps.add("GET", FORUM + "/admin/users/1.json", json=user_row(1), content_type=JSON)
    rsps.add(
        "GET", FORUM + "/admin/users/2.json", status=404, json={"errors": ["not found"]}, content_type=JSON
    )
    forum.get_user(1)
    with pytest.raises(NotFound):
        forum.get_user(2)
    sample = runtime.metrics.registry.get_sample_value
    assert sample("mug_forum_calls_total", {"endpoint": "GET /admin/users/{id}", "status": "200"}) == 1
    assert sample("mug_forum_calls_total", {"endpoint": "GET /admin/users/{id}", "status": "404"}) == 1


def test_user_detail_is_typed(forum: DiscourseForum, rsps: responses.RequestsMock) -> None:
    detail = user_row(
        6,
        approved=False,
        suspended_till="2027-01-01T00:00:00.000Z",
        groups=[
            {"id": 10, "name": "trust_level_0", "automatic": True},
            {"id": 41, "name": "members", "automatic": False},
        ],
        user_fields={"1": "M-1001", "2": None},
        secondary_emails=["alt@example.org"],
    )
    rsps.add("GET", FORUM + "/admin/users/6.json", json=detail, content_type=JSON)
    user = forum.get_user(6)
    assert user.approved is False
    assert user.suspended_till == datetime(2027, 1, 1, tzinfo=UTC)
    assert [g.name for g in user.groups] == ["trust_level_0", "members"]
    assert user.user_fields == {"1": "M-1001", "2": None}
    assert user.emails == ("u6@example.org", "alt@example.org")


def _audit_marker(at: datetime) -> Callable[[Session], None]:
    """A caller's record of a write: an audit entry, so the test can see whether (and with what) it went."""

    def then(session: Session) -> None:
        audit.record(session, at=at, actor="test", action="test.after_write", target="post:70", details={})

    return then


def markers(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return len(session.execute(select(AuditEntry).where(AuditEntry.action == "test.after_write")).all())


def test_the_callers_record_goes_with_the_log_entry_after_an_answer(
    forum: DiscourseForum, rsps: responses.RequestsMock, runtime: Runtime, clock: FixedClock
) -> None:
    ok(rsps, "POST", "/posts.json", {"id": 91, "topic_id": 44, "post_number": 1})
    ok(rsps, "POST", "/post_actions.json", {"id": 70})
    forum.send_private_message(["alice"], "About your post", "Edit it.", then=_audit_marker(clock.now()))
    forum.flag_post(70, message="Card number in post", then=_audit_marker(clock.now()))
    assert markers(runtime) == 2
    assert [a[:3] for a in actions(runtime)] == [
        ("send_private_message", "pm:alice", "done"),
        ("flag_post", "post:70", "done"),
    ]


def test_the_callers_record_is_not_written_when_the_forum_refuses(
    forum: DiscourseForum, rsps: responses.RequestsMock, runtime: Runtime, clock: FixedClock
) -> None:
    rsps.add("POST", FORUM + "/posts.json", status=422, json={"errors": ["Title is too short"]})
    with pytest.raises(Rejected):
        forum.send_private_message(["alice"], "x", "Please edit it.", then=_audit_marker(clock.now()))
    assert markers(runtime) == 0
    assert [a[2] for a in actions(runtime)] == ["failed"]


def test_the_log_entry_survives_a_failing_record_of_the_caller(
    forum: DiscourseForum, rsps: responses.RequestsMock, runtime: Runtime, clock: FixedClock
) -> None:
    """The forum changed: its entry is kept, the caller's half-written record is not, the error goes on."""
    ok(rsps, "POST", "/post_actions.json", {"id": 70})

    def broken(session: Session) -> None:
        _audit_marker(clock.now())(session)
        raise RuntimeError("the caller's record failed")

    with pytest.raises(RuntimeError, match="record failed"):
        forum.flag_post(70, message="Card number in post", then=broken)
    assert [a[:3] for a in actions(runtime)] == [("flag_post", "post:70", "done")]
    assert markers(runtime) == 0


def test_a_dry_run_and_an_already_done_write_still_record_the_caller(
    runtime: Runtime,
    forum_config: Config,
    clock: FixedClock,
    sleeper: ClockSleeper,
    rsps: responses.RequestsMock,
) -> None:
    dry = make_forum(runtime, forum_config, clock, sleeper, dry_run=True)
    assert dry.flag_post(70, message="Card", then=_audit_marker(clock.now())) == Outcome.DRY_RUN
    live = make_forum(runtime, forum_config, clock, sleeper)
    rsps.add("POST", FORUM + "/post_actions.json", status=403, json={"errors": ["not permitted"]})
    acted = {"id": 70, "topic_id": 3, "actions_summary": [{"id": 7, "acted": True}]}
    ok(rsps, "GET", "/posts/70.json", acted)
    assert live.flag_post(70, message="Card", then=_audit_marker(clock.now())) == Outcome.ALREADY_DONE
    assert markers(runtime) == 2
