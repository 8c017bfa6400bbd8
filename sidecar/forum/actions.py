"""The forum-action log: every call that changed the forum (or would have, in a dry run), with its result.

Each entry is written in its own short transaction right after the call, so it survives whatever happens to
the work that caused it: the forum changed either way. The caller's own record of the call (a warning marked
sent) may go in that transaction too (``also``): one step, and one write instead of two (should the caller's
part fail, the entry is written alone, and the error raised). The entry is one prebuilt Core insert (every
forum write makes one, the worker's warnings several a post).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from sidecar.clock import Clock
from sidecar.db.models import ForumAction

MAX_DETAIL = 1000
_INSERT = insert(ForumAction)


class ActionLog:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def record(
        self,
        *,
        action: str,
        endpoint: str,
        target: str,
        outcome: str,
        status_code: int | None,
        detail: str | None,
        cause: str | None,
        also: Callable[[Session], object] | None = None,
    ) -> None:
        """Write the entry; ``also`` writes more in the same transaction (the caller's record of the call)."""
        entry = {
            "at": self._clock.now(),
            "action": action,
            "endpoint": endpoint,
            "target": target,
            "outcome": outcome,
            "status_code": status_code,
            "detail": detail[:MAX_DETAIL] if detail else None,
            "cause": cause,
        }
        try:
            with self._sessions.begin() as session:
                session.connection().execute(_INSERT, entry)
                if also is not None:
                    also(session)
        except Exception:
            if also is None:
                raise
            # The caller's record failed: the forum changed all the same, so the entry is written alone.
            with self._sessions.begin() as session:
                session.connection().execute(_INSERT, entry)
            raise


def list_actions(session: Session, *, target: str | None = None, limit: int = 100) -> Sequence[ForumAction]:
    query = select(ForumAction).order_by(ForumAction.id.desc()).limit(limit)
    if target is not None:
        query = query.where(ForumAction.target == target)
    return session.execute(query).scalars().all()
