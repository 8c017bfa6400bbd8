"""Reading the CSV files: line numbers that match an editor's, whatever the file's quirks."""

from __future__ import annotations

from datetime import date

from sidecar.membership.csvformat import decode, parse_members, parse_organizations
from sidecar.membership.provenance import Problem
from sidecar.membership.records import MemberStatus
from tests.membership.conftest import MEMBER_HEADER, ORG_HEADER


def test_lines_count_blank_lines_and_quoted_newlines() -> None:
    text = (
        f"{MEMBER_HEADER}\r\n"
        "\r\n"
        'M1,,"Ann\r\nExample",ann@example.net,active,2026-12-31\r\n'  # lines 3-4
        "M2,,Bob,bob@example.net,active,2026-02-30\r\n"  # line 5
    )
    parsed = parse_members("m.csv", text)
    [ann] = parsed.records
    assert (ann.origin.line, ann.record.name, ann.record.paid_through) == (
        3,
        "Ann\r\nExample",
        date(2026, 12, 31),
    )
    assert parsed.problems == [Problem("m.csv", 5, "paid_through", "'2026-02-30' is not a date (YYYY-MM-DD)")]
    assert parsed.invalid_keys == {"M2"}


def test_byte_order_mark_extra_columns_and_status_case() -> None:
    problems: list[Problem] = []
    text = decode("o.csv", f"\ufeff{ORG_HEADER},notes\nACME,Acme,ACTIVE,,acme.com,hello\n".encode(), problems)
    assert text is not None
    parsed = parse_organizations("o.csv", text)
    assert problems == parsed.problems == []
    [acme] = parsed.records
    assert (acme.record.org_id, acme.record.status.value, acme.record.paid_through) == (
        "ACME",
        "active",
        None,
    )


def test_not_utf8_names_the_line() -> None:
    problems: list[Problem] = []
    assert (
        decode("o.csv", f"{ORG_HEADER}\nACME,Acme,active,,acme.com\n".encode() + b"X,\xff\n", problems)
        is None
    )
    assert problems == [Problem("o.csv", 3, None, "is not UTF-8 text")]


def test_emails_are_deduplicated_and_a_member_may_have_none() -> None:
    parsed = parse_members(
        "m.csv", f"{MEMBER_HEADER}\nM1,,Ann,A@x.org; a@X.org ;;b@x.org,pending,\nM2,,Bob,,active,\n"
    )
    assert parsed.problems == []
    assert [loc.record.emails for loc in parsed.records] == [("a@x.org", "b@x.org"), ()]
    assert parsed.records[0].record.status is MemberStatus.PENDING


def test_too_long_values() -> None:
    parsed = parse_members("m.csv", f"{MEMBER_HEADER}\n{'9' * 65},{'O' * 65},{'n' * 301},a@b.org,active,\n")
    assert [(p.column, p.reason) for p in parsed.problems] == [
        ("member_number", "is longer than 64 characters"),
        ("org_id", "is longer than 64 characters"),
        ("name", "is longer than 300 characters"),
    ]
