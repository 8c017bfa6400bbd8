"""Posts, private messages and flags over real HTTP, in both modes."""

from __future__ import annotations

import pytest

from sidecar.forum.simulator import DiscourseSimulator
from sidecar.forum.simulator.records import User
from tests.simulator.conftest import Forum

RAW = "This is a post with enough characters to be accepted."


@pytest.fixture
def bob(sim: DiscourseSimulator) -> User:
    return sim.create_user("bob", "bob@example.org", trust_level=1)


def test_a_new_topic_fires_topic_created_then_post_created(forum: Forum, bob: User) -> None:
    response = forum.api.as_user("bob").post(
        "/posts.json", json={"title": "A question about voicemail", "raw": RAW, "category": 4}
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["post_number"], body["username"], body["yours"]) == (1, "bob", True)
    topic = forum.sim.topic(body["topic_id"])
    assert (topic.title, topic.category_id, topic.user_id) == ("A question about voicemail", 4, bob.id)
    assert [d.event_name for d in forum.sim.webhooks.events()][-2:] == ["topic_created", "post_created"]


def test_a_reply_and_a_pm_as_the_api_user(forum: Forum, bob: User) -> None:
    first = forum.sim.write_post(bob.id, RAW, title="A topic to reply to")

    reply = forum.api.post("/posts.json", data={"topic_id": first.topic_id, "raw": RAW}).json()
    pm = forum.api.post(
        "/posts.json",
        data={
            "archetype": "private_message",
            "target_recipients": "bob",
            "title": "About your post",
            "raw": RAW,
        },
    ).json()

    assert (reply["topic_id"], reply["post_number"], reply["username"]) == (first.topic_id, 2, "admin")
    pm_topic = forum.sim.topic(pm["topic_id"])
    assert pm_topic.is_private_message
    assert [t.id for t in forum.sim.private_messages(to="bob")] == [pm_topic.id]
    created = forum.sim.webhooks.events("post_created")[-1].payload["post"]
    assert created["topic_archetype"] == "private_message"


def test_post_validation_errors_are_422(forum: Forum, bob: User) -> None:
    response = forum.api.post("/posts.json", data={"title": "Short", "raw": "tiny"})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        "Body is too short (minimum is 20 characters)",
        "Title is too short (minimum is 15 characters)",
    ]


def test_get_edit_and_delete_a_post(forum: Forum, bob: User) -> None:
    post = forum.sim.write_post(bob.id, RAW, title="A topic to be edited")

    before = forum.api.get(f"/posts/{post.id}.json").json()
    edited = forum.api.put(f"/posts/{post.id}.json", data={"post[raw]": RAW + " Edited."})
    after = forum.api.get(f"/posts/{post.id}.json").json()
    deleted = forum.api.delete(f"/posts/{post.id}.json")

    assert (before["raw"], before["version"]) == (RAW, 1)
    assert edited.json()["post"]["version"] == 2
    assert (after["raw"], after["version"]) == (RAW + " Edited.", 2)
    assert deleted.status_code == 200
    assert forum.sim.post(post.id).deleted_at is not None
    names = [d.event_name for d in forum.sim.webhooks.events()]
    assert names[-3:] == ["post_edited", "post_destroyed", "topic_destroyed"]


def test_a_member_cannot_edit_someone_elses_post(forum: Forum, bob: User) -> None:
    forum.sim.create_user("carol", "carol@example.org", trust_level=1)
    post = forum.sim.write_post(bob.id, RAW, title="Bob's topic on things")

    response = forum.api.as_user("carol").put(f"/posts/{post.id}.json", json={"post": {"raw": RAW + "!"}})

    assert response.status_code == 403


def test_flagging_twice_is_refused(forum: Forum, bob: User) -> None:
    post = forum.sim.write_post(bob.id, RAW, title="A topic with a bad post")

    first = forum.api.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 4})
    again = forum.api.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 4})
    other = forum.api.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 8})

    assert first.status_code == 200
    assert {"id": 4, "count": 1, "acted": True, "can_undo": True} in first.json()["actions_summary"]
    assert "raw" not in first.json()
    assert again.status_code == 403
    assert again.json() == {
        "errors": ["Oops! You already performed this action. Can you try refreshing the page?"]
    }
    assert other.status_code == 403
    assert other.json() == {"errors": ["You are not permitted to view the requested resource."]}
    assert len(forum.sim.flags_on(post.id)) == 1
    assert len(forum.sim.webhooks.events("reviewable_created")) == 1


def test_take_action_hides_at_once_only_as_the_string_true(forum: Forum, bob: User) -> None:
    post = forum.sim.write_post(bob.id, RAW, title="A topic with a bad post")
    other = forum.sim.write_post(bob.id, RAW, title="Another topic, also bad")

    as_json_true = forum.api.post(
        "/post_actions.json", json={"id": other.id, "post_action_type_id": 8, "take_action": True}
    )
    as_string = forum.api.post(
        "/post_actions.json", data={"id": post.id, "post_action_type_id": 8, "take_action": "true"}
    )
    unhidden = forum.api.put(f"/posts/{post.id}/unhide.json")

    assert as_json_true.json()["hidden"] is False  # dc: params[:take_action] == "true"
    assert as_string.json()["hidden"] is True
    assert unhidden.status_code == 200
    assert not forum.sim.post(post.id).hidden


def test_notify_moderators_needs_a_message_and_sends_a_pm(forum: Forum, bob: User) -> None:
    forum.sim.create_user("mo", "mo@example.org", moderator=True)
    post = forum.sim.write_post(bob.id, RAW, title="A topic with a phone number")

    without = forum.api.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 7})
    with_message = forum.api.post(
        "/post_actions.json", data={"id": post.id, "post_action_type_id": 7, "message": "Contains a number"}
    )

    assert without.status_code == 422
    assert with_message.status_code == 200
    flag = forum.sim.flags_on(post.id)[0]
    assert flag.message == "Contains a number"
    assert flag.related_post_id is not None
    assert [t.id for t in forum.sim.private_messages(to="mo")] == [
        forum.sim.post(flag.related_post_id).topic_id
    ]


def test_a_hidden_post_cannot_be_flagged(forum: Forum, bob: User) -> None:
    forum.sim.create_user("carol", "carol@example.org", trust_level=1)
    post = forum.sim.write_post(bob.id, RAW, title="A topic with a bad post")
    forum.sim.flag_post(1, post.id, 8, take_action=True)

    response = forum.api.as_user("carol").post(
        "/post_actions.json", data={"id": post.id, "post_action_type_id": 4}
    )

    assert response.status_code == 403
