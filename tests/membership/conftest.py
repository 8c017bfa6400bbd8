"""Membership test helpers: CSV files written line by line (so line numbers read off the test) and the
``members`` command group run with the same ``Context`` the real CLI gives it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sidecar.cli import Context
from sidecar.membership.cli import members

ORG_HEADER = "org_id,name,status,paid_through,domains"
MEMBER_HEADER = "member_number,org_id,name,email,status,paid_through"
AS_OF = "2026-11-28"

Run = Callable[..., Result]
Write = Callable[..., Path]


@pytest.fixture
def run(env: dict[str, str]) -> Run:
    """Run ``mug-sidecar members ARGS`` against the test database; extra MUG_* settings as keywords."""

    def invoke(*args: str, **settings: str) -> Result:
        return CliRunner().invoke(members, list(args), obj=Context(None, {**env, **settings}))

    return invoke


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a CSV file from its lines: the first is the header (line 1), the next is line 2, ..."""

    def to_file(name: str, *lines: str) -> Path:
        path = tmp_path / name
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return path

    return to_file
