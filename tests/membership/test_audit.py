"""The audit log: entries written in the caller's transaction, listed newest first, filtered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sidecar.audit import details_of, list_entries, record
from sidecar.runtime import Runtime

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_record_and_list(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        first = record(
            session, at=AT, actor="ann", action="members.show", target="member:M1", details={"b": 1, "a": [2]}
        )
        record(session, at=AT, actor="bob", action="members.export", target="membership", details={})
        assert first.id is not None  # flushed: the id is there before the commit
    with runtime.sessions() as session:
        everything = list_entries(session)
        assert [e.actor for e in everything] == ["bob", "ann"]
        [shown] = list_entries(session, action="members.show")
        assert shown.at == AT
        assert shown.details == '{"a":[2],"b":1}'
        assert details_of(shown) == {"a": [2], "b": 1}
        assert [e.actor for e in list_entries(session, target="membership")] == ["bob"]
        assert [e.actor for e in list_entries(session, actor="ann")] == ["ann"]
        assert len(list_entries(session, limit=1)) == 1


def test_an_entry_rolls_back_with_its_change(runtime: Runtime) -> None:
    def change_that_fails() -> None:
        with runtime.sessions.begin() as session:
            record(session, at=AT, actor="ann", action="x", target="y", details={})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    with runtime.sessions() as session:
        assert list_entries(session) == []


def test_naive_times_and_unserializable_details_are_refused(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        with pytest.raises(ValueError, match="timezone-aware"):
            record(session, at=datetime(2026, 11, 28), actor="a", action="b", target="c", details={})  # noqa: DTZ001
        with pytest.raises(TypeError):
            record(session, at=AT, actor="a", action="b", target="c", details={"when": AT})


def test_without_a_time_the_entry_is_stamped_now_in_utc(runtime: Runtime) -> None:
    before = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        entry = record(session, actor="a", action="b", target="c", details={})
    assert entry.at.tzinfo is not None
    assert before <= entry.at <= datetime.now(UTC)
