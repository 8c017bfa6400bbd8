"""``/site.json``, ``POST /users.json`` and ``/u/*`` over real HTTP, in both modes."""

from __future__ import annotations

from tests.simulator.conftest import Forum


def test_site_lists_the_user_fields(forum: Forum) -> None:
    forum.sim.add_user_field("Membership number", required=True)
    forum.sim.add_user_field("Company")

    fields = forum.api.get("/site.json").json()["user_fields"]

    assert [(f["id"], f["name"], f["required"]) for f in fields] == [
        (1, "Membership number", True),
        (2, "Company", False),
    ]


def test_an_admin_creates_an_active_user(forum: Forum) -> None:
    response = forum.api.post(
        "/users.json",
        json={
            "name": "Gina",
            "username": "gina",
            "email": "gina@example.org",
            "password": "a long enough password",
            "active": True,
            "approved": True,
        },
    )

    body = response.json()
    user = forum.sim.find_user(username="gina")
    assert user is not None
    assert body == {
        "success": True,
        "active": True,
        "message": "Your account is activated and ready to use.",
        "user_id": user.id,
    }
    assert [d.event_name for d in forum.sim.webhooks.events()] == ["user_created"]


def test_creating_a_taken_username_fails_with_200(forum: Forum) -> None:
    forum.sim.create_user("gina", "gina@example.org")

    response = forum.api.post(
        "/users.json", data={"username": "GINA", "email": "other@example.org", "password": "x" * 12}
    )

    assert response.status_code == 200
    assert response.json()["success"] is False
    assert response.json()["errors"] == {"username": ["Username has already been taken"]}


def test_public_profile_by_username_and_external_id(forum: Forum) -> None:
    field = forum.sim.add_user_field("Membership number")
    user = forum.sim.create_user("bob", "bob@example.org", external_id="ext-7", user_fields={field.id: "M-7"})

    by_name = forum.api.get("/u/bob.json").json()
    by_external = forum.api.get("/u/by-external/ext-7.json").json()

    assert by_name["user"]["id"] == by_external["user"]["id"] == user.id
    assert by_name["user"]["user_fields"] == {"1": "M-7"}
    assert [g["name"] for g in by_name["user"]["groups"]] == ["trust_level_0"]
    assert forum.api.get("/u/nobody.json").status_code == 404


def test_an_admin_reads_a_users_addresses(forum: Forum) -> None:
    forum.sim.create_user("bob", "bob@example.org", secondary_emails=["bob@example.net"])
    forum.sim.create_user("carol", "carol@example.org")

    answer = forum.api.get("/u/bob/emails.json")
    refused = forum.api.as_user("carol").get("/u/bob/emails.json")

    assert answer.json() == {
        "email": "bob@example.org",
        "secondary_emails": ["bob@example.net"],
        "unconfirmed_emails": [],
        "associated_accounts": [],
    }
    assert refused.status_code == 403
    assert [a.action for a in forum.sim.staff_actions] == ["check_email"]
