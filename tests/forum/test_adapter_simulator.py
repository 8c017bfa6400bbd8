"""The adapter against the simulator, in-process (under ``responses``) and served over loopback.

These are the behaviours the sidecar's capabilities rely on; they run once per mode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from sidecar.clock import FixedClock
from sidecar.config import Config
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.port import Forbidden, NotFound, Outcome
from sidecar.forum.simulator import DiscourseSimulator, start_background
from sidecar.runtime import Runtime
from tests.forum.conftest import API_KEY, ClockSleeper, make_forum

UNTIL = datetime(2027, 6, 1, tzinfo=UTC)


@dataclass
class Site:
    sim: DiscourseSimulator
    forum: DiscourseForum


@pytest.fixture(params=["in-process", "loopback"])
def site(
    request: pytest.FixtureRequest,
    runtime: Runtime,
    forum_config: Config,
    clock: FixedClock,
    sleeper: ClockSleeper,
) -> Iterator[Site]:
    sim = DiscourseSimulator(clock=clock, api_key=API_KEY, rate_limit=10_000)
    if request.param == "in-process":
        with sim.mocked():
            yield Site(sim, make_forum(runtime, forum_config, clock, sleeper, url=sim.base_url))
    else:
        running = start_background(sim)
        try:
            yield Site(sim, make_forum(runtime, forum_config, clock, sleeper, url=running.url))
        finally:
            running.stop()


def test_approve_needs_a_confirmed_account_and_happens_once(site: Site) -> None:
    erin = site.sim.sign_up("erin", "erin@example.org")
    with pytest.raises(Forbidden):
        site.forum.approve_user(erin.id)  # not active yet: Discourse answers 403
    site.sim.confirm_email(erin.id)
    assert site.forum.approve_user(erin.id) == Outcome.DONE
    assert site.sim.user(erin.id).approved
    with pytest.raises(Forbidden):
        site.forum.approve_user(erin.id)  # already approved: 403 again; callers re-read state first
    assert site.forum.get_user(erin.id).approved is True


def test_get_user_has_current_state_with_emails(site: Site) -> None:
    user = site.sim.create_user("frank", "frank@example.org", "Frank", secondary_emails=["f@alt.example"])
    site.sim.create_group("members")
    site.sim.add_group_members("members", [user])
    seen = site.forum.get_user(user.id)
    assert (seen.username, seen.email, seen.secondary_emails) == (
        "frank",
        "frank@example.org",
        ("f@alt.example",),
    )
    assert seen.active
    assert "members" in {g.name for g in seen.groups}
    with pytest.raises(NotFound):
        site.forum.get_user(99_999)


def test_find_by_username(site: Site) -> None:
    boss = site.sim.create_user("boss", "boss@example.org", admin=True)
    found = site.forum.find_user_by_username("boss")
    assert found is not None
    assert (found.id, found.admin) == (boss.id, True)
    assert site.forum.find_user_by_username("nobody-here") is None


def test_find_by_email_with_a_plus(site: Site) -> None:
    user = site.sim.create_user("plus", "a+b@example.org")
    site.sim.create_user("other", "ab@example.org")
    assert [u.id for u in site.forum.find_users_by_email("A+B@example.org")] == [user.id]
    assert site.forum.find_users_by_email("nobody@example.org") == []


def test_iter_users_pages_through_everyone_with_emails(site: Site) -> None:
    for n in range(230):
        site.sim.create_user(f"user{n:03d}", f"user{n:03d}@example.org")
    users = [u for u in site.forum.iter_users("active") if u.id > 0]
    names = [u.username for u in users if u.username.startswith("user")]
    assert names == [f"user{n:03d}" for n in range(230)]
    assert all(u.email for u in users)


def test_pending_list_shows_confirmed_unapproved_accounts(site: Site) -> None:
    waiting = site.sim.sign_up("wait", "wait@example.org")
    site.sim.confirm_email(waiting.id)
    site.sim.sign_up("unconfirmed", "unconfirmed@example.org")
    assert [u.username for u in site.forum.iter_users("pending")] == ["wait"]


def test_suspend_twice_is_already_done_and_staff_cannot_be_suspended(site: Site) -> None:
    member = site.sim.create_user("gone", "gone@example.org")
    assert (
        site.forum.suspend_user(member.id, until=UNTIL, reason="Membership ended", message="Renew")
        == Outcome.DONE
    )
    assert site.forum.suspend_user(member.id, until=UNTIL, reason="Membership ended") == Outcome.ALREADY_DONE
    assert site.forum.get_user(member.id).suspended_till == UNTIL
    moderator = site.sim.create_user("mod", "mod@example.org", moderator=True)
    with pytest.raises(Forbidden):
        site.forum.suspend_user(moderator.id, until=UNTIL, reason="x")
    assert site.forum.unsuspend_user(member.id) == Outcome.DONE
    assert site.forum.get_user(member.id).suspended_till is None


def test_group_membership_is_idempotent(site: Site) -> None:
    site.sim.create_group("members")
    user = site.sim.create_user("gina", "gina@example.org")
    assert site.forum.add_group_members("members", ["gina"]) == Outcome.DONE
    assert site.forum.add_group_members("members", ["gina"]) == Outcome.ALREADY_DONE
    assert [m.username for m in site.forum.group_members("members")] == ["gina"]
    assert site.forum.remove_group_members("members", ["gina"]) == Outcome.DONE
    assert site.forum.remove_group_members("members", ["gina"]) == Outcome.ALREADY_DONE
    assert site.sim.group_members("members") == []
    assert site.forum.get_user(user.id).groups == tuple(
        g for g in site.forum.get_user(user.id).groups if g.automatic
    )


def test_group_members_are_paged(site: Site) -> None:
    site.sim.create_group("board")
    users = [site.sim.create_user(f"b{n:02d}", f"b{n:02d}@example.org") for n in range(120)]
    site.sim.add_group_members("board", users)
    assert sorted(m.username for m in site.forum.group_members("board")) == sorted(u.username for u in users)


def test_private_message_reaches_the_recipient(site: Site) -> None:
    site.sim.create_user("hal", "hal@example.org")
    sent = site.forum.send_private_message(["hal"], "About your post", "Please remove the card number.")
    assert sent.outcome == Outcome.DONE
    [topic] = site.sim.private_messages(to="hal")
    assert topic.id == sent.topic_id


def test_flagging_twice_is_already_done(site: Site) -> None:
    author = site.sim.create_user("ivy", "ivy@example.org")
    post = site.sim.write_post(
        author.id, "My card is 4111 1111 1111 1111, call me", title="Trunk config question"
    )
    assert site.forum.flag_post(post.id, message="Possible card number") == Outcome.DONE
    assert site.forum.flag_post(post.id, message="Possible card number") == Outcome.ALREADY_DONE
    assert len(site.sim.flags_on(post.id)) == 1


def test_get_post_reads_raw_and_version(site: Site) -> None:
    author = site.sim.create_user("jon", "jon@example.org")
    post = site.sim.write_post(author.id, "First version of the text", title="A topic about SIP trunks")
    site.sim.edit_post(post.id, "Second version of the text")
    seen = site.forum.get_post(post.id)
    assert (seen.raw, seen.version, seen.user_id) == ("Second version of the text", 2, author.id)


def test_reject_deletes_a_pending_account(site: Site) -> None:
    spam = site.sim.sign_up("spam", "spam@example.net")
    assert site.forum.reject_user(spam.id) == Outcome.DONE
    assert site.sim.find_user(username="spam") is None
    assert site.forum.reject_user(spam.id) == Outcome.ALREADY_DONE


def test_log_out_and_anonymize(site: Site) -> None:
    user = site.sim.create_user("kim", "kim@example.org")
    assert site.forum.log_out_user(user.id) == Outcome.DONE
    new_name = site.forum.anonymize_user(user.id)
    assert new_name is not None
    assert new_name != "kim"
    assert site.forum.get_user(user.id).username == new_name


def test_user_field_definitions(site: Site) -> None:
    site.sim.add_user_field("Member number", required=True)
    [field] = site.forum.user_field_definitions()
    assert (field.name, field.required) == ("Member number", True)


def test_dry_run_changes_nothing_on_the_forum(
    site: Site, runtime: Runtime, forum_config: Config, clock: FixedClock, sleeper: ClockSleeper
) -> None:
    url = site.forum._api.host
    dry = make_forum(runtime, dataclasses.replace(forum_config), clock, sleeper, url=url, dry_run=True)
    user = site.sim.create_user("lee", "lee@example.org")
    assert dry.suspend_user(user.id, until=UNTIL, reason="x") == Outcome.DRY_RUN
    assert dry.get_user(user.id).suspended_till is None  # reads still reach the forum


def test_deleting_an_admin_is_refused(site: Site) -> None:
    boss = site.sim.create_user("boss", "boss@example.org", admin=True)
    with pytest.raises(Forbidden):
        site.forum.reject_user(boss.id)
    assert site.sim.find_user(username="boss") is not None
