"""The membership CSV files: organizations and members, read into records and written back.

Organizations: ``org_id,name,status,paid_through,domains``. Members:
``member_number,org_id,name,email,status,paid_through``. A header row naming every column is required (in
any order; other columns are ignored). Several domains or emails go in one cell separated by ``;``. Dates
are ISO 8601 ``YYYY-MM-DD``; ``paid_through`` may be empty, and so may a member's ``org_id`` (an individual
membership). Files are UTF-8, with or without the byte-order mark spreadsheets write. A cell a spreadsheet
would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written
after an apostrophe, which spreadsheets show as text, and read without it.

Reading never stops at the first problem: every row is checked and every problem is kept with its line and
column, so one run tells whoever prepared the file everything to fix. The checks here are those of one row;
``validation`` checks rows against each other and against the database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TextIO, TypeVar

from sidecar.membership.addresses import is_domain, is_email, normalize_domain, normalize_email
from sidecar.membership.provenance import Located, Origin, Problem
from sidecar.membership.records import MemberRecord, MemberStatus, OrganizationRecord, OrganizationStatus

ORGANIZATION_COLUMNS = ("org_id", "name", "status", "paid_through", "domains")
MEMBER_COLUMNS = ("member_number", "org_id", "name", "email", "status", "paid_through")
SEPARATOR = ";"

# The column sizes of sidecar.db.models: a longer value is the file's problem, not a database error.
MAX_KEY = 64
MAX_NAME = 300
MAX_EMAIL = 320
MAX_DOMAIN = 253

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# What a spreadsheet would run as a formula when the Board opens an export (CWE-1236): such a cell is written
# after an apostrophe, which spreadsheets show as text and the reader here takes off again.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ORGANIZATION_STATUSES = {s.value: s for s in OrganizationStatus}
_MEMBER_STATUSES = {s.value: s for s in MemberStatus}

T = TypeVar("T")


@dataclass
class Parsed(Generic[T]):
    """The rows of one file that parsed, the problems of those that did not, and the keys of the latter.

    ``invalid_keys`` lets later checks tell "no such organization" from "that organization's row has a
    problem already reported", so one mistake is reported once.
    """

    records: list[Located[T]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    invalid_keys: set[str] = field(default_factory=set)


def decode(source: str, data: bytes, problems: list[Problem]) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(source, line, None, "is not UTF-8 text"))
        return None


def parse_organizations(source: str, text: str) -> Parsed[OrganizationRecord]:
    parsed: Parsed[OrganizationRecord] = Parsed()
    problems = parsed.problems
    for origin, cells in _rows(source, text, ORGANIZATION_COLUMNS, problems):
        seen = len(problems)
        org_id = _key(problems, origin, "org_id", cells[0])
        name = _name(problems, origin, cells[1])
        status = _status(problems, origin, cells[2], _ORGANIZATION_STATUSES)
        paid_through = _date(problems, origin, cells[3])
        domains = _domains(problems, origin, cells[4])
        if status is None or len(problems) > seen:
            _set_aside(parsed, org_id)
            continue
        parsed.records.append(
            Located(OrganizationRecord(org_id, name, status, paid_through, domains), origin)
        )
    return parsed


def parse_members(source: str, text: str) -> Parsed[MemberRecord]:
    parsed: Parsed[MemberRecord] = Parsed()
    problems = parsed.problems
    for origin, cells in _rows(source, text, MEMBER_COLUMNS, problems):
        seen = len(problems)
        number = _key(problems, origin, "member_number", cells[0])
        org_id = cells[1].strip()
        if len(org_id) > MAX_KEY:
            problems.append(Problem.at(origin, "org_id", f"is longer than {MAX_KEY} characters"))
        name = _name(problems, origin, cells[2])
        emails = _emails(problems, origin, cells[3])
        status = _status(problems, origin, cells[4], _MEMBER_STATUSES)
        paid_through = _date(problems, origin, cells[5])
        if status is None or len(problems) > seen:
            _set_aside(parsed, number)
            continue
        record = MemberRecord(number, org_id or None, name, status, paid_through, emails)
        parsed.records.append(Located(record, origin))
    return parsed


def _set_aside(parsed: Parsed[T], key: str) -> None:
    if key:
        parsed.invalid_keys.add(key)


def _rows(
    source: str, text: str, columns: tuple[str, ...], problems: list[Problem]
) -> Iterator[tuple[Origin, list[str]]]:
    """Each non-blank row's cells in the order of ``columns``, with the line the row starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.append(Problem(source, reader.line_num, None, f"is not valid CSV: {exc}"))
        return
    if header is None:
        problems.append(Problem(source, 1, None, f"is empty: a header row is required ({','.join(columns)})"))
        return
    positions: dict[str, int] = {}
    for i, name in enumerate(cell.strip() for cell in header):
        if name in positions and name in columns:
            problems.append(Problem(source, 1, name, "appears twice in the header"))
        positions.setdefault(name, i)
    missing = [c for c in columns if c not in positions]
    if missing:
        problems.append(
            Problem(
                source,
                1,
                None,
                f"the header lacks {', '.join(missing)} (required columns: {','.join(columns)})",
            )
        )
        return
    index = [positions[c] for c in columns]
    width = len(header)
    as_is = index == list(range(width))  # the usual header: no reordering per row
    previous = reader.line_num
    try:
        for row in reader:
            # A quoted cell may span lines: the row starts just after the previous one ended.
            start, previous = previous + 1, reader.line_num
            if len(row) != width:
                if row and (len(row) > 1 or row[0].strip()):
                    problems.append(
                        Problem(source, start, None, f"has {len(row)} fields, the header {width}")
                    )
                continue  # else a blank line
            cells = row if as_is else [row[i] for i in index]
            yield Origin(source, start), [_unguarded(cell) for cell in cells]
    except csv.Error as exc:
        problems.append(Problem(source, reader.line_num, None, f"is not valid CSV: {exc}"))


def _key(problems: list[Problem], origin: Origin, column: str, raw: str) -> str:
    key = raw.strip()
    if not key:
        problems.append(Problem.at(origin, column, "is empty"))
    elif len(key) > MAX_KEY:
        problems.append(Problem.at(origin, column, f"is longer than {MAX_KEY} characters"))
    return key


def _name(problems: list[Problem], origin: Origin, raw: str) -> str:
    name = raw.strip()
    if not name:
        problems.append(Problem.at(origin, "name", "is empty"))
    elif len(name) > MAX_NAME:
        problems.append(Problem.at(origin, "name", f"is longer than {MAX_NAME} characters"))
    return name


def _status(problems: list[Problem], origin: Origin, raw: str, known: dict[str, T]) -> T | None:
    status = known.get(raw.strip().lower())
    if status is None:
        problems.append(Problem.at(origin, "status", f"unknown status {raw!r} (one of {', '.join(known)})"))
    return status


def _date(problems: list[Problem], origin: Origin, raw: str) -> date | None:
    text = raw.strip()
    if not text:
        return None
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass  # the right shape but no such day (2026-02-30): reported below
    problems.append(Problem.at(origin, "paid_through", f"{raw!r} is not a date (YYYY-MM-DD)"))
    return None


def _domains(problems: list[Problem], origin: Origin, raw: str) -> tuple[str, ...]:
    domains = {normalize_domain(part) for part in raw.split(SEPARATOR)}
    domains.discard("")
    for domain in sorted(domains):
        if not is_domain(domain) or len(domain) > MAX_DOMAIN:
            problems.append(Problem.at(origin, "domains", f"{domain!r} is not a domain name"))
    return tuple(sorted(domains))


def _emails(problems: list[Problem], origin: Origin, raw: str) -> tuple[str, ...]:
    if SEPARATOR not in raw:  # the common case, kept fast for imports of 100,000 members
        email = normalize_email(raw)
        if not email:
            return ()
        if not is_email(email) or len(email) > MAX_EMAIL:
            problems.append(Problem.at(origin, "email", f"{email!r} is not an email address"))
        return (email,)
    emails = {normalize_email(part) for part in raw.split(SEPARATOR)}
    emails.discard("")
    for email in sorted(emails):
        if not is_email(email) or len(email) > MAX_EMAIL:
            problems.append(Problem.at(origin, "email", f"{email!r} is not an email address"))
    return tuple(sorted(emails))


def _iso(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _guarded(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _unguarded(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS) else cell


def write_organizations(fh: TextIO, records: Iterable[OrganizationRecord]) -> int:
    """Write the file ``parse_organizations`` reads; returns the number of rows."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(ORGANIZATION_COLUMNS)
    count = 0
    for r in records:
        row = (r.org_id, r.name, r.status.value, _iso(r.paid_through), SEPARATOR.join(r.domains))
        writer.writerow([_guarded(cell) for cell in row])
        count += 1
    return count


def write_members(fh: TextIO, records: Iterable[MemberRecord]) -> int:
    """Write the file ``parse_members`` reads; returns the number of rows."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(MEMBER_COLUMNS)
    count = 0
    for r in records:
        row = (
            r.member_number,
            r.org_id or "",
            r.name,
            SEPARATOR.join(r.emails),
            r.status.value,
            _iso(r.paid_through),
        )
        writer.writerow([_guarded(cell) for cell in row])
        count += 1
    return count
