"""The ``[membership]`` configuration section: defaults, overrides, and the checks that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidecar.config import ConfigError, load_config


def test_defaults_and_environment_overrides() -> None:
    membership = load_config(None, {}).membership
    assert membership.accepted_statuses == ("active", "grace", "deferred")
    assert (membership.grace_days, membership.individual_memberships) == (30, True)
    assert membership.import_max_ineligible_share == 0.10
    changed = load_config(
        None,
        {
            "MUG_MEMBERSHIP_ACCEPTED_STATUSES": "active, pending",
            "MUG_MEMBERSHIP_GRACE_DAYS": "0",
            "MUG_MEMBERSHIP_INDIVIDUAL_MEMBERSHIPS": "no",
        },
    ).membership
    assert changed.accepted_statuses == ("active", "pending")
    assert (changed.grace_days, changed.individual_memberships) == (0, False)


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ('accepted_statuses = ["active", "gold"]', "membership.accepted_statuses: unknown status 'gold'"),
        ('accepted_statuses = ["terminated"]', "membership.accepted_statuses: terminated members are never"),
        ("accepted_statuses = []", "membership.accepted_statuses: must name at least one status"),
        ('accepted_statuses = "active"', "membership.accepted_statuses: must be a list of strings"),
        ("grace_days = -1", "membership.grace_days: must not be negative"),
        ("individual_memberships = 1", "membership.individual_memberships: must be true or false"),
        ("import_max_ineligible_share = 1.5", "membership.import_max_ineligible_share: must be between"),
        ("grace = 3", "membership.grace: unknown key"),
    ],
)
def test_invalid_membership_settings_name_the_key(tmp_path: Path, toml: str, problem: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[membership]\n{toml}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    assert str(err.value).startswith(problem)
