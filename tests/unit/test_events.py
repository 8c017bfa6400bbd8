import json
from datetime import UTC, datetime

import pytest

from tests.support import EXAMPLES, load_capture, post_body, user_body
from webhooks.events import (
    DiscourseUser,
    EventName,
    EventParseError,
    Ping,
    Post,
    Reviewable,
    Topic,
    Unrecognised,
    parse_event,
    subject_of,
)


def parse(event: str, body: bytes) -> object:
    return parse_event(delivery_id=1, event_id=2, instance="https://f", name=event, body=body).payload


def test_every_real_capture_parses_into_its_typed_payload() -> None:
    expected = {
        "ping": Ping,
        "post_created": Post,
        "reviewable_created": Reviewable,
        "topic_created": Topic,
        "user_confirmed_email": DiscourseUser,
        "user_created": DiscourseUser,
        "user_updated": DiscourseUser,
    }
    for event, kind in expected.items():
        body, headers = load_capture(event)
        parsed = parse_event(
            delivery_id=1, event_id=int(headers["X-Discourse-Event-Id"]), instance="x", name=event, body=body
        )
        assert parsed.name == EventName(headers["X-Discourse-Event"])
        assert isinstance(parsed.payload, kind), event


def test_captured_user_created_fields() -> None:
    body, _ = load_capture("user_created")
    user = parse("user_created", body)
    assert isinstance(user, DiscourseUser)
    assert (user.id, user.username, user.email) == (4, "adsad", "adsad@xuxiaowei.com.cn")
    assert user.created_at == datetime(2025, 12, 31, 10, 58, 17, 185000, tzinfo=UTC)
    assert not (user.admin)
    assert not (user.moderator)
    assert not (user.staged)
    assert [g.name for g in user.groups] == ["trust_level_0", "trust_level_1"]
    assert all(g.automatic for g in user.groups)
    assert user.emails == ("adsad@xuxiaowei.com.cn",)


def test_captured_post_and_reviewable_fields() -> None:
    post = parse("post_created", load_capture("post_created")[0])
    assert isinstance(post, Post)
    assert (post.id, post.user_id, post.topic_id, post.version, post.post_number) == (12, 1, 10, 1, 1)
    assert post.username == "user1"
    assert post.raw
    assert not post.is_private_message
    topic = parse("topic_created", load_capture("topic_created")[0])
    assert isinstance(topic, Topic)
    assert (topic.id, topic.user_id, topic.archetype, topic.category_id) == (8, 1, "regular", 4)
    reviewable = parse("reviewable_created", load_capture("reviewable_created")[0])
    assert isinstance(reviewable, Reviewable)
    assert (reviewable.type, reviewable.target_type, reviewable.target_id) == (
        "ReviewableFlaggedPost",
        "Post",
        70,
    )


def test_example_user_fields_and_secondary_emails() -> None:
    user = parse("user_created", (EXAMPLES / "user_created.json").read_bytes())
    assert isinstance(user, DiscourseUser)
    assert user.email is not None
    assert user.emails[0] == user.email


def test_unknown_keys_are_ignored_and_plugin_payloads_are_unrecognised() -> None:
    user = parse("user_updated", user_body(5, gamification_score=12, can_chat_user=True))
    assert isinstance(user, DiscourseUser)
    assert user.id == 5
    other = parse("chat_message_created", b'{"chat_message":{"id":1}}')
    assert other == Unrecognised(key="chat_message")


def test_unknown_event_names_parse_with_no_enum() -> None:
    event = parse_event(
        delivery_id=1,
        event_id=2,
        instance="x",
        name="topic_closed_status_updated",
        body=b'{"topic":{"id":3}}',
    )
    assert event.name is None
    assert isinstance(event.payload, Topic)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1,2]", "non-empty JSON object"),
        (b"{}", "non-empty JSON object"),
        (b'{"user":{"username":"x"}}', "user.id is missing"),
        (b'{"user":{"id":"5","username":"x"}}', "user.id must be int"),
        (b'{"user":{"id":true,"username":"x"}}', "user.id must be int"),
        (b'{"user":[]}', "user must be an object"),
        (b'{"user":{"id":5,"username":"x","created_at":"yesterday"}}', "not an ISO 8601 time"),
        (b'{"post":{"id":5}}', "post.topic_id is missing"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_bad_bodies_name_the_problem(body: bytes, message: str) -> None:
    with pytest.raises(EventParseError, match=message):
        parse("user_created", body)


def test_private_message_posts_are_recognised() -> None:
    body = json.loads(post_body(9))
    body["post"]["topic_archetype"] = "private_message"
    post = parse("post_created", json.dumps(body).encode())
    assert isinstance(post, Post)
    assert post.is_private_message


@pytest.mark.parametrize(
    ("document", "subject"),
    [
        ({"user": {"id": 42}}, "user:42"),
        ({"post": {"id": 17, "user_id": 42}}, "post:17"),
        ({"topic": {"id": 3}}, "topic:3"),
        ({"group_user": {"group_id": 1, "user_id": 42}}, "user:42"),
        ({"ping": "OK"}, None),
        ({"user": {"id": "42"}}, None),
        ({"chat_message": {"id": 1}}, None),
    ],
)
def test_subject_of(document: dict[str, object], subject: str | None) -> None:
    assert subject_of(document) == subject
