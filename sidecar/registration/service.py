"""Acting on registration decisions: re-read the forum, decide, change the forum, record it.

Every entry point re-reads the account from the forum first (webhook payloads are stale snapshots), and is
idempotent: a replayed event finds the forum already as it should be and sends nothing; only a changed
decision writes an audit entry. No database transaction is held across a forum call.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sidecar import audit
from sidecar.clock import Clock
from sidecar.config import Config
from sidecar.db.models import ConsentEvent, ForumLink, Registration
from sidecar.forum.port import Forbidden, ForumClient, ForumUser, NotFound
from sidecar.membership import repository
from sidecar.membership.addresses import normalize_email
from sidecar.membership.eligibility import MembershipRules
from sidecar.membership.eligibility import decide as eligibility
from sidecar.membership.records import MemberRecord, OrganizationStatus
from sidecar.registration.decide import Applicant, Candidate, Decision, Ineligible, Rules, Verdict, decide

log = logging.getLogger(__name__)

SIDECAR = "sidecar"


class RegistrationStatus:
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    APPROVED = "approved"
    HELD = "held"
    REJECTED = "rejected"
    LEFT_ALONE = "left_alone"
    MISMATCH = "mismatch"
    GONE = "gone"


_STATUS_OF = {
    Verdict.LEAVE_ALONE: RegistrationStatus.LEFT_ALONE,
    Verdict.AWAIT_CONFIRMATION: RegistrationStatus.AWAITING_CONFIRMATION,
    Verdict.APPROVE: RegistrationStatus.APPROVED,
    Verdict.LINK_APPROVED: RegistrationStatus.APPROVED,
    Verdict.HOLD: RegistrationStatus.HELD,
    Verdict.REJECT: RegistrationStatus.REJECTED,
    Verdict.MISMATCH: RegistrationStatus.MISMATCH,
}


class ReviewRefused(Exception):
    """A staff action that cannot be taken (not an admin, no such member or registration)."""


@dataclass(frozen=True)
class Outcome:
    forum_user_id: int
    status: str
    reason: str
    member_number: str | None
    changed: bool


class RegistrationService:
    def __init__(
        self, *, sessions: sessionmaker[Session], clock: Clock, config: Config, forum: ForumClient
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._config = config
        self._forum = forum
        settings = config.registration
        self._rules = Rules(
            api_username=config.forum.api_username,
            ineligible=Ineligible(settings.ineligible),
            approve_on_domain=settings.approve_on_domain,
        )
        membership = config.membership
        self._membership = MembershipRules.from_settings(
            accepted_statuses=membership.accepted_statuses,
            grace_days=membership.grace_days,
            individual_memberships=membership.individual_memberships,
        )

    # --- the sidecar's own decisions

    def evaluate(self, forum_user_id: int, *, cause: str) -> Outcome | None:
        """Decide and act for one account; None when the account no longer exists on the forum."""
        try:
            user = self._forum.get_user(forum_user_id)
        except NotFound:
            self._forget(forum_user_id, cause)
            return None
        decision = self._staff_approval(user) or self._decide(self._applicant(user))
        if decision.verdict == Verdict.APPROVE:
            self._approve(user)
        if decision.verdict in (Verdict.APPROVE, Verdict.LINK_APPROVED):
            self._grant(user, decision.member_number, cause)
        if decision.verdict == Verdict.REJECT:
            self._forum.reject_user(user.id)
        if decision.verdict == Verdict.MISMATCH:
            log.warning(
                "an account the forum approved is not eligible",
                extra={"forum_user_id": user.id, "reason": decision.reason},
            )
        return self._store(user, decision, actor=SIDECAR, cause=cause)

    def _staff_approval(self, user: ForumUser) -> Decision | None:
        """A staff approval of an account the forum shows approved stands: re-deciding it from the data would
        call it a mismatch (staff approve exactly what the data could not), e.g. on its own user_approved."""
        if not user.approved:
            return None
        with self._sessions() as session:
            row = session.get(Registration, user.id)
            if row is None or row.decided_by == SIDECAR or row.status != RegistrationStatus.APPROVED:
                return None
            return Decision(Verdict.LINK_APPROVED, row.reason, row.member_number, row.suggested_org)

    def sweep_pending(self, *, cause: str) -> int:
        """Evaluate every account the forum holds as pending that the sidecar has not settled.

        Recovers lost webhooks: an account whose user_created or user_confirmed_email never arrived is
        found here. Accounts already approved, refused or left alone are not read again.
        """
        with self._sessions() as session:
            settled = set(
                session.execute(
                    select(Registration.forum_user_id).where(
                        Registration.status.in_(
                            (
                                RegistrationStatus.APPROVED,
                                RegistrationStatus.REJECTED,
                                RegistrationStatus.LEFT_ALONE,
                            )
                        )
                    )
                ).scalars()
            )
        # The whole list first: each approval takes an account off it, so paging while approving would
        # shift every later page and skip the accounts at its start.
        pending = [u.id for u in self._forum.iter_users("pending")]
        count = 0
        for user_id in pending:
            if user_id <= 0 or user_id in settled:
                continue  # ids below 1 are Discourse's own system accounts
            self.evaluate(user_id, cause=cause)
            count += 1
        return count

    # --- staff decisions (the review queue)

    def staff_approve(self, forum_user_id: int, member_number: str, *, actor: str) -> Outcome:
        self._require_admin(actor)
        with self._sessions() as session:
            member = repository.find_member(session, member_number)
        if member is None:
            raise ReviewRefused(f"no member {member_number}")
        try:
            user = self._forum.get_user(forum_user_id)
        except NotFound:
            raise ReviewRefused(f"forum user {forum_user_id} does not exist (any more)") from None
        cause = f"staff:{actor}"
        forum = self._forum.with_cause(cause)  # the forum-action log says who decided
        self._approve(user, forum)
        self._grant(user, member.member_number, cause, forum)
        decision = Decision(Verdict.APPROVE, "approved_by_staff", member.member_number)
        return self._store(user, decision, actor=actor, cause=cause)

    def staff_reject(self, forum_user_id: int, reason: str, *, actor: str) -> Outcome:
        self._require_admin(actor)
        if not reason.strip():
            raise ReviewRefused("a reason is required")
        try:
            user = self._forum.get_user(forum_user_id)
        except NotFound:
            raise ReviewRefused(f"forum user {forum_user_id} does not exist (any more)") from None
        if user.approved:
            raise ReviewRefused(
                f"{user.username} is approved already: that is the termination sweep's business"
            )
        cause = f"staff:{actor}"
        self._forum.with_cause(cause).reject_user(user.id)
        decision = Decision(Verdict.REJECT, reason.strip()[:60])
        return self._store(user, decision, actor=actor, cause=cause)

    def _require_admin(self, actor: str) -> None:
        user = self._forum.find_user_by_username(actor)
        if user is None or not user.admin:
            raise ReviewRefused(f"{actor!r} is not an admin of the forum")

    # --- pieces

    def _applicant(self, user: ForumUser) -> Applicant:
        field = self._config.registration.member_number_field
        number = user.user_fields.get(field) if field else None
        return Applicant(
            user_id=user.id,
            username=user.username,
            emails=frozenset(normalize_email(e) for e in user.emails),
            active=user.active,
            approved=user.approved,
            staff=user.staff,
            staged=user.staged,
            member_number=number.strip() if number and number.strip() else None,
        )

    def _decide(self, applicant: Applicant) -> Decision:
        today = self._clock.now().date()
        with self._sessions() as session:
            by_email = None
            for email in sorted(applicant.emails):
                found = repository.find_member_by_email(session, email)
                if found is not None:
                    by_email = self._candidate(session, found, today)
                    break
            by_number = None
            if applicant.member_number:
                found = repository.find_member(session, applicant.member_number)
                by_number = self._candidate(session, found, today) if found is not None else None
            domain_org = None
            for email in sorted(applicant.emails):
                org = repository.find_organization_for_email(session, email)
                if org is not None and org.status == OrganizationStatus.ACTIVE:
                    domain_org = org.org_id
                    break
        return decide(
            applicant,
            by_email=by_email,
            by_number=by_number,
            domain_organization=domain_org,
            rules=self._rules,
        )

    def _candidate(self, session: Session, member: MemberRecord, today: date) -> Candidate:
        organization = repository.get_organization(session, member.org_id) if member.org_id else None
        result = eligibility(member, organization, self._membership, today)
        return Candidate(member.member_number, frozenset(member.emails), result.eligible, result.reason.value)

    def _approve(self, user: ForumUser, forum: ForumClient | None = None) -> None:
        if user.approved is None or user.approved:
            return  # approved already, or the forum does not ask for approval (must_approve_users off)
        forum = forum or self._forum
        try:
            forum.approve_user(user.id)
        except Forbidden:
            # 403 unless active and unapproved: re-read to tell "approved meanwhile" from a refusal.
            if not forum.get_user(user.id).approved:
                raise

    def _grant(
        self, user: ForumUser, member_number: str | None, cause: str, forum: ForumClient | None = None
    ) -> None:
        """Add the member groups the account lacks, and remember which ones the sidecar granted.

        What was granted is remembered even when a later group fails: the next run finds those groups
        present and would otherwise never know the sidecar added them (and so never remove them).
        """
        forum = forum or self._forum
        present = {g.name for g in user.groups}
        granted: list[str] = []
        try:
            for group in self._config.registration.member_groups:
                if group not in present:
                    forum.add_group_members(group, [user.username])
                    granted.append(group)
        except Exception:
            if granted:
                self._link(user, member_number, granted, cause)
            raise
        self._link(user, member_number, granted, cause)

    def _link(self, user: ForumUser, member_number: str | None, granted: list[str], cause: str) -> None:
        now = self._clock.now()
        with self._sessions.begin() as session:
            link = session.get(ForumLink, user.id)
            if link is None:
                link = ForumLink(forum_user_id=user.id, linked_at=now, granted_groups="[]")
                session.add(link)
            link.member_number = member_number
            link.username = user.username
            link.email = normalize_email(user.email) if user.email else None
            link.granted_groups = json.dumps(sorted(set(json.loads(link.granted_groups)) | set(granted)))
            consented = session.execute(
                select(ConsentEvent.id).where(
                    ConsentEvent.forum_user_id == user.id, ConsentEvent.purpose == "registration"
                )
            ).first()
            if consented is None:
                # The sign-up form is where the member agreed to the policy in force (a minimal record).
                session.add(
                    ConsentEvent(
                        at=now,
                        forum_user_id=user.id,
                        member_number=member_number,
                        policy_version=self._config.registration.policy_version,
                        purpose="registration",
                        choice="given",
                        source=cause,
                    )
                )

    def _store(self, user: ForumUser, decision: Decision, *, actor: str, cause: str) -> Outcome:
        status = _STATUS_OF[decision.verdict]
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = session.get(Registration, user.id)
            before = None if row is None else (row.status, row.reason, row.member_number)
            if row is None:
                row = Registration(forum_user_id=user.id, first_seen_at=now)
                session.add(row)
            row.username = user.username
            row.email = normalize_email(user.email) if user.email else None
            changed = before != (status, decision.reason, decision.member_number)
            if changed:
                row.status = status
                row.reason = decision.reason
                row.member_number = decision.member_number
                row.suggested_org = decision.suggested_organization
                row.decided_by = actor
                row.decided_at = now
                audit.record(
                    session,
                    at=now,
                    actor=actor,
                    action=f"registration.{status}",
                    target=f"forum_user:{user.id}",
                    details={
                        "reason": decision.reason,
                        "member_number": decision.member_number,
                        "suggested_organization": decision.suggested_organization,
                        "cause": cause,
                    },
                )
        return Outcome(user.id, status, decision.reason, decision.member_number, changed)

    def _forget(self, forum_user_id: int, cause: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(Registration, forum_user_id)
            # A refused account is meant to be gone: a late event for it must not hide who refused it and why.
            if row is not None and row.status not in (RegistrationStatus.GONE, RegistrationStatus.REJECTED):
                row.status = RegistrationStatus.GONE
                row.decided_at = self._clock.now()
                audit.record(
                    session,
                    at=row.decided_at,
                    actor=SIDECAR,
                    action="registration.gone",
                    target=f"forum_user:{forum_user_id}",
                    details={"cause": cause},
                )
