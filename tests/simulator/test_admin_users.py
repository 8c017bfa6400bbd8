"""``/admin/users/*`` against the simulator over real HTTP, in both modes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.simulator.conftest import Forum
from webhooks.events import parse_event


def events(forum: Forum, name: str) -> list[dict[str, Any]]:
    return [d.payload for d in forum.sim.webhooks.events(name)]


# --- approve -----------------------------------------------------------------------------------------------


def test_approve_needs_a_confirmed_email_then_approves_once(forum: Forum) -> None:
    user = forum.sim.sign_up("erin", "erin@example.org", "Erin")

    refused = forum.api.put(f"/admin/users/{user.id}/approve.json")
    forum.sim.confirm_email(user.id)
    approved = forum.api.put(f"/admin/users/{user.id}/approve.json")
    again = forum.api.put(f"/admin/users/{user.id}/approve.json")

    assert refused.status_code == 403
    assert refused.json()["error_type"] == "invalid_access"
    assert approved.status_code == 200
    assert approved.content == b""  # dc: render body: nil
    assert again.status_code == 403
    assert forum.sim.user(user.id).approved
    assert [p["user"]["username"] for p in events(forum, "user_approved")] == ["erin"]


def test_approve_by_get_shows_the_user_and_approves_nothing(forum: Forum) -> None:
    user = forum.sim.sign_up("erin", "erin@example.org")
    forum.sim.confirm_email(user.id)

    response = forum.api.get(f"/admin/users/{user.id}/approve.json")

    assert response.status_code == 200  # routed to users#show, as pydiscourse's approve() finds out
    assert response.json()["id"] == user.id
    assert response.json()["approved"] is False
    assert not forum.sim.user(user.id).approved
    assert events(forum, "user_approved") == []


def test_approve_of_an_unknown_user_is_404(forum: Forum) -> None:
    assert forum.api.put("/admin/users/999/approve.json").status_code == 404


def test_approve_bulk_takes_rails_style_arrays_and_skips_the_ineligible(forum: Forum) -> None:
    ready = [forum.sim.confirm_email(forum.sim.sign_up(f"u{i}", f"u{i}@example.org").id) for i in range(2)]
    unconfirmed = forum.sim.sign_up("late", "late@example.org")

    response = forum.api.put(
        "/admin/users/approve-bulk.json", data=[("users[]", str(u.id)) for u in [*ready, unconfirmed]]
    )

    assert response.status_code == 200
    assert [forum.sim.user(u.id).approved for u in ready] == [True, True]
    assert not forum.sim.user(unconfirmed.id).approved


# --- suspend -----------------------------------------------------------------------------------------------


def test_suspend_answers_the_suspension_and_fires_logged_out_then_suspended(forum: Forum) -> None:
    user = forum.sim.create_user("dave", "dave@example.org")
    until = forum.clock.now() + timedelta(days=30)

    response = forum.api.put(
        f"/admin/users/{user.id}/suspend.json",
        json={"suspend_until": until.isoformat(), "reason": "Membership lapsed", "message": "Sorry, Dave."},
    )

    assert response.status_code == 200
    suspension = response.json()["suspension"]
    assert suspension["suspend_reason"] == "Membership lapsed"
    assert suspension["full_suspend_reason"] == "Membership lapsed\n\nSorry, Dave."
    assert suspension["suspended_till"] == "2026-12-28T12:00:00.000Z"
    assert suspension["suspended_by"]["username"] == "admin"
    names = [d.event_name for d in forum.sim.webhooks.events() if d.event_type == "user"]
    assert names[-2:] == ["user_logged_out", "user_suspended"]
    payload = events(forum, "user_suspended")[0]["user"]
    assert payload["suspended_till"] == "2026-12-28T12:00:00.000Z"
    assert payload["suspend_reason"] == "Membership lapsed"
    assert [(e.kind, e.body) for e in forum.sim.emails] == [("account_suspended", "Sorry, Dave.")]


def test_a_second_suspension_is_409_with_a_message(forum: Forum) -> None:
    user = forum.sim.create_user("dave", "dave@example.org")
    body = {"suspend_until": "2030-01-01T00:00:00Z", "reason": "Lapsed"}
    forum.api.put(f"/admin/users/{user.id}/suspend.json", json=body)
    forum.clock.advance(300)

    again = forum.api.put(f"/admin/users/{user.id}/suspend.json", json=body)

    assert again.status_code == 409
    assert again.json() == {"failed": "FAILED", "message": "admin already suspended this user 5 minutes ago."}


def test_staff_cannot_be_suspended(forum: Forum) -> None:
    mo = forum.sim.create_user("mo", "mo@example.org", moderator=True)

    response = forum.api.put(
        f"/admin/users/{mo.id}/suspend.json", data={"suspend_until": "2030-01-01", "reason": "no"}
    )

    assert response.status_code == 403
    assert not forum.sim.user(mo.id).is_suspended(forum.clock.now())


def test_suspend_contract_400_for_a_long_or_missing_reason(forum: Forum) -> None:
    user = forum.sim.create_user("dave", "dave@example.org")

    long = forum.api.put(
        f"/admin/users/{user.id}/suspend.json", data={"suspend_until": "2030-01-01", "reason": "x" * 301}
    )
    missing = forum.api.put(f"/admin/users/{user.id}/suspend.json", data={})

    assert long.status_code == 400
    assert long.json() == {"failed": "FAILED", "errors": ["Reason is too long (maximum is 300 characters)"]}
    assert missing.json()["errors"] == ["Reason can't be blank", "Suspend until can't be blank"]


def test_a_naive_suspend_until_is_utc_like_rails_casts_it(forum: Forum) -> None:
    user = forum.sim.create_user("dave", "dave@example.org")

    response = forum.api.put(
        f"/admin/users/{user.id}/suspend.json", data={"suspend_until": "2027-01-01T10:00:00", "reason": "x"}
    )

    assert response.json()["suspension"]["suspended_till"] == "2027-01-01T10:00:00.000Z"


def test_unsuspend_clears_the_suspension(forum: Forum) -> None:
    user = forum.sim.create_user("dave", "dave@example.org")
    forum.sim.suspend_user(user.id, forum.clock.now() + timedelta(days=1), "x")

    response = forum.api.put(f"/admin/users/{user.id}/unsuspend.json")

    assert response.json() == {"suspension": {"suspended_till": None, "suspended_at": None}}
    assert not forum.sim.user(user.id).is_suspended(forum.clock.now())
    assert len(events(forum, "user_unsuspended")) == 1


def test_a_suspension_ends_on_its_own_when_its_time_has_passed(forum: Forum) -> None:
    user = forum.sim.create_user("dave", "dave@example.org")
    forum.sim.suspend_user(user.id, forum.clock.now() + timedelta(hours=1), "x")
    forum.clock.advance(3601)

    rows = forum.api.get("/admin/users/list/suspended.json").json()

    assert rows == []


# --- list --------------------------------------------------------------------------------------------------


def test_list_pages_by_100_in_a_stable_order(forum: Forum) -> None:
    for i in range(230):
        forum.sim.create_user(f"member{i:03d}", f"member{i:03d}@example.org", emit=False)
        forum.clock.advance(1)
    seen: list[int] = []
    sizes = []
    for page in (1, 2, 3, 4):
        rows = forum.api.get(
            "/admin/users/list/active.json", params={"page": page, "order": "created", "asc": "true"}
        ).json()
        sizes.append(len(rows))
        seen += [r["id"] for r in rows]

    assert sizes == [100, 100, 32, 0]  # 230 members, the admin and system
    assert len(set(seen)) == len(seen) == 232
    assert seen == sorted(seen)  # created in id order


def test_list_shows_emails_only_when_asked(forum: Forum) -> None:
    forum.sim.create_user("bob", "bob@example.org", secondary_emails=["bob@example.net"])

    plain = forum.api.get("/admin/users/list/active.json", params={"filter": "bob"}).json()
    shown = forum.api.get(
        "/admin/users/list/active.json", params={"filter": "bob", "show_emails": "true"}
    ).json()

    assert "email" not in plain[0]
    assert "secondary_emails" not in plain[0]
    assert (shown[0]["email"], shown[0]["secondary_emails"]) == ("bob@example.org", ["bob@example.net"])
    assert [a.action for a in forum.sim.staff_actions] == ["check_email"]


def test_email_filter_is_an_exact_case_insensitive_primary_match(forum: Forum) -> None:
    forum.sim.create_user("bob", "bob@example.org", secondary_emails=["b+alt@example.org"])
    forum.sim.create_user("bobby", "bobby@example.org")

    exact = forum.api.get("/admin/users/list/all.json", params={"email": "BOB@example.org"}).json()
    secondary = forum.api.get("/admin/users/list/all.json", params={"email": "b+alt@example.org"}).json()
    substring = forum.api.get("/admin/users/list/all.json", params={"filter": "bob"}).json()

    assert [r["username"] for r in exact] == ["bob"]
    assert secondary == []
    assert sorted(r["username"] for r in substring) == ["bob", "bobby"]


def test_pending_lists_confirmed_unapproved_unsuspended_users(forum: Forum) -> None:
    unconfirmed = forum.sim.sign_up("frank", "frank@example.org")
    waiting = forum.sim.confirm_email(forum.sim.sign_up("erin", "erin@example.org").id)
    suspended = forum.sim.confirm_email(forum.sim.sign_up("sam", "sam@example.org").id)
    forum.sim.suspend_user(suspended.id, forum.clock.now() + timedelta(days=1), "spam")

    rows = forum.api.get("/admin/users/list/pending.json").json()

    assert [r["username"] for r in rows] == ["erin"]
    assert rows[0]["approved"] is False
    assert unconfirmed.id != waiting.id


def test_approved_is_only_shown_when_the_site_must_approve_users(forum: Forum) -> None:
    forum.sim.settings.must_approve_users = False

    row = forum.api.get("/admin/users/list/active.json").json()[0]

    assert "approved" not in row


# --- detail, delete, and the rest -------------------------------------------------------------------------


def test_detail_has_state_groups_and_user_fields_but_no_email(forum: Forum) -> None:
    field = forum.sim.add_user_field("Membership number", required=True)
    forum.sim.create_group("members")
    user = forum.sim.create_user("bob", "bob@example.org", trust_level=1, user_fields={field.id: "M-1"})
    forum.sim.add_group_members("members", [user])

    detail = forum.api.get(f"/admin/users/{user.id}.json").json()

    assert (detail["active"], detail["approved"], detail["trust_level"]) == (True, True, 1)
    assert [(g["name"], g["automatic"]) for g in detail["groups"]] == [
        ("trust_level_0", True),
        ("trust_level_1", True),
        ("members", False),
    ]
    assert detail["user_fields"] == {str(field.id): "M-1"}
    assert "email" not in detail  # dc: AdminUserListSerializer#include_email?


def test_detail_of_an_unknown_user_is_404(forum: Forum) -> None:
    response = forum.api.get("/admin/users/4242.json")

    assert response.status_code == 404
    assert response.json()["errors"] == ["The requested URL or resource could not be found."]


def test_deleting_a_user_fires_user_destroyed_with_the_payload_from_before(forum: Forum) -> None:
    user = forum.sim.sign_up("spammer", "spam@example.org")

    response = forum.api.delete(f"/admin/users/{user.id}.json")

    assert response.json() == {"deleted": True}
    assert forum.sim.find_user(username="spammer") is None
    delivery = forum.sim.webhooks.events("user_destroyed")[0]
    event = parse_event(delivery_id=1, event_id=1, instance="x", name="user_destroyed", body=delivery.body)
    assert (event.user.username, event.user.email) == ("spammer", "spam@example.org")


def test_admins_cannot_be_deleted_and_authors_need_delete_posts(forum: Forum) -> None:
    author = forum.sim.create_user("writer", "writer@example.org")
    forum.sim.write_post(author.id, "A post long enough to count.", title="A topic title here")

    admin = forum.api.delete("/admin/users/1.json")
    with_posts = forum.api.delete(f"/admin/users/{author.id}.json")
    forced = forum.api.delete(f"/admin/users/{author.id}.json", data={"delete_posts": "true"})

    assert admin.status_code == 403
    assert with_posts.status_code == 403
    assert with_posts.json()["deleted"] is False
    assert forced.json() == {"deleted": True}


def test_log_out_fires_user_logged_out(forum: Forum) -> None:
    user = forum.sim.create_user("bob", "bob@example.org")
    forum.sim.log_in(user.id)

    response = forum.api.post(f"/admin/users/{user.id}/log_out.json")

    assert response.json() == {"success": "OK"}
    assert forum.sim.user(user.id).auth_tokens == 0
    assert len(events(forum, "user_logged_out")) == 1


def test_anonymize_replaces_the_identity(forum: Forum) -> None:
    user = forum.sim.create_user("bob", "bob@example.org", "Bob")

    response = forum.api.put(f"/admin/users/{user.id}/anonymize.json")

    body = response.json()
    assert body["success"] == "OK"
    assert body["username"].startswith("anon")
    anonymous = forum.sim.user(user.id)
    assert (anonymous.username, anonymous.name) == (body["username"], None)
    assert anonymous.email.endswith("@anonymized.invalid")
    assert forum.api.put(f"/admin/users/{user.id}/anonymize.json").status_code == 403


def test_activate_deactivate_silence_unsilence(forum: Forum) -> None:
    user = forum.sim.sign_up("erin", "erin@example.org")

    activated = forum.api.put(f"/admin/users/{user.id}/activate.json")
    twice = forum.api.put(f"/admin/users/{user.id}/activate.json")
    silenced = forum.api.put(f"/admin/users/{user.id}/silence.json", data={"reason": "calm down"})
    silenced_again = forum.api.put(f"/admin/users/{user.id}/silence.json", data={"reason": "calm down"})
    listed = forum.api.get("/admin/users/list/silenced.json").json()
    unsilenced = forum.api.put(f"/admin/users/{user.id}/unsilence.json")
    deactivated = forum.api.put(f"/admin/users/{user.id}/deactivate.json")

    assert activated.json() == {"success": "OK"}
    assert twice.status_code == 403
    assert silenced.json()["silence"]["silenced"] is True
    assert silenced_again.status_code == 409
    assert [r["username"] for r in listed] == ["erin"]
    assert unsilenced.json()["unsilence"]["silenced"] is False
    assert deactivated.json() == {"success": "OK"}
    assert not forum.sim.user(user.id).active


def test_moderators_may_suspend_but_not_log_users_out(forum: Forum) -> None:
    forum.sim.create_user("mo", "mo@example.org", moderator=True)
    user = forum.sim.create_user("bob", "bob@example.org")
    mo = forum.api.as_user("mo")

    suspended = mo.put(
        f"/admin/users/{user.id}/suspend.json", data={"suspend_until": "2030-01-01", "reason": "x"}
    )
    logged_out = mo.post(f"/admin/users/{user.id}/log_out.json")

    assert suspended.status_code == 200
    assert logged_out.status_code == 404  # the route is behind AdminConstraint


def test_filter_takes_several_terms_and_activation_filters(forum: Forum) -> None:
    forum.sim.create_user("bob", "bob@example.org")
    forum.sim.create_user("carol", "carol@example.org", secondary_emails=["c@example.net"])
    forum.sim.sign_up("frank", "frank@example.org")

    several = forum.api.get(
        "/admin/users/list/all.json", params={"filter": "bob, c@example.net frank"}
    ).json()
    unconfirmed = forum.api.get("/admin/users/list/all.json", params={"activation": "not_activated"}).json()
    too_many = forum.api.get("/admin/users/list/all.json", params={"filter": ",".join(["x"] * 101)})

    assert sorted(r["username"] for r in several) == ["bob", "carol", "frank"]
    assert [r["username"] for r in unconfirmed] == ["frank"]
    assert too_many.status_code == 400


def test_active_orders_by_last_seen_with_the_never_seen_last(forum: Forum) -> None:
    for name in ("early", "never", "late"):
        forum.sim.create_user(name, f"{name}@example.org")
    early, late = (forum.sim.user(i) for i in (2, 4))
    forum.sim.log_in(early.id)
    forum.clock.advance(60)
    forum.sim.log_in(late.id)

    rows = forum.api.get("/admin/users/list/active.json").json()

    assert [r["username"] for r in rows][:2] == ["late", "early"]
    assert [r["username"] for r in rows][-1] == "system"  # never seen, ordered by username
