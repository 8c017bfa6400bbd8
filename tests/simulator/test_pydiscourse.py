"""pydiscourse 1.7, unchanged, against the simulator in-process: its quirks show as on a real forum."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydiscourse import DiscourseClient
from pydiscourse.exceptions import DiscourseClientError

from sidecar.clock import SystemClock
from sidecar.forum.simulator import DiscourseSimulator


@pytest.fixture
def mocked_sim() -> Iterator[DiscourseSimulator]:
    # pydiscourse computes suspensions from the wall clock, so the forum runs on it too
    sim = DiscourseSimulator(clock=SystemClock(), api_key="py-key")
    with sim.mocked():
        yield sim


@pytest.fixture
def client(mocked_sim: DiscourseSimulator) -> DiscourseClient:
    return DiscourseClient(mocked_sim.base_url, api_username="admin", api_key="py-key")


def test_reads(client: DiscourseClient, mocked_sim: DiscourseSimulator) -> None:
    bob = mocked_sim.create_user("bob", "bob@example.org", "Bob")

    listed = client.list_users("active", show_emails="true")
    detail = client.user_all(bob.id)
    profile = client.user("bob")

    assert {row["username"] for row in listed} == {"admin", "bob", "system"}
    assert detail["username"] == profile["username"] == "bob"


def test_approve_by_get_does_nothing_useful(client: DiscourseClient, mocked_sim: DiscourseSimulator) -> None:
    erin = mocked_sim.confirm_email(mocked_sim.sign_up("erin", "erin@example.org").id)

    answer = client.approve(erin.id)

    assert answer["username"] == "erin"
    assert not mocked_sim.user(erin.id).approved


def test_suspend_with_a_naive_timestamp(client: DiscourseClient, mocked_sim: DiscourseSimulator) -> None:
    dave = mocked_sim.create_user("dave", "dave@example.org")

    answer = client.suspend(dave.id, 30, "Membership lapsed")

    assert answer["suspension"]["suspend_reason"] == "Membership lapsed"
    assert mocked_sim.user(dave.id).is_suspended(mocked_sim.clock.now())


def test_group_membership_errors_surface(client: DiscourseClient, mocked_sim: DiscourseSimulator) -> None:
    group = mocked_sim.create_group("members")
    mocked_sim.create_user("bob", "bob@example.org")

    client.add_group_member(group.id, "bob")
    with pytest.raises(DiscourseClientError, match="already a member"):
        client.add_group_member(group.id, "bob")
    assert [m["username"] for m in client.group_members("members")] == ["bob"]


def test_create_a_topic(client: DiscourseClient, mocked_sim: DiscourseSimulator) -> None:
    answer = client.create_post(
        "A post body with enough characters.", category_id=4, title="A topic from pydiscourse"
    )

    assert mocked_sim.topic(answer["topic_id"]).title == "A topic from pydiscourse"
