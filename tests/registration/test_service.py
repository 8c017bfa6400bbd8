"""RegistrationService in-process: the simulated forum under ``responses``, a fixed clock, a real database.

Every test states the final state on both sides: the forum (approved, groups, deleted) and the sidecar's
records (registrations, forum links, consent, audit entries, forum actions).
"""

from __future__ import annotations

import json

import pytest

from sidecar.clock import FixedClock
from sidecar.forum import discourse
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.port import NotFound
from sidecar.forum.simulator import DiscourseSimulator, routes_admin_users
from sidecar.registration.service import ReviewRefused
from sidecar.runtime import Runtime
from tests.registration.conftest import (
    ANN,
    DORA,
    GUS,
    TERRY,
    ZED,
    consents,
    forum_actions,
    import_standard_membership,
    links,
    registration_audit,
    registrations,
    service_for,
    statuses,
    writes,
)


@pytest.fixture(autouse=True)
def membership(runtime: Runtime) -> None:
    import_standard_membership(runtime)


def signed_up(sim: DiscourseSimulator, who: tuple[str, str, str | None], *, confirmed: bool = True) -> int:
    username, email, _ = who
    user = sim.sign_up(username, email)
    if confirmed:
        sim.confirm_email(user.id)
    return user.id


def in_members(sim: DiscourseSimulator, user_id: int) -> bool:
    return user_id in {u.id for u in sim.group_members("members")}


# --- the decision acted on ---------------------------------------------------------------------------------


def test_an_eligible_member_waits_for_confirmation_then_is_approved_linked_and_added(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    service = service_for(runtime, forum)
    user_id = signed_up(sim, ANN, confirmed=False)

    waiting = service.evaluate(user_id, cause="delivery:1")
    assert waiting is not None
    assert (waiting.status, waiting.reason, waiting.changed) == (
        "awaiting_confirmation",
        "email_unverified",
        True,
    )
    assert writes(sim) == []
    assert not sim.user(user_id).approved

    sim.confirm_email(user_id)
    outcome = service.evaluate(user_id, cause="delivery:2")
    assert outcome is not None
    assert (outcome.status, outcome.reason, outcome.member_number) == ("approved", "eligible_member", "M1")
    assert sim.user(user_id).approved
    assert in_members(sim, user_id)
    assert statuses(runtime) == {"ann": ("approved", "eligible_member", "M1", None)}
    assert links(runtime) == {"ann": ("M1", '["members"]')}
    assert [(a, action) for a, action, _, _ in registration_audit(runtime)] == [
        ("sidecar", "registration.awaiting_confirmation"),
        ("sidecar", "registration.approved"),
    ]
    assert [(a, o, c) for a, _, o, c in forum_actions(runtime)] == [
        ("approve_user", "done", "test"),
        ("add_group_members", "done", "test"),
    ]


def test_replaying_evaluate_sends_nothing_and_audits_nothing(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    service = service_for(runtime, forum)
    ann = signed_up(sim, ANN)
    zed = signed_up(sim, ZED)
    for user_id in (ann, zed):
        service.evaluate(user_id, cause="delivery:1")
    sent, audited, logged = writes(sim), registration_audit(runtime), forum_actions(runtime)
    assert [(m, p) for m, p, _ in sent] == [
        ("PUT", f"/admin/users/{ann}/approve.json"),
        ("PUT", f"/groups/{sim.group('members').id}/members.json"),
    ]

    for attempt in range(3):
        for user_id in (ann, zed):
            outcome = service.evaluate(user_id, cause=f"delivery:{attempt + 2}")
            assert outcome is not None
            assert not outcome.changed

    assert writes(sim) == sent  # no approve, no group change, no delete
    assert registration_audit(runtime) == audited
    assert forum_actions(runtime) == logged
    assert len(consents(runtime)) == 1
    assert statuses(runtime) == {
        "ann": ("approved", "eligible_member", "M1", None),
        "zed": ("held", "member_not_found", None, None),
    }


def test_the_consent_record_carries_the_policy_version_and_is_written_once(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, clock: FixedClock
) -> None:
    ann = signed_up(sim, ANN)
    service_for(runtime, forum, registration={"policy_version": "2026-11"}).evaluate(ann, cause="delivery:7")
    clock.advance(3600)
    # Replayed under a newer policy: the consent given at sign-up stands, no second record.
    service_for(runtime, forum, registration={"policy_version": "2027-01"}).evaluate(ann, cause="delivery:8")

    [consent] = consents(runtime)
    assert consent.forum_user_id == ann
    assert consent.member_number == "M1"
    assert consent.policy_version == "2026-11"
    assert (consent.purpose, consent.choice, consent.source) == ("registration", "given", "delivery:7")


# --- the member number field ------------------------------------------------------------------------------


@pytest.fixture
def number_field(sim: DiscourseSimulator) -> str:
    return str(sim.add_user_field("Member number").id)


def test_the_member_number_names_the_member_when_an_email_is_theirs(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, number_field: str
) -> None:
    # Pat's primary address is the individual membership's; the ACME address (a terminated membership)
    # sorts first, so by email alone Pat is held; the number picks the membership Pat means.
    by_email = sim.sign_up("pat", "pat@home.test")
    sim.update_user(by_email.id, secondary_emails=["pat@acme.test"])
    sim.confirm_email(by_email.id)
    service = service_for(runtime, forum, registration={"member_number_field": number_field})
    held = service.evaluate(by_email.id, cause="delivery:1")
    assert held is not None
    assert (held.status, held.reason, held.member_number) == ("held", "member_terminated", "M7")

    sim.update_user(by_email.id, user_fields={number_field: "  M8 "})
    approved = service.evaluate(by_email.id, cause="delivery:2")
    assert approved is not None
    assert (approved.status, approved.reason, approved.member_number) == ("approved", "eligible_member", "M8")
    assert sim.user(by_email.id).approved
    assert links(runtime) == {"pat": ("M8", '["members"]')}


def test_a_member_number_with_none_of_the_members_emails_is_held_not_refused(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, number_field: str
) -> None:
    impostor = sim.sign_up("notann", "someone@nowhere.test", user_fields={number_field: "M1"})
    sim.confirm_email(impostor.id)
    service = service_for(
        runtime, forum, registration={"member_number_field": number_field, "ineligible": "reject"}
    )
    outcome = service.evaluate(impostor.id, cause="delivery:1")
    assert outcome is not None
    assert (outcome.status, outcome.reason, outcome.member_number) == (
        "held",
        "member_number_email_mismatch",
        "M1",
    )
    assert not sim.user(impostor.id).approved  # held, even though ineligible sign-ups are rejected
    assert writes(sim) == []
    assert links(runtime) == {}
    assert consents(runtime) == []


def test_an_unknown_member_number_falls_back_to_the_email(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, number_field: str
) -> None:
    ann = sim.sign_up("ann", "ann@acme.test", user_fields={number_field: "M-TYPO"})
    sim.confirm_email(ann.id)
    outcome = service_for(runtime, forum, registration={"member_number_field": number_field}).evaluate(
        ann.id, cause="delivery:1"
    )
    assert outcome is not None
    assert (outcome.status, outcome.member_number) == ("approved", "M1")


def test_without_the_field_configured_a_typed_number_is_ignored(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, number_field: str
) -> None:
    someone = sim.sign_up("someone", "someone@nowhere.test", user_fields={number_field: "M1"})
    sim.confirm_email(someone.id)
    outcome = service_for(runtime, forum).evaluate(someone.id, cause="delivery:1")
    assert outcome is not None
    assert (outcome.status, outcome.reason, outcome.member_number) == ("held", "member_not_found", None)


# --- organizations' domains -------------------------------------------------------------------------------


def test_a_domain_match_is_held_with_the_organization_suggested(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    dora = signed_up(sim, DORA)
    gus_domain = sim.sign_up("greta", "greta@globex.test")  # GLOBEX lapsed: its domain vouches for nobody
    sim.confirm_email(gus_domain.id)
    service = service_for(runtime, forum)
    service.evaluate(dora, cause="delivery:1")
    service.evaluate(gus_domain.id, cause="delivery:2")
    assert statuses(runtime) == {
        "dora": ("held", "organization_domain_match", None, "ACME"),
        "greta": ("held", "member_not_found", None, None),
    }
    assert writes(sim) == []
    [(_, action, target, details), _] = registration_audit(runtime)
    assert (action, target, details["suggested_organization"]) == (
        "registration.held",
        f"forum_user:{dora}",
        "ACME",
    )


def test_approve_on_domain_approves_a_domain_match_linked_to_no_member(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    dora = signed_up(sim, DORA)
    outcome = service_for(runtime, forum, registration={"approve_on_domain": True}).evaluate(
        dora, cause="delivery:1"
    )
    assert outcome is not None
    assert (outcome.status, outcome.reason, outcome.member_number) == (
        "approved",
        "organization_domain",
        None,
    )
    assert sim.user(dora).approved
    assert in_members(sim, dora)
    assert statuses(runtime) == {"dora": ("approved", "organization_domain", None, "ACME")}
    assert links(runtime) == {"dora": (None, '["members"]')}
    [consent] = consents(runtime)
    assert consent.member_number is None


# --- ineligible sign-ups ----------------------------------------------------------------------------------


def test_ineligible_sign_ups_are_held_by_default(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    service = service_for(runtime, forum)
    for who in (TERRY, GUS, ZED):
        service.evaluate(signed_up(sim, who), cause="delivery:1")
    assert statuses(runtime) == {
        "terry": ("held", "member_terminated", "M3", None),
        "gus": ("held", "organization_lapsed", "M4", None),
        "zed": ("held", "member_not_found", None, None),
    }
    assert writes(sim) == []
    assert all(not u.approved for u in sim.real_users() if u.username != "admin")


def test_rejecting_deletes_the_pending_account_and_a_late_event_leaves_it_rejected(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    service = service_for(runtime, forum, registration={"ineligible": "reject"})
    zed = signed_up(sim, ZED, confirmed=False)
    outcome = service.evaluate(zed, cause="delivery:1")
    assert outcome is not None
    assert (outcome.status, outcome.reason) == ("rejected", "member_not_found")
    assert sim.find_user(username="zed") is None
    assert [(a, t, o) for a, t, o, _ in forum_actions(runtime)] == [("reject_user", f"user:{zed}", "done")]

    # The user_confirmed_email sent before the deletion arrives afterwards: the account is gone, as the
    # sidecar meant; the registration still says it was rejected, and why.
    assert service.evaluate(zed, cause="delivery:2") is None
    assert statuses(runtime) == {"zed": ("rejected", "member_not_found", None, None)}
    assert [action for _, action, _, _ in registration_audit(runtime)] == ["registration.rejected"]


def test_an_account_deleted_on_the_forum_is_marked_gone_once(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    service = service_for(runtime, forum)
    zed = signed_up(sim, ZED)
    service.evaluate(zed, cause="delivery:1")
    sim.destroy_user(zed)
    assert service.evaluate(zed, cause="delivery:2") is None
    assert service.evaluate(zed, cause="delivery:3") is None
    assert statuses(runtime)["zed"][0] == "gone"
    assert [action for _, action, _, _ in registration_audit(runtime)] == [
        "registration.held",
        "registration.gone",
    ]


def test_an_admin_approving_an_ineligible_account_is_reported_not_reverted(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    service = service_for(runtime, forum, registration={"ineligible": "reject"})
    terry = signed_up(sim, TERRY, confirmed=False)
    sim.update_user(terry, active=True)  # confirmed while the sidecar was not looking
    sim.approve_user(terry, actor=sim.find_user(username="admin"))
    sent = writes(sim)

    outcome = service.evaluate(terry, cause="delivery:9")  # the user_approved webhook
    assert outcome is not None
    assert (outcome.status, outcome.reason, outcome.member_number) == ("mismatch", "member_terminated", "M3")
    assert sim.user(terry).approved  # not reverted: not deleted, not suspended
    assert not in_members(sim, terry)
    assert writes(sim) == sent
    assert forum_actions(runtime) == []
    assert links(runtime) == {}
    [(actor, action, target, details)] = registration_audit(runtime)
    assert (actor, action, target) == ("sidecar", "registration.mismatch", f"forum_user:{terry}")
    assert details == {
        "cause": "delivery:9",
        "member_number": "M3",
        "reason": "member_terminated",
        "suggested_organization": None,
    }
    again = service.evaluate(terry, cause="delivery:10")
    assert again is not None
    assert not again.changed
    assert len(registration_audit(runtime)) == 1


def test_staff_and_staged_accounts_are_left_alone(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    moderator = sim.create_user("mod", "ann@acme.test", moderator=True)  # even with a member's address
    staged = sim.create_user("stagey", "stagey@acme.test", staged=True, active=False, approved=False)
    service = service_for(runtime, forum)
    service.evaluate(moderator.id, cause="delivery:1")
    service.evaluate(staged.id, cause="delivery:2")
    assert statuses(runtime) == {
        "mod": ("left_alone", "staff", None, None),
        "stagey": ("left_alone", "staged", None, None),
    }
    assert writes(sim) == []
    assert links(runtime) == {}
    assert not sim.user(staged.id).approved


# --- failures in the middle -------------------------------------------------------------------------------


def test_a_failure_after_the_approval_is_finished_on_the_next_run_without_a_second_approval(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    ann = signed_up(sim, ANN)
    service = service_for(runtime, forum, registration={"member_groups": ("members", "newcomers")})
    with pytest.raises(NotFound):
        service.evaluate(ann, cause="delivery:1")  # the group "newcomers" does not exist (yet)
    assert sim.user(ann).approved
    assert statuses(runtime) == {}  # nothing recorded as decided: the delivery is retried
    sim.create_group("newcomers")

    outcome = service.evaluate(ann, cause="delivery:1")
    assert outcome is not None
    assert (outcome.status, outcome.member_number) == ("approved", "M1")
    assert in_members(sim, ann)
    assert ann in {u.id for u in sim.group_members("newcomers")}
    approvals = [w for w in writes(sim) if w[1] == f"/admin/users/{ann}/approve.json"]
    assert approvals == [("PUT", f"/admin/users/{ann}/approve.json", 200)]
    assert json.loads(links(runtime)["ann"][1]) == ["members", "newcomers"]
    assert len(consents(runtime)) == 1


def test_an_approval_someone_else_made_meanwhile_is_not_a_failure(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    ann = signed_up(sim, ANN)
    service = service_for(runtime, forum)
    stale = forum.get_user(ann)
    sim.approve_user(ann)  # between the sidecar's read and its approval
    service._approve(stale)  # 403 from the forum, re-read: approved, so nothing to do
    assert sim.user(ann).approved


# --- the sweep of pending accounts ------------------------------------------------------------------------


def test_the_sweep_decides_pending_accounts_it_never_heard_of_and_skips_settled_ones(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    service = service_for(runtime, forum)
    ann = signed_up(sim, ANN)  # confirmed, but no webhook ever reached the sidecar
    zed = signed_up(sim, ZED)
    signed_up(sim, DORA, confirmed=False)  # not pending yet: the forum lists active accounts only

    assert service.sweep_pending(cause="job:pending-registrations:1") == 2
    assert statuses(runtime) == {
        "ann": ("approved", "eligible_member", "M1", None),
        "zed": ("held", "member_not_found", None, None),
    }
    assert sim.user(ann).approved
    [consent] = consents(runtime)
    assert consent.source == "job:pending-registrations:1"

    before = len(sim.requests)
    # Held accounts are looked at again (the membership data may have changed); approved ones are not.
    assert service.sweep_pending(cause="job:pending-registrations:2") == 1
    assert {r.path for r in sim.requests[before:]} == {
        "/admin/users/list/pending.json",
        f"/admin/users/{zed}.json",
        "/u/zed/emails.json",
    }
    assert registration_audit(runtime)[-1][3]["cause"] == "job:pending-registrations:1"


# --- staff decisions --------------------------------------------------------------------------------------


def test_a_staff_approval_stands_when_the_forum_echoes_it_back(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    service = service_for(runtime, forum)
    dora = signed_up(sim, DORA)
    service.evaluate(dora, cause="delivery:1")
    staff = service.staff_approve(dora, "M1", actor="admin")  # Ann's second address, staff say
    assert (staff.status, staff.reason, staff.member_number) == ("approved", "approved_by_staff", "M1")
    audited = registration_audit(runtime)

    # The user_approved webhook the approval fired, and the sweep, must not turn it into a mismatch.
    again = service.evaluate(dora, cause="delivery:2")
    assert again is not None
    assert (again.status, again.changed) == ("approved", False)
    assert statuses(runtime) == {"dora": ("approved", "approved_by_staff", "M1", None)}
    assert registrations(runtime)["dora"].decided_by == "admin"
    assert links(runtime) == {"dora": ("M1", '["members"]')}
    assert registration_audit(runtime) == audited
    assert [(a, c) for a, _, _, c in forum_actions(runtime)] == [
        ("approve_user", "staff:admin"),
        ("add_group_members", "staff:admin"),
    ]


def test_staff_decisions_need_an_admin_and_refuse_what_cannot_be_done(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime
) -> None:
    sim.create_user("mod", "mod@forum.test", moderator=True)
    service = service_for(runtime, forum)
    zed = signed_up(sim, ZED)
    ann = signed_up(sim, ANN)
    service.evaluate(zed, cause="delivery:1")
    service.evaluate(ann, cause="delivery:2")
    audited = registration_audit(runtime)
    with pytest.raises(ReviewRefused, match="not an admin"):
        service.staff_approve(zed, "M1", actor="mod")
    with pytest.raises(ReviewRefused, match="not an admin"):
        service.staff_reject(zed, "spam", actor="nobody-here")
    with pytest.raises(ReviewRefused, match="no member"):
        service.staff_approve(zed, "M404", actor="admin")
    with pytest.raises(ReviewRefused, match="reason"):
        service.staff_reject(zed, "  ", actor="admin")
    with pytest.raises(ReviewRefused, match="approved already"):
        service.staff_reject(ann, "changed my mind", actor="admin")
    with pytest.raises(ReviewRefused, match="does not exist"):
        service.staff_reject(9999, "gone", actor="admin")
    assert registration_audit(runtime) == audited
    assert not sim.user(zed).approved
    assert statuses(runtime)["zed"] == ("held", "member_not_found", None, None)


def test_the_sweep_reaches_every_page_of_pending_accounts_while_approving_them(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Approving an account takes it off the pending list: paging through a list that shrinks under the
    # sweep would skip the first accounts of every later page. Pages of 3 (the forum's are 100) keep it short.
    monkeypatch.setattr(discourse, "PAGE_SIZE", 3)
    monkeypatch.setattr(routes_admin_users, "PAGE_SIZE", 3)
    with sim.quietly():
        ids = [sim.create_user(f"user{n}", f"user{n}@acme.test", approved=False).id for n in range(8)]
    service = service_for(runtime, forum, registration={"approve_on_domain": True})
    assert service.sweep_pending(cause="job:pending-registrations:1") == 8
    assert all(sim.user(user_id).approved for user_id in ids)
    assert {s for s, *_ in statuses(runtime).values()} == {"approved"}
