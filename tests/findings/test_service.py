"""FindingsService in-process against the simulated forum (under ``responses``): what the author, the
moderators and the queue get for each kind of post, and what replays, edits and dismissals change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sidecar.config import Config
from sidecar.db.models import AuthorNotice
from sidecar.findings.service import FindingsService, ScanOutcome
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.port import ForumError
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.forum.simulator.records import ApiRequest
from sidecar.runtime import Runtime
from sidecar.scanner import Finding, Scanner
from tests.findings.conftest import (
    CARD,
    OTHER_CARD,
    audit_of,
    findings,
    flags,
    payload,
    pms_to,
    queue_for,
    service_for,
)
from tests.termination.conftest import forum_writes, request_count


def test_a_card_number_gets_one_pm_one_flag_and_a_queue_entry(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, forum_config: Config, member: int
) -> None:
    post = sim.write_post(
        member, f"Our billing contact paid with {CARD}, can someone check?", title="Billing"
    )
    service = service_for(runtime, forum, forum_config)
    before = request_count(sim)
    outcome = service.on_post(payload(sim, post))
    assert outcome.result == "acted"
    assert outcome.pm_sent
    assert outcome.flagged
    [pm] = pms_to(sim, "ann")
    assert "a payment card number: **** **** **** 1111" in pm
    assert CARD not in pm
    [flag] = flags(sim, post.id)
    assert flag.post_action_type_id == 7
    assert flag.message is not None
    assert "payment card number" in flag.message
    assert CARD not in flag.message
    [row] = findings(runtime)
    assert (row.type, row.severity, row.status, row.post_id) == ("CREDIT_CARD", "critical", "open", post.id)
    assert row.notified_at is not None
    assert row.flagged_at is not None
    writes = [(m, p) for m, p, _ in forum_writes(sim, before)]
    assert writes == [("POST", "/posts.json"), ("POST", "/post_actions.json")]

    # The same delivery again: nothing more.
    before = request_count(sim)
    assert service.on_post(payload(sim, post)).result == "duplicate"
    assert request_count(sim) == before


def test_a_clean_post_costs_no_forum_call(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, forum_config: Config, member: int
) -> None:
    post = sim.write_post(
        member,
        "Upgraded the MiVB to 9.1.0.15, ext 4410 rings the 6930 at MAC 00:08:5D:12:34:56; "
        "sip:1001@pbx.example.com From: <sip:+16135550123@pbx.example.com>;tag=4111111111111111",
        title="Upgrade notes",
    )
    before = request_count(sim)
    outcome = service_for(runtime, forum, forum_config).on_post(payload(sim, post))
    assert outcome.result == "clean"
    assert request_count(sim) == before
    assert findings(runtime) == []


def test_an_edit_that_removes_the_card_resolves_the_finding_and_sends_nothing(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, forum_config: Config, member: int
) -> None:
    post = sim.write_post(member, f"card {CARD} for the renewal", title="Renewal")
    service = service_for(runtime, forum, forum_config)
    service.on_post(payload(sim, post))
    edited = sim.edit_post(post.id, "card removed, sorry!", actor=sim.user(member))
    before = request_count(sim)
    assert service.on_post(payload(sim, edited)).result == "clean"
    assert request_count(sim) == before
    [row] = findings(runtime)
    assert row.status == "resolved_by_edit"
    assert [a for _, a, _ in audit_of(runtime, "finding.")] == ["finding.opened", "finding.resolved_by_edit"]


def test_a_quoted_card_is_not_reported_and_the_sidecars_own_pm_is_skipped(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, forum_config: Config, member: int
) -> None:
    first = sim.write_post(member, f"my card {CARD}", title="Oops")
    ben = sim.create_user("ben", "ben@acme.test", emit=False)
    reply = sim.write_post(
        ben.id,
        f'[quote="ann, post:1, topic:{first.topic_id}"]\nmy card {CARD}\n[/quote]\nPlease remove that!',
        topic_id=first.topic_id,
    )
    service = service_for(runtime, forum, forum_config)
    assert service.on_post(payload(sim, reply)).result == "clean"
    service.on_post(payload(sim, first))
    [pm_topic] = sim.private_messages(to="ann")
    own = sim.first_post(pm_topic.id)
    assert service.on_post(payload(sim, own)).result.startswith("skipped:")
    assert [r.post_id for r in findings(runtime)] == [first.id]


def test_a_dismissal_silences_the_same_value_for_that_author(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, forum_config: Config, member: int
) -> None:
    sim.create_user("mo", "mo@mug.test", moderator=True, emit=False)
    post = sim.write_post(member, f"test card {CARD} from the docs", title="Docs")
    service = service_for(runtime, forum, forum_config)
    service.on_post(payload(sim, post))
    [row] = findings(runtime)
    queue = queue_for(runtime, forum)
    decided = queue.dismiss(row.id, actor="mo", reason="the documentation's test card")
    assert decided["status"] == "dismissed"
    again = sim.write_post(member, f"the test card is {CARD}", topic_id=post.topic_id)
    before = request_count(sim)
    assert service.on_post(payload(sim, again)).result == "clean"
    assert request_count(sim) == before
    assert [(who, a) for who, a, _ in audit_of(runtime, "finding.dismissed")] == [("mo", "finding.dismissed")]


class CountingScanner(Scanner):
    """The scanner, noting each text it is given."""

    def __init__(self, key: bytes) -> None:
        super().__init__(key)
        self.texts: list[str] = []

    def scan(self, raw: str) -> list[Finding]:
        self.texts.append(raw)
        return super().scan(raw)


def test_a_post_read_back_unchanged_is_scanned_once_and_an_edited_one_again(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, forum_config: Config, member: int
) -> None:
    scanner = CountingScanner(b"k" * 32)
    service = FindingsService(
        sessions=runtime.sessions,
        clock=runtime.clock,
        config=forum_config,
        scanner=scanner,
        forum=forum.with_cause("test"),
    )
    post = sim.write_post(member, f"Card on file: {CARD}", title="Billing")
    assert service.on_post(payload(sim, post)).result == "acted"
    assert scanner.texts == [post.raw]  # the forum's text is the payload's: its findings are reused

    other = sim.write_post(member, f"Please charge {CARD}", title="Billing again")
    stale = payload(sim, other)
    edited = sim.edit_post(other.id, f"Card on file: {OTHER_CARD}", actor=sim.user(member))
    scanner.texts.clear()
    assert service.on_post(stale).result == "acted"
    assert scanner.texts == [stale.raw, edited.raw]  # the forum says something else now: scanned again
    opened = {row.preview for row in findings(runtime) if row.post_id == other.id}
    assert opened == {"**** **** **** 4444"}


def test_two_posts_by_one_author_decided_at_once_get_one_message(
    sim: DiscourseSimulator,
    forum: DiscourseForum,
    runtime: Runtime,
    forum_config: Config,
    member: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second post is decided while the first one's message is on its way to the forum (as a second
    worker would on PostgreSQL): the author's window is taken already, so the second post is flagged and
    sends no message of its own."""
    first = sim.write_post(member, f"Please bill card {CARD} for the renewal.", title="Renewal")
    second = sim.write_post(member, f"And card {OTHER_CARD} for the other site.", topic_id=first.topic_id)
    decided_meanwhile: list[ScanOutcome] = []
    record = sim.record_request

    def record_then_decide_the_second(request: ApiRequest) -> None:
        record(request)
        if (request.method, request.path) == ("POST", "/posts.json") and not decided_meanwhile:
            other = service_for(runtime, forum, forum_config)
            decided_meanwhile.append(other.on_post(payload(sim, second)))

    monkeypatch.setattr(sim, "record_request", record_then_decide_the_second)
    outcome = service_for(runtime, forum, forum_config).on_post(payload(sim, first))

    assert (outcome.result, outcome.pm_sent, outcome.flagged) == ("acted", True, True)
    [meanwhile] = decided_meanwhile
    assert (meanwhile.result, meanwhile.pm_sent, meanwhile.flagged) == ("acted", False, True)
    [pm] = pms_to(sim, "ann")
    assert "**** **** **** 1111" in pm
    assert len(flags(sim, second.id)) == 1
    with runtime.sessions() as session:
        notice = session.get(AuthorNotice, member)
        assert notice is not None
        assert notice.last_pm_at == runtime.clock.now()


@pytest.mark.parametrize("earlier_message_days_ago", [None, 3])
def test_a_refused_message_gives_the_window_back(
    sim: DiscourseSimulator,
    forum: DiscourseForum,
    runtime: Runtime,
    forum_config: Config,
    member: int,
    monkeypatch: pytest.MonkeyPatch,
    earlier_message_days_ago: int | None,
) -> None:
    """The forum answers the message with an error: nothing was sent, so the author's window is not spent
    (it goes back to the message before, if any), and the retry sends the message."""
    earlier = None
    if earlier_message_days_ago is not None:
        earlier = runtime.clock.now() - timedelta(days=earlier_message_days_ago)
        with runtime.sessions.begin() as session:
            session.add(AuthorNotice(forum_user_id=member, last_pm_at=earlier))
    post = sim.write_post(member, f"Please bill card {CARD} for the renewal.", title="Renewal")
    record = sim.record_request

    def record_then_fail_the_next(request: ApiRequest) -> None:
        record(request)
        if request.method == "GET" and request.path.startswith("/posts/"):
            sim.faults.fail_next = 1  # the message, right after the read

    monkeypatch.setattr(sim, "record_request", record_then_fail_the_next)
    service = service_for(runtime, forum, forum_config)
    with pytest.raises(ForumError) as refused:
        service.on_post(payload(sim, post))
    assert refused.value.status is not None
    assert refused.value.status >= 500
    assert pms_to(sim, "ann") == []
    with runtime.sessions() as session:
        notice = session.get(AuthorNotice, member)
        assert (notice.last_pm_at if notice else None) == earlier

    monkeypatch.setattr(sim, "record_request", record)
    outcome = service.on_post(payload(sim, post))
    assert (outcome.result, outcome.pm_sent, outcome.flagged) == ("acted", True, True)
    assert len(pms_to(sim, "ann")) == 1


def test_the_same_card_twice_in_a_post_is_one_finding_and_one_message(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, forum_config: Config, member: int
) -> None:
    post = sim.write_post(
        member, f"Card {CARD} declined; I tried {CARD} again and still no luck.", title="Declined"
    )
    outcome = service_for(runtime, forum, forum_config).on_post(payload(sim, post))
    assert outcome.result == "acted"
    [pm] = pms_to(sim, "ann")
    assert pm.count("a payment card number") == 1
    assert len(flags(sim, post.id)) == 1
    [row] = findings(runtime)
    # The one row points at the value's last place in the text.
    text = sim.post(post.id).raw
    assert (row.span_start, row.span_end) == (text.rindex(CARD), text.rindex(CARD) + len(CARD))
    [(_, _, details)] = audit_of(runtime, "finding.opened")
    assert [f["id"] for f in details["findings"]] == [row.id]


def test_an_edit_that_puts_a_removed_card_back_opens_its_finding_again(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, forum_config: Config, member: int
) -> None:
    post = sim.write_post(member, f"card {CARD} for the renewal", title="Renewal")
    service = service_for(runtime, forum, forum_config)
    service.on_post(payload(sim, post))
    removed = sim.edit_post(post.id, "card removed, sorry!", actor=sim.user(member))
    service.on_post(payload(sim, removed))
    [row] = findings(runtime)
    assert row.status == "resolved_by_edit"
    back = sim.edit_post(post.id, f"oops, pasted it again: {CARD}, twice: {CARD}", actor=sim.user(member))
    before = request_count(sim)
    assert service.on_post(payload(sim, back)).result == "acted"
    [row] = findings(runtime)
    assert (row.status, row.first_version, row.last_version) == ("open", 1, back.version)
    assert row.span_start == back.raw.rindex(CARD)
    # Told and flagged for it already: the value coming back is in the queue again, and nothing is sent.
    assert [(m, p) for m, p, _ in forum_writes(sim, before)] == []
    assert [a for _, a, _ in audit_of(runtime, "finding.")] == [
        "finding.opened",
        "finding.resolved_by_edit",
        "finding.opened",
    ]
    *_, (_, _, reopened) = audit_of(runtime, "finding.opened")
    assert [f["id"] for f in reopened["findings"]] == [row.id]  # once, though the text has it twice


def test_an_edit_that_swaps_one_card_for_another_resolves_the_old_finding_and_opens_the_new(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, forum_config: Config, member: int
) -> None:
    post = sim.write_post(member, f"card {CARD} for the renewal", title="Renewal")
    service = service_for(runtime, forum, forum_config)
    service.on_post(payload(sim, post))
    [old] = findings(runtime)
    swapped = sim.edit_post(post.id, f"wrong card, use {OTHER_CARD}", actor=sim.user(member))
    assert service.on_post(payload(sim, swapped)).result == "acted"
    rows = {row.preview: row for row in findings(runtime)}
    assert {preview: (row.status, row.last_version) for preview, row in rows.items()} == {
        "**** **** **** 1111": ("resolved_by_edit", 1),
        "**** **** **** 4444": ("open", swapped.version),
    }
    [(_, _, resolved)] = audit_of(runtime, "finding.resolved_by_edit")
    assert resolved == {"version": swapped.version, "findings": [old.id]}
    *_, (_, _, opened) = audit_of(runtime, "finding.opened")
    assert [f["id"] for f in opened["findings"]] == [rows["**** **** **** 4444"].id]
