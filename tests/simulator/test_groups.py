"""``/groups/*`` and ``/admin/groups`` over real HTTP, in both modes."""

from __future__ import annotations

from tests.simulator.conftest import Forum


def test_show_a_group_by_name(forum: Forum) -> None:
    group = forum.sim.create_group("members", full_name="Association members")

    body = forum.api.get("/groups/MEMBERS.json").json()

    assert (body["group"]["id"], body["group"]["name"], body["group"]["automatic"]) == (
        group.id,
        "members",
        False,
    )
    assert "members" in body["extras"]["visible_group_names"]
    assert forum.api.get("/groups/nope.json").status_code == 404


def test_members_page_by_limit_and_offset(forum: Forum) -> None:
    forum.sim.create_group("members")
    users = [forum.sim.create_user(f"user{i:02d}", f"user{i:02d}@example.org") for i in range(7)]
    forum.sim.add_group_members("members", users)

    first = forum.api.get(
        "/groups/members/members.json", params={"limit": 3, "offset": 0, "asc": "true"}
    ).json()
    last = forum.api.get(
        "/groups/members/members.json", params={"limit": 3, "offset": 6, "asc": "true"}
    ).json()
    default = forum.api.get("/groups/members/members.json").json()

    assert [m["username"] for m in first["members"]] == ["user00", "user01", "user02"]
    assert first["meta"] == {"total": 7, "limit": 3, "offset": 0}
    assert [m["username"] for m in last["members"]] == ["user06"]
    assert default["members"][0]["username"] == "user06"  # username descending unless asc is given
    assert default["meta"]["limit"] == 50
    assert forum.api.get("/groups/members/members.json", params={"limit": 1001}).status_code == 400


def test_add_members_by_usernames_ids_or_emails(forum: Forum) -> None:
    group = forum.sim.create_group("members")
    bob = forum.sim.create_user("bob", "bob@example.org")
    carol = forum.sim.create_user("carol", "carol@example.org")
    dave = forum.sim.create_user("dave", "dave@example.org", secondary_emails=["dave@example.net"])

    by_name = forum.api.put(f"/groups/{group.id}/members.json", json={"usernames": "bob"})
    by_id = forum.api.put(f"/groups/{group.id}/members.json", data={"user_ids": f"{carol.id}"})
    by_email = forum.api.put(f"/groups/{group.id}/members.json", data={"user_emails": "DAVE@example.net"})

    assert by_name.json() == {"success": "OK", "usernames": ["bob"], "emails": []}
    assert by_id.json()["usernames"] == ["carol"]
    assert by_email.json()["usernames"] == ["dave"]
    assert [u.id for u in forum.sim.group_members("members")] == [bob.id, carol.id, dave.id]
    assert [d.event_name for d in forum.sim.webhooks.events() if d.event_type == "group_user"] == [
        "user_added_to_group"
    ] * 3


def test_adding_only_existing_members_is_422(forum: Forum) -> None:
    group = forum.sim.create_group("members")
    forum.sim.create_user("bob", "bob@example.org")
    forum.sim.create_user("carol", "carol@example.org")
    forum.api.put(f"/groups/{group.id}/members.json", data={"usernames": "bob,carol"})

    one = forum.api.put(f"/groups/{group.id}/members.json", data={"usernames": "bob"})
    both = forum.api.put(f"/groups/{group.id}/members.json", data={"usernames": "carol,bob"})

    assert one.status_code == 422
    assert one.json() == {"errors": ["'bob' is already a member of this group."]}
    assert both.json() == {"errors": ["The following users are already members of this group: bob, carol"]}


def test_adding_with_one_new_member_succeeds(forum: Forum) -> None:
    group = forum.sim.create_group("members")
    forum.sim.create_user("bob", "bob@example.org")
    forum.sim.create_user("carol", "carol@example.org")
    forum.api.put(f"/groups/{group.id}/members.json", data={"usernames": "bob"})

    response = forum.api.put(f"/groups/{group.id}/members.json", data={"usernames": "bob,carol"})

    assert response.json()["usernames"] == ["bob", "carol"]


def test_unknown_users_and_automatic_groups(forum: Forum) -> None:
    group = forum.sim.create_group("members")

    unknown = forum.api.put(f"/groups/{group.id}/members.json", data={"usernames": "ghost"})
    automatic = forum.api.put("/groups/11/members.json", data={"usernames": "admin"})

    assert unknown.status_code == 400
    assert unknown.json()["errors"] == ["You supplied invalid parameters to the request: usernames"]
    assert automatic.status_code == 403  # dc: can_edit_group? is false for automatic groups


def test_remove_members_reports_the_skipped(forum: Forum) -> None:
    group = forum.sim.create_group("members")
    forum.sim.create_user("bob", "bob@example.org")
    forum.sim.create_user("carol", "carol@example.org")
    forum.api.put(f"/groups/{group.id}/members.json", data={"usernames": "bob"})

    response = forum.api.delete(f"/groups/{group.id}/members.json", data={"usernames": "bob,carol"})

    assert response.json() == {"success": "OK", "usernames": ["bob"], "skipped_usernames": ["carol"]}
    assert forum.sim.group_members("members") == []


def test_create_a_group(forum: Forum) -> None:
    forum.sim.create_user("bob", "bob@example.org")

    response = forum.api.post("/admin/groups.json", json={"group": {"name": "board", "usernames": "bob"}})
    duplicate = forum.api.post("/admin/groups.json", data={"group[name]": "board"})

    assert response.json()["basic_group"]["name"] == "board"
    assert response.json()["basic_group"]["user_count"] == 1
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == ["Name has already been taken"]
