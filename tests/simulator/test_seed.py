"""Seed files (JSON and TOML) and the bundled demo seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sidecar.clock import FixedClock
from sidecar.forum.simulator import (
    DiscourseSimulator,
    SeedError,
    load_seed,
    load_seed_file,
    read_seed,
    simulator_from_seed,
)

TOML_SEED = """
[settings]
must_approve_users = false

[[user_fields]]
name = "Membership number"
required = true

[[groups]]
name = "members"

[[users]]
username = "alice"
email = "alice@example.org"
admin = true
created_at = 2025-01-02T03:04:05Z

[[users]]
username = "bob"
email = "bob@example.org"
groups = ["members"]
user_fields = { "Membership number" = "M-1" }
suspended_till = "2030-01-01T00:00:00Z"
suspend_reason = "Lapsed"

[[posts]]
author = "alice"
title = "Welcome to the forum"
raw = "Welcome, everyone, to the forum."

[[posts]]
author = "bob"
topic = "Welcome to the forum"
raw = "Thank you for the welcome."
"""


def test_a_toml_seed_builds_the_forum_without_webhooks(sim: DiscourseSimulator, tmp_path: Path) -> None:
    path = tmp_path / "seed.toml"
    path.write_text(TOML_SEED)

    load_seed_file(sim, path)

    alice, bob = sim.find_user(username="alice"), sim.find_user(username="bob")
    assert alice is not None
    assert bob is not None
    assert sim.settings.must_approve_users is False
    assert [u.username for u in sim.group_members("members")] == ["bob"]
    assert bob.user_fields == {1: "M-1"}
    assert bob.is_suspended(sim.clock.now())
    assert alice.created_at.year == 2025
    topic = next(iter(sim.topics.values()))
    assert [sim.posts[p].user_id for p in topic.post_ids] == [alice.id, bob.id]
    assert sim.webhooks.pending() == []


def test_a_json_seed_has_the_same_shape(sim: DiscourseSimulator, tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(
        json.dumps(
            {
                "users": [
                    {"username": "carol", "email": "carol@example.org", "active": False, "approved": False}
                ],
                "api_keys": [{"key": "carol-key", "username": "carol"}],
            }
        )
    )

    load_seed_file(sim, path)

    carol = sim.find_user(username="carol")
    assert carol is not None
    assert (carol.active, carol.approved) == (False, False)
    assert sim.api_keys["carol-key"].user_id == carol.id


def test_unknown_keys_are_named(sim: DiscourseSimulator) -> None:
    with pytest.raises(SeedError, match=r"users\[0\]\.emial: unknown key"):
        load_seed(sim, {"users": [{"username": "x", "emial": "x@example.org"}]})


def test_a_reply_to_an_unknown_topic_is_an_error(sim: DiscourseSimulator) -> None:
    with pytest.raises(SeedError, match=r"posts\[0\]\.topic"):
        load_seed(sim, {"posts": [{"author": "admin", "topic": "Nope", "raw": "text"}]})


def test_the_demo_seed(sim_clock: FixedClock) -> None:
    sim = DiscourseSimulator(clock=sim_clock, default_admin=False)

    load_seed(sim, read_seed("demo"))

    admins = [u.username for u in sim.real_users() if u.admin]
    pending = [u.username for u in sim.real_users() if u.active and not u.approved]
    unconfirmed = [u.username for u in sim.real_users() if not u.active]
    assert admins == ["alice"]
    assert pending == ["erin"]
    assert unconfirmed == ["frank"]
    assert all(u.email.endswith(("@example.org", "@example.net")) for u in sim.real_users())
    assert len(sim.posts) == 4
    assert len(sim.private_messages(to="alice")) == 1


def test_simulator_from_seed_skips_the_default_admin_when_the_seed_has_one(sim_clock: FixedClock) -> None:
    with_admin = simulator_from_seed("demo", clock=sim_clock, api_key="k")
    without = simulator_from_seed(
        {"users": [{"username": "bob", "email": "bob@example.org"}]}, clock=sim_clock
    )

    assert with_admin.find_user(username="admin") is None
    assert with_admin.api_key == "k"
    assert without.find_user(username="admin") is not None
