"""Acting on what the scanner finds in forum posts: warn the author, flag for the moderators, keep the queue.

For each post version (``post_created``, ``post_edited``, a topic's first post on ``topic_edited``):

1. Skipped: posts by the sidecar's own API user (its warning messages come back as ``post_created``),
   whispers and small actions, deleted posts, and private messages unless ``scanning.private_messages``.
2. The payload's ``raw`` is scanned. Clean: the version is recorded and open findings of the post that are
   gone are resolved by the edit; no forum call at all.
3. With findings, the post is read again from the forum (payloads are stale) and its current version is
   scanned; the findings are stored (one row per post and fingerprint), and by severity
   (``[scanning.actions]``): one private message to the author for the version, listing what was found by
   kind and masked preview (never the value); one ``notify_moderators`` flag on the post naming the kinds;
   optionally the post hidden. A finding the author was told about, or the moderators were flagged for, is
   never told or flagged again; an author gets at most one message per ``scanning.pm_window_minutes``.

Every step is idempotent per (post, version): a replayed delivery finds the version's ``post_scans`` row
and does nothing. The row is written before the forum calls (status ``acting``) and marked ``done`` after
them, so a forum outage leaves the actions to the delivery's retry instead of losing them; a private
message is marked attempted before it is sent and is not sent twice.

The values themselves are never stored or logged: findings keep masked previews and keyed fingerprints.

Updates run on the session's connection as Core statements: an ORM bulk update would first match its
criteria against every object in the session, and the worker runs them for every post.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Insert, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from sidecar import audit
from sidecar.clock import Clock
from sidecar.config import Config
from sidecar.db.engine import insert_or_ignore, reading, upsert
from sidecar.db.models import (
    AuthorNotice,
    Base,
    FindingAllowance,
    FindingStatus,
    PostFinding,
    PostScan,
)
from sidecar.forum.port import FlagType, ForumClient, ForumError, ForumPost, NotFound
from sidecar.scanner import Finding, Scanner

log = logging.getLogger(__name__)

SIDECAR = "sidecar"
SMALL_ACTION, WHISPER = 3, 4

LABELS = {
    "CREDIT_CARD": "a payment card number",
    "US_SSN": "a US Social Security number",
    "CA_SIN": "a Canadian Social Insurance Number",
    "IBAN": "a bank account number (IBAN)",
    "ABA_ROUTING": "a bank routing number",
    "BANK_ACCOUNT": "a bank account number",
    "EMAIL": "a personal email address",
    "PHONE": "a personal phone number",
    "DOB": "a date of birth",
    "ADDRESS": "a street address",
    "IP_ADDRESS": "a network address",
    "PASSWORD": "a password",
    "SIP_CREDENTIAL": "a SIP account password",
    "PRIVATE_KEY": "a private key",
    "API_KEY": "an API key or secret token",
    "BEARER_TOKEN": "an access token",
}


@dataclass(frozen=True)
class PostVersion:
    """What a post event says about the post (the text may be absent: a topic event, a redacted body)."""

    id: int
    topic_id: int | None
    post_number: int | None
    version: int
    user_id: int | None
    username: str | None
    raw: str | None
    post_type: int = 1
    private_message: bool = False
    deleted: bool = False
    topic_title: str | None = None
    post_url: str | None = None


@dataclass(frozen=True)
class ScanOutcome:
    post_id: int
    version: int | None
    result: str  # skipped:<why>, duplicate, clean, acted, gone
    findings: int = 0
    pm_sent: bool = False
    flagged: bool = False


@dataclass(frozen=True)
class _Open:
    """An open finding as the actions need it (read in the transaction that stored it)."""

    id: int
    type: str
    severity: str
    preview: str
    notified_at: datetime | None
    flagged_at: datetime | None


@dataclass(frozen=True)
class _Opened:
    """A finding this version opened (new, or back after an edit had resolved it), as the audit names it."""

    id: int
    type: str
    severity: str


@dataclass(frozen=True)
class _Known:
    """A finding of the post already stored, as recording a version needs it."""

    id: int
    type: str
    severity: str
    last_version: int
    status: str


@dataclass(frozen=True)
class _Window:
    """The author's message window, taken for this message: when, and the message before it (if any)."""

    user_id: int
    taken_at: datetime
    previous: datetime | None


@dataclass(frozen=True)
class _Plan:
    untold: list[_Open]  # to name in the author's message (empty: no message)
    unflagged: list[_Open]  # to flag for the moderators (empty: no flag)
    window: _Window | None = None  # taken for the message; given back if the forum refuses it


class FindingsService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        config: Config,
        scanner: Scanner,
        forum: ForumClient | None,
        record_with_outcome: Callable[[Callable[[Session], object]], None] | None = None,
    ) -> None:
        """``record_with_outcome``: where the worker runs this, a clean version, and a version acted on, are
        marked done in the transaction that marks the delivery done instead of one of their own."""
        self._record_with_outcome = record_with_outcome
        self._sessions = sessions
        self._clock = clock
        self._config = config
        self._settings = config.scanning
        self._scanner = scanner
        self._forum = forum
        self._last_scan: tuple[str, int | None, list[Finding]] | None = None

    # --- events

    def on_post(self, post: PostVersion) -> ScanOutcome:
        why = self._skip(post)
        if why is not None:
            return ScanOutcome(post.id, post.version, f"skipped:{why}")
        if post.raw is not None and not self._scan(post.raw, post.user_id):
            # Recording a clean version again changes nothing: no need to ask first whether it was.
            self._record_clean(post.id, post.version)
            return ScanOutcome(post.id, post.version, "clean")
        if self._scanned(post.id, post.version):
            return ScanOutcome(post.id, post.version, "duplicate")
        # Findings in the payload (or no text in it): act on what the post says now, not what it said.
        try:
            current = self._require_forum().get_post(post.id)
        except NotFound:
            self.on_post_destroyed(post.id)
            return ScanOutcome(post.id, None, "gone")
        return self.on_current_post(self._merge(post, current))

    def on_topic_edited(self, topic_id: int, title: str | None = None) -> ScanOutcome:
        """A topic payload has no text: read the first post, and scan it as it is now."""
        try:
            current = self._require_forum().get_topic_post(topic_id, 1)
        except NotFound:
            return ScanOutcome(0, None, "gone")
        post = PostVersion(
            id=current.id,
            topic_id=current.topic_id,
            post_number=current.post_number,
            version=current.version,
            user_id=current.user_id,
            username=current.username,
            raw=current.raw,
            deleted=current.deleted,
            topic_title=title,
        )
        why = self._skip(post)
        if why is not None:
            return ScanOutcome(post.id, post.version, f"skipped:{why}")
        return self.on_current_post(post)

    def on_post_destroyed(self, post_id: int) -> int:
        """Close the post's open findings; how many were closed."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            closed = (
                session.execute(
                    update(PostFinding)
                    .where(PostFinding.post_id == post_id, PostFinding.status == FindingStatus.OPEN)
                    .values(status=FindingStatus.POST_DELETED, updated_at=now)
                    .returning(PostFinding.id)
                )
                .scalars()
                .all()
            )
            if closed:
                audit.record(
                    session,
                    at=now,
                    actor=SIDECAR,
                    action="finding.post_deleted",
                    target=f"post:{post_id}",
                    details={"findings": list(closed)},
                )
        return len(closed)

    # --- the current version

    def on_current_post(self, post: PostVersion) -> ScanOutcome:
        """Scan the post's current text and act on it (``post.raw`` is what the forum says now)."""
        if post.deleted:
            self.on_post_destroyed(post.id)
            return ScanOutcome(post.id, post.version, "gone")
        found = self._scan(post.raw or "", post.user_id)
        if not found:
            self._record_clean(post.id, post.version)
            return ScanOutcome(post.id, post.version, "clean")
        plan = self._begin(post, found)
        if plan is None:
            return ScanOutcome(post.id, post.version, "duplicate")
        pm_sent = self._warn_author(post, plan.untold, plan.window)
        flagged = self._flag(post, plan.unflagged)
        self._finish(post)
        return ScanOutcome(post.id, post.version, "acted", len(found), pm_sent, flagged)

    def _begin(self, post: PostVersion, found: Sequence[Finding]) -> _Plan | None:
        """Record the version (``acting``) and its findings, and decide in the same transaction what they
        call for: the findings to tell the author of (the version then marked as having attempted its
        message, before it is sent) and those to flag. None when the version is done already."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            _insert_scan(session, post.id, post.version, status="acting", findings=len(found), now=now)
            conn = session.connection()
            this_scan = {"p_id": post.id, "p_version": post.version}
            scan = conn.execute(_SCAN_STATE, this_scan).one()
            if scan.status == "done":
                return None
            opened = self._store(session, post, found, now)
            if opened:
                audit.record(
                    session,
                    at=now,
                    actor=SIDECAR,
                    action="finding.opened",
                    target=f"post:{post.id}",
                    details={
                        "version": post.version,
                        "author": post.user_id,
                        "findings": [{"id": f.id, "type": f.type, "severity": f.severity} for f in opened],
                    },
                )
            open_rows = [_Open(*row) for row in conn.execute(_OPEN_OF_POST, {"post_id": post.id})]
            untold = [r for r in open_rows if r.notified_at is None and "pm" in self._actions(r.severity)]
            told = scan.pm_sent or scan.pm_attempted  # a message went, or may have (a timeout): not again
            window = None
            if told or not post.username:
                untold = []
            elif untold and post.user_id is not None:
                window = self._take_window(session, post.user_id, now)
                if window is None:
                    untold = []  # the author had a message within the window
            if untold:
                conn.execute(_PM_ATTEMPTED, this_scan)
            unflagged = [r for r in open_rows if r.flagged_at is None and "flag" in self._actions(r.severity)]
            return _Plan(untold=untold, unflagged=unflagged, window=window)

    def _take_window(self, session: Session, user_id: int, now: datetime) -> _Window | None:
        """Take the author's ``scanning.pm_window_minutes`` for a message about to go; None when a message
        within it holds it. Taken before the message is sent, in the transaction that decides to send it:
        two posts by one author decided at once (two workers on PostgreSQL) cannot both take it."""
        conn = session.connection()
        previous = conn.execute(_LAST_PM, {"user_id": user_id}).scalar_one_or_none()
        window_start = now - timedelta(minutes=self._settings.pm_window_minutes)
        if previous is not None and previous > window_start:
            return None
        taken = conn.execute(
            _window_claim(conn.dialect.name),
            {"forum_user_id": user_id, "last_pm_at": now, "window_start": window_start},
        ).first()
        return _Window(user_id, now, previous) if taken is not None else None

    def _store(
        self, session: Session, post: PostVersion, found: Sequence[Finding], now: datetime
    ) -> list[_Opened]:
        """One row per fingerprint: new ones inserted, those seen before moved to this version (and opened
        again if an edit had resolved them); those this version no longer has resolved. The findings opened
        by this version come back."""
        conn = session.connection()
        known = {
            row.fingerprint: _Known(row.id, row.type, row.severity, row.last_version, row.status)
            for row in conn.execute(_FINDINGS_OF_POST, {"post_id": post.id})
        }
        opened: list[_Opened] = []
        for finding in found:
            row = known.get(finding.fingerprint)
            if row is None:
                finding_id = conn.execute(
                    _NEW_FINDING,
                    {
                        "post_id": post.id,
                        "topic_id": post.topic_id,
                        "post_number": post.post_number,
                        "author_id": post.user_id,
                        "author_username": post.username,
                        "type": finding.type,
                        "severity": finding.severity,
                        "span_start": finding.start,
                        "span_end": finding.end,
                        "preview": finding.preview,
                        "fingerprint": finding.fingerprint,
                        "detector_version": finding.detector_version,
                        "first_version": post.version,
                        "last_version": post.version,
                        "status": FindingStatus.OPEN,
                        "first_seen_at": now,
                        "updated_at": now,
                    },
                ).scalar_one()
                opened.append(_Opened(finding_id, finding.type, finding.severity))
                # The same value twice in the text is one finding, at its last place (as an edit moves it).
                known[finding.fingerprint] = _Known(
                    finding_id, finding.type, finding.severity, post.version, FindingStatus.OPEN
                )
            elif post.version >= row.last_version:
                reopened = row.status == FindingStatus.RESOLVED_BY_EDIT  # put back by a later edit
                conn.execute(
                    _SEEN_AGAIN,
                    {
                        "f_id": row.id,
                        "f_start": finding.start,
                        "f_end": finding.end,
                        "f_version": post.version,
                        "f_status": FindingStatus.OPEN if reopened else row.status,
                        "at": now,
                    },
                )
                if reopened:
                    opened.append(_Opened(row.id, row.type, row.severity))
                status = FindingStatus.OPEN if reopened else row.status
                known[finding.fingerprint] = _Known(row.id, row.type, row.severity, post.version, status)
        # Every finding of the post is in ``known`` as this version left it: those still open that it no
        # longer contains are resolved, without reading them again.
        present = {f.fingerprint for f in found}
        gone = [
            row.id
            for fingerprint, row in known.items()
            if row.status == FindingStatus.OPEN
            and row.last_version <= post.version
            and fingerprint not in present
        ]
        self._resolve(session, post.id, post.version, gone, now)
        return opened

    def _resolve_missing(self, session: Session, post_id: int, version: int, now: datetime) -> None:
        """A clean ``version``: the post's open findings up to it are resolved by that edit."""
        # Core, built once: this runs for every clean post scanned, and most posts never had a finding.
        rows = session.connection().execute(_OPEN_UP_TO, {"post_id": post_id, "version": version})
        self._resolve(session, post_id, version, list(rows.scalars()), now)

    def _resolve(self, session: Session, post_id: int, version: int, gone: list[int], now: datetime) -> None:
        """The findings ``gone`` from ``version`` are resolved by that edit (and the audit says so)."""
        if not gone:
            return
        session.connection().execute(_RESOLVED_BY_EDIT, {"ids": gone, "at": now})
        audit.record(
            session,
            at=now,
            actor=SIDECAR,
            action="finding.resolved_by_edit",
            target=f"post:{post_id}",
            details={"version": version, "findings": gone},
        )

    def _record_clean(self, post_id: int, version: int) -> None:
        now = self._clock.now()

        def record(session: Session) -> None:
            _insert_scan(session, post_id, version, status="done", findings=0, now=now)
            self._resolve_missing(session, post_id, version, now)

        self._with_outcome(record)

    # --- the actions

    def _actions(self, severity: str) -> tuple[str, ...]:
        return tuple(getattr(self._settings.actions, severity, ()))

    def _warn_author(self, post: PostVersion, untold: Sequence[_Open], window: _Window | None) -> bool:
        """One private message for the version, about the findings the author has not been told of."""
        if not untold or not post.username:
            return False
        title = self._settings.pm_title.format(topic=post.topic_title or "the forum", username=post.username)
        lines = "\n".join(f"- {LABELS.get(row.type, row.type.lower())}: {row.preview}" for row in untold)
        body = self._settings.pm_message.format(
            username=post.username,
            post_url=self._post_link(post),
            topic=post.topic_title or "the forum",
            findings=lines,
        )

        def sent(session: Session) -> None:
            conn = session.connection()
            conn.execute(_PM_SENT, {"p_id": post.id, "p_version": post.version})
            conn.execute(_NOTIFIED, {"ids": [r.id for r in untold], "at": self._clock.now()})

        try:
            self._require_forum().send_private_message([post.username], title, body, then=sent)
        except ForumError as exc:
            if exc.status is None:
                raise  # no answer (a timeout): it may have been sent, and is not sent again
            # The forum answered with an error: nothing was sent, the delivery's retry sends it.
            with self._sessions.begin() as session:
                conn = session.connection()
                conn.execute(
                    update(PostScan)
                    .where(PostScan.post_id == post.id, PostScan.version == post.version)
                    .values(pm_attempted=False)
                )
                if window is not None:
                    _give_back(conn, window)
            raise
        return True

    def _flag(self, post: PostVersion, unflagged: Sequence[_Open]) -> bool:
        """One notify_moderators flag naming the kinds found; never again for the same finding."""
        if not unflagged:
            return False
        kinds = sorted({LABELS.get(row.type, row.type.lower()) for row in unflagged})
        hide = any("hide" in self._actions(row.severity) for row in unflagged)

        def flagged(session: Session) -> None:
            ids = [r.id for r in unflagged]
            session.connection().execute(_FLAGGED, {"ids": ids, "at": self._clock.now()})

        self._require_forum().flag_post(
            post.id,
            flag_type=FlagType.NOTIFY_MODERATORS,
            message=self._settings.flag_message.format(types=", ".join(kinds)),
            take_action=hide,
            then=flagged,
        )
        return True

    def _finish(self, post: PostVersion) -> None:
        """The version is done: with the delivery's outcome where the worker runs this."""

        def mark(session: Session) -> None:
            session.connection().execute(_SCAN_DONE, {"p_id": post.id, "p_version": post.version})

        self._with_outcome(mark)

    def _with_outcome(self, write: Callable[[Session], object]) -> None:
        """``write`` in the transaction that records the delivery's outcome where the worker runs this, else
        in a transaction of its own."""
        if self._record_with_outcome is not None:
            self._record_with_outcome(write)
            return
        with self._sessions.begin() as session:
            write(session)

    # --- pieces

    def _skip(self, post: PostVersion) -> str | None:
        api_user = self._config.forum.api_username.lower()
        if post.username is not None and post.username.lower() == api_user:
            return "own_post"
        if post.user_id is not None and post.user_id <= 0:
            return "system_post"
        if post.post_type in (SMALL_ACTION, WHISPER):
            return "whisper" if post.post_type == WHISPER else "small_action"
        if post.private_message and not self._settings.private_messages:
            return "private_message"
        if post.deleted:
            return "deleted"
        return None

    def _scan(self, raw: str, author_id: int | None) -> list[Finding]:
        """The findings in ``raw`` that ``author_id`` has no allowance for. The post read back from the forum
        is usually the payload's text: the last answer is kept, and not worked out twice."""
        if self._last_scan is not None and self._last_scan[:2] == (raw, author_id):
            return self._last_scan[2]
        found = self._allowed(self._scanner.scan(raw), author_id)
        self._last_scan = (raw, author_id, found)
        return found

    def _allowed(self, found: list[Finding], author_id: int | None) -> list[Finding]:
        if not found or author_id is None:
            return found
        with reading(self._sessions) as session:
            allowed = set(
                session.execute(
                    select(FindingAllowance.fingerprint).where(
                        FindingAllowance.forum_user_id == author_id,
                        FindingAllowance.fingerprint.in_([f.fingerprint for f in found]),
                    )
                ).scalars()
            )
        return [f for f in found if f.fingerprint not in allowed]

    def _scanned(self, post_id: int, version: int) -> bool:
        with reading(self._sessions) as session:
            scan = session.get(PostScan, (post_id, version))
            return scan is not None and scan.status == "done"

    def _merge(self, post: PostVersion, current: ForumPost) -> PostVersion:
        return PostVersion(
            id=current.id,
            topic_id=current.topic_id,
            post_number=current.post_number,
            version=current.version,
            user_id=current.user_id if current.user_id is not None else post.user_id,
            username=current.username or post.username,
            raw=current.raw,
            post_type=post.post_type,
            private_message=post.private_message,
            deleted=current.deleted,
            topic_title=post.topic_title,
            post_url=post.post_url,
        )

    def _post_link(self, post: PostVersion) -> str:
        base = self._config.forum.url.rstrip("/")
        if post.post_url:
            return f"{base}{post.post_url}" if post.post_url.startswith("/") else post.post_url
        if post.topic_id is not None and post.post_number is not None:
            return f"{base}/t/{post.topic_id}/{post.post_number}"
        return f"{base}/p/{post.id}"

    def _require_forum(self) -> ForumClient:
        if self._forum is None:
            raise RuntimeError("acting on findings needs the forum")
        return self._forum


_OPEN_UP_TO = select(PostFinding.id).where(
    PostFinding.post_id == bindparam("post_id"),
    PostFinding.status == FindingStatus.OPEN,
    PostFinding.last_version <= bindparam("version"),
)


# Recording a version's findings, built once (Core, on the session's connection).
_THIS_SCAN = (PostScan.post_id == bindparam("p_id"), PostScan.version == bindparam("p_version"))
_SCAN_STATE = (
    select(PostScan.status, PostScan.pm_sent, PostScan.pm_attempted)
    .where(*_THIS_SCAN)
    .with_for_update()  # PostgreSQL: two workers on one version decide one after the other
)
_FINDINGS_OF_POST = select(
    PostFinding.id,
    PostFinding.fingerprint,
    PostFinding.type,
    PostFinding.severity,
    PostFinding.last_version,
    PostFinding.status,
).where(PostFinding.post_id == bindparam("post_id"))
_NEW_FINDING = insert(PostFinding).returning(PostFinding.id)
_SEEN_AGAIN = (
    update(PostFinding)
    .where(PostFinding.id == bindparam("f_id"))
    .values(
        span_start=bindparam("f_start"),
        span_end=bindparam("f_end"),
        last_version=bindparam("f_version"),
        status=bindparam("f_status"),
        updated_at=bindparam("at"),
    )
)
_RESOLVED_BY_EDIT = (
    update(PostFinding)
    .where(PostFinding.id.in_(bindparam("ids", expanding=True)))
    .values(status=FindingStatus.RESOLVED_BY_EDIT, updated_at=bindparam("at"))
)
# The open findings as the actions need them, in the order of the text.
_OPEN_OF_POST = (
    select(
        PostFinding.id,
        PostFinding.type,
        PostFinding.severity,
        PostFinding.preview,
        PostFinding.notified_at,
        PostFinding.flagged_at,
    )
    .where(PostFinding.post_id == bindparam("post_id"), PostFinding.status == FindingStatus.OPEN)
    .order_by(PostFinding.span_start)
)

# The writes around a warning, built once (Core, on the session's connection).
_PM_SENT = update(PostScan).where(*_THIS_SCAN).values(pm_sent=True)
_PM_ATTEMPTED = update(PostScan).where(*_THIS_SCAN).values(pm_attempted=True)
_SCAN_DONE = update(PostScan).where(*_THIS_SCAN).values(status="done")
_NOTIFIED = (
    update(PostFinding)
    .where(PostFinding.id.in_(bindparam("ids", expanding=True)))
    .values(notified_at=bindparam("at"))
)
_FLAGGED = (
    update(PostFinding)
    .where(PostFinding.id.in_(bindparam("ids", expanding=True)))
    .values(flagged_at=bindparam("at"))
)


_LAST_PM = select(AuthorNotice.last_pm_at).where(AuthorNotice.forum_user_id == bindparam("user_id"))


@functools.cache
def _window_claim(dialect_name: str) -> Insert:
    """The author's window taken: the row inserted, or moved on where the last message is at least a window
    old. A row comes back only when this statement took it: atomic on both backends (SQLite has one writer;
    PostgreSQL locks the row in conflict and checks the condition on its newest version)."""
    table = Base.metadata.tables[AuthorNotice.__tablename__]
    window_start = bindparam("window_start", type_=AuthorNotice.last_pm_at.type)
    return upsert(
        dialect_name, table, ["forum_user_id"], ["last_pm_at"], where=table.c.last_pm_at <= window_start
    ).returning(table.c.forum_user_id)


def _give_back(conn: Connection, window: _Window) -> None:
    """The message was refused: the window goes back to the message before it (if nothing took it since)."""
    table = Base.metadata.tables[AuthorNotice.__tablename__]
    mine = (table.c.forum_user_id == window.user_id, table.c.last_pm_at == window.taken_at)
    if window.previous is None:
        conn.execute(delete(table).where(*mine))
    else:
        conn.execute(update(table).where(*mine).values(last_pm_at=window.previous))


@functools.cache
def _scan_insert(dialect_name: str) -> Insert:
    """Built once per dialect: the worker records a version for every post it scans."""
    return insert_or_ignore(dialect_name, Base.metadata.tables[PostScan.__tablename__])


def _insert_scan(
    session: Session, post_id: int, version: int, *, status: str, findings: int, now: datetime
) -> None:
    """The version's ``post_scans`` row, unless it is there already."""
    conn = session.connection()
    conn.execute(
        _scan_insert(conn.dialect.name),
        {
            "post_id": post_id,
            "version": version,
            "status": status,
            "findings": findings,
            "pm_attempted": False,
            "pm_sent": False,
            "scanned_at": now,
        },
    )
