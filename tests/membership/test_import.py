"""``members import`` against a real database: what it writes, what it refuses, what it reports."""

from __future__ import annotations

import getpass
import hashlib
import json
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from sidecar.audit import details_of, list_entries
from sidecar.db.models import AuditEntry, Member
from sidecar.membership.records import MemberRecord, MemberStatus, OrganizationRecord, OrganizationStatus
from sidecar.membership.repository import find_member_by_email, load_snapshot
from sidecar.runtime import Runtime
from tests.membership.conftest import AS_OF, MEMBER_HEADER, ORG_HEADER, Run, Write

ACME_ROW = "ACME,Acme Corp,active,2026-12-31,acme.com; Acme.ORG"
GLOBEX_ROW = "GLOBEX,Globex,active,2026-12-31,globex.com"


def imported(run: Run, *args: str, **settings: str) -> dict[str, object]:
    result = run("import", "--as-of", AS_OF, "--json", *args, **settings)
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.stdout)
    return report


def files(orgs: Path | None = None, people: Path | None = None) -> list[str]:
    args = []
    if orgs is not None:
        args += ["--organizations", str(orgs)]
    if people is not None:
        args += ["--members", str(people)]
    return args


def audit_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def test_import_writes_records_reports_counts_and_audits_with_file_hashes(
    run: Run, write: Write, runtime: Runtime
) -> None:
    orgs = write("orgs.csv", ORG_HEADER, ACME_ROW, "GLOBEX,Globex,lapsed,2025-12-31,globex.com")
    people = write(
        "members.csv",
        MEMBER_HEADER,
        "M1,ACME,Ann Example, Ann@Acme.com ;ann@home.net,active,",
        "M2,,Ivan Individual,ivan@example.net,Active,2026-12-31",
        "M3,GLOBEX,Gus,gus@globex.com,active,",
    )
    report = imported(run, *files(orgs, people), "--as", "secretary")

    assert report["organizations"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert report["members"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert report["new_members_eligible"] == 2  # Gus's organization has lapsed
    assert report["eligibility_changes"] == []
    assert report["dry_run"] is False
    with runtime.sessions() as session:
        snapshot = load_snapshot(session)
        [entry] = list_entries(session, action="members.import")
        created = session.execute(select(Member.created_at, Member.updated_at)).first()
    assert snapshot.organizations["ACME"] == OrganizationRecord(
        "ACME", "Acme Corp", OrganizationStatus.ACTIVE, date(2026, 12, 31), ("acme.com", "acme.org")
    )
    assert snapshot.members == {
        "M1": MemberRecord(
            "M1", "ACME", "Ann Example", MemberStatus.ACTIVE, None, ("ann@acme.com", "ann@home.net")
        ),
        "M2": MemberRecord(
            "M2", None, "Ivan Individual", MemberStatus.ACTIVE, date(2026, 12, 31), ("ivan@example.net",)
        ),
        "M3": MemberRecord("M3", "GLOBEX", "Gus", MemberStatus.ACTIVE, None, ("gus@globex.com",)),
    }
    assert created is not None
    assert created.created_at.tzinfo is not None
    assert created.created_at == created.updated_at
    assert entry.id == report["audit_entry"]
    assert (entry.actor, entry.action, entry.target) == ("secretary", "members.import", "membership")
    details = details_of(entry)
    assert details["files"] == {
        "organizations": {"file": "orgs.csv", "sha256": hashlib.sha256(orgs.read_bytes()).hexdigest()},
        "members": {"file": "members.csv", "sha256": hashlib.sha256(people.read_bytes()).hexdigest()},
    }
    assert details["members"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert details["organizations"] == {"created": 2, "updated": 0, "unchanged": 0}


def test_text_report_and_the_os_user_as_actor(run: Run, write: Write, runtime: Runtime) -> None:
    orgs = write("orgs.csv", ORG_HEADER, ACME_ROW)
    people = write("members.csv", MEMBER_HEADER, "M1,ACME,Ann,ann@acme.com,active,")
    result = run("import", *files(orgs, people), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "organizations: 1 created, 0 updated, 0 unchanged",
        "members: 1 created (1 eligible), 0 updated, 0 unchanged",
        "eligibility changes of existing members as of 2026-11-28: 0",
        "newly ineligible: 0 of 0 existing members (limit 10%)",
        "audit entry 1",
    ]
    with runtime.sessions() as session:
        [entry] = list_entries(session)
    assert entry.actor == getpass.getuser()


def test_every_problem_is_reported_with_its_place_and_nothing_is_written(
    run: Run, write: Write, runtime: Runtime
) -> None:
    orgs = write(
        "orgs.csv",
        ORG_HEADER,
        "ACME,Acme,active,2026-12-31,acme.com",  # 2
        "ACME,Acme again,active,,acme.net",  # 3: a key twice
        "GLOBEX,Globex,bankrupt,2026-02-30,globex.com",  # 4: two problems in one row
        "INITECH,Initech,active,,ACME.com",  # 5: a domain of ACME
        "HOOLI,,active,,hooli.com",  # 6: no name
        "BAD,Bad,active,,not a domain",  # 7
        "SHORT,Short,active",  # 8: fields missing
        "DATED,Dated,active,28/11/2026,dated.com",  # 9: not ISO 8601
    )
    people = write(
        "members.csv",
        MEMBER_HEADER,
        "M1,ACME,Ann,ann@acme.com,active,",  # 2
        "M1,ACME,Ann Again,ann2@acme.com,active,",  # 3: a key twice
        "M2,NOPE,Nobody,nobody@example.net,active,",  # 4: no such organization
        "M3,,Ivan,ivan.example.net,active,2026-12-31",  # 5: no @
        "M4,ACME,Bob, ANN@acme.com ,active,",  # 6: Ann's address, in other case
        "M5,GLOBEX,Gus,gus@globex.com,active,",  # 7: fine (GLOBEX's row is wrong, reported once)
        "M6,ACME,Pat,pat@acme.com,active,2026-12-31",  # 8: dues of an organization member
        "M7,,Ida,ida@example.net,zombie,",  # 9
        "M8,,,,active,2026-01-01",  # 10: no name
    )
    result = run("import", *files(orgs, people), "--as-of", AS_OF, "--json")

    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert [(e["file"], e["line"], e["column"]) for e in errors] == [
        (str(orgs), 3, "org_id"),
        (str(orgs), 4, "status"),
        (str(orgs), 4, "paid_through"),
        (str(orgs), 5, "domains"),
        (str(orgs), 6, "name"),
        (str(orgs), 7, "domains"),
        (str(orgs), 8, None),
        (str(orgs), 9, "paid_through"),
        (str(people), 3, "member_number"),
        (str(people), 4, "org_id"),
        (str(people), 5, "email"),
        (str(people), 6, "email"),
        (str(people), 8, "paid_through"),
        (str(people), 9, "status"),
        (str(people), 10, "name"),
    ]
    reasons = {(e["line"], e["column"]): e["reason"] for e in errors}
    assert reasons[3, "org_id"] == "'ACME' is already on line 2"
    assert reasons[5, "domains"] == "acme.com is also a domain of organization ACME (line 2)"
    assert reasons[6, "email"] == "ann@acme.com is also an address of member M1 (line 2)"
    assert reasons[4, "org_id"] == "no organization 'NOPE' in the organizations file or the database"
    assert reasons[5, "email"] == "'ivan.example.net' is not an email address"
    assert reasons[8, None] == "has 3 fields, the header 5"
    assert "error: 15 problem(s) in the membership data; nothing was written" in result.stderr
    with runtime.sessions() as session:
        snapshot = load_snapshot(session)
    assert (snapshot.organizations, snapshot.members) == ({}, {})
    assert audit_count(runtime) == 0


def test_problems_in_text_go_to_stderr_one_per_line(run: Run, write: Write) -> None:
    orgs = write("orgs.csv", ORG_HEADER, "ACME,Acme,active,2026-13-01,acme.com")
    result = run("import", *files(orgs))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{orgs}:2: paid_through: '2026-13-01' is not a date (YYYY-MM-DD)",
        "error: 1 problem(s) in the membership data; nothing was written",
    ]


def test_header_problems(run: Run, write: Write) -> None:
    missing = write("missing.csv", "org_id,name,status,domains", "ACME,Acme,active,acme.com")
    empty = write("empty.csv")
    twice = write("twice.csv", MEMBER_HEADER + ",email", "M1,,Ann,a@b.org,active,,x@y.org")
    result = run("import", "--organizations", str(missing), "--members", str(twice), "--json")
    errors = json.loads(result.stdout)["errors"]
    assert [(e["file"], e["line"], e["column"], e["reason"]) for e in errors] == [
        (
            str(missing),
            1,
            None,
            "the header lacks paid_through (required columns: org_id,name,status,paid_through,domains)",
        ),
        (str(twice), 1, "email", "appears twice in the header"),
    ]
    result = run("import", "--organizations", str(empty), "--json")
    [error] = json.loads(result.stdout)["errors"]
    assert (error["line"], error["reason"]) == (
        1,
        "is empty: a header row is required (org_id,name,status,paid_through,domains)",
    )


def test_individuals_refused_when_individual_memberships_are_off(run: Run, write: Write) -> None:
    people = write("members.csv", MEMBER_HEADER, "M1,,Ivan,ivan@example.net,active,2026-12-31")
    result = run("import", *files(people=people), "--json", MUG_MEMBERSHIP_INDIVIDUAL_MEMBERSHIPS="false")
    assert result.exit_code == 1
    [error] = json.loads(result.stdout)["errors"]
    assert (error["line"], error["column"]) == (2, "org_id")
    assert "individual memberships are off" in error["reason"]


def test_addresses_and_domains_held_in_the_database_are_checked_too(
    run: Run, write: Write, runtime: Runtime
) -> None:
    imported(
        run,
        *files(
            write("orgs.csv", ORG_HEADER, ACME_ROW),
            write("members.csv", MEMBER_HEADER, "M1,ACME,Ann,ann@acme.com,active,"),
        ),
    )
    # Neither ACME nor M1 is in these files, so both keep what they hold.
    orgs = write("orgs2.csv", ORG_HEADER, "INITECH,Initech,active,,acme.org")
    people = write("members2.csv", MEMBER_HEADER, "M9,INITECH,Ann's twin,Ann@ACME.com,active,")
    result = run("import", *files(orgs, people), "--json")
    assert result.exit_code == 1
    assert [e["reason"] for e in json.loads(result.stdout)["errors"]] == [
        "acme.org is also a domain of organization ACME (in the database, not in this import)",
        "ann@acme.com is also an address of member M1 (in the database, not in this import)",
    ]
    assert audit_count(runtime) == 1  # the first import only


def test_an_address_and_a_domain_can_move_in_one_import(run: Run, write: Write, runtime: Runtime) -> None:
    imported(
        run,
        *files(
            write("orgs.csv", ORG_HEADER, ACME_ROW, GLOBEX_ROW),
            write(
                "members.csv",
                MEMBER_HEADER,
                "M1,ACME,Ann,ann@acme.com,active,",
                "M2,ACME,Bob,bob@acme.com,active,",
            ),
        ),
    )
    report = imported(
        run,
        *files(
            write(
                "orgs2.csv", ORG_HEADER, "ACME,Acme Corp,active,2026-12-31,acme.com", GLOBEX_ROW + ";acme.org"
            ),
            write(
                "members2.csv",
                MEMBER_HEADER,
                "M1,ACME,Ann,annie@acme.com,active,",
                "M2,ACME,Bob,bob@acme.com;ANN@ACME.COM,active,",
            ),
        ),
    )
    assert report["organizations"] == {"created": 0, "updated": 2, "unchanged": 0}
    assert report["members"] == {"created": 0, "updated": 2, "unchanged": 0}
    with runtime.sessions() as session:
        snapshot = load_snapshot(session)
        moved = find_member_by_email(session, " Ann@Acme.Com ")
    assert snapshot.organizations["GLOBEX"].domains == ("acme.org", "globex.com")
    assert snapshot.organizations["ACME"].domains == ("acme.com",)
    assert snapshot.members["M1"].emails == ("annie@acme.com",)
    assert moved is not None
    assert moved.member_number == "M2"


def test_dry_run_reports_the_same_and_writes_nothing(run: Run, write: Write, runtime: Runtime) -> None:
    args = files(
        write("orgs.csv", ORG_HEADER, ACME_ROW),
        write("members.csv", MEMBER_HEADER, "M1,ACME,Ann,ann@acme.com,active,"),
    )
    dry = imported(run, *args, "--dry-run")
    assert audit_count(runtime) == 0
    with runtime.sessions() as session:
        assert load_snapshot(session).members == {}
    text = run("import", *args, "--dry-run", "--as-of", AS_OF)
    assert text.stdout.startswith("dry run: nothing was written\n")
    real = imported(run, *args)
    assert dry.pop("dry_run") is True
    assert dry.pop("audit_entry") is None
    assert real.pop("dry_run") is False
    assert real.pop("audit_entry") == 1
    assert dry == real


def test_reimport_changes_nothing(run: Run, write: Write, runtime: Runtime) -> None:
    args = files(
        write("orgs.csv", ORG_HEADER, ACME_ROW),
        write("members.csv", MEMBER_HEADER, "M1,ACME,Ann, ANN@acme.com;ann@home.net,active,"),
    )
    imported(run, *args)
    with runtime.sessions() as session:
        stamp = session.execute(select(Member.updated_at)).scalar_one()
    report = imported(run, *args)
    assert report["organizations"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert report["members"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert report["eligibility_changes"] == []
    with runtime.sessions() as session:
        assert session.execute(select(Member.updated_at)).scalar_one() == stamp
    assert audit_count(runtime) == 2  # every import is audited, a no-op one too


def test_import_never_deletes(run: Run, write: Write, runtime: Runtime) -> None:
    imported(
        run,
        *files(
            write("orgs.csv", ORG_HEADER, ACME_ROW, GLOBEX_ROW),
            write(
                "members.csv",
                MEMBER_HEADER,
                "M1,ACME,Ann,ann@acme.com,active,",
                "M2,GLOBEX,Gus,gus@globex.com,active,",
            ),
        ),
    )
    report = imported(
        run, *files(people=write("only.csv", MEMBER_HEADER, "M1,ACME,Ann,ann@acme.com,active,"))
    )
    assert report["members"] == {"created": 0, "updated": 0, "unchanged": 1}
    with runtime.sessions() as session:
        snapshot = load_snapshot(session)
    assert set(snapshot.members) == {"M1", "M2"}
    assert set(snapshot.organizations) == {"ACME", "GLOBEX"}


def test_eligibility_changes_are_reported_before_and_after(run: Run, write: Write) -> None:
    imported(
        run,
        *files(
            write("orgs.csv", ORG_HEADER, ACME_ROW, GLOBEX_ROW),
            write(
                "members.csv",
                MEMBER_HEADER,
                "M1,ACME,Ann,ann@acme.com,active,",
                "M2,GLOBEX,Gus,gus@globex.com,active,",
                "M3,,Ivan,ivan@example.net,active,2026-12-31",
                "M4,,Ida,ida@example.net,pending,2026-12-31",
            ),
        ),
    )
    report = imported(
        run,
        *files(
            # GLOBEX lapses: Gus changes although his row is not in this import.
            write("orgs2.csv", ORG_HEADER, "GLOBEX,Globex,lapsed,2026-12-31,globex.com"),
            write(
                "members2.csv",
                MEMBER_HEADER,
                "M1,ACME,Ann Example,ann@acme.com,active,",  # renamed: eligibility unchanged
                "M3,,Ivan,ivan@example.net,active,2026-11-01",  # 27 days past: in grace
                "M4,,Ida,ida@example.net,active,2026-12-31",  # admitted
            ),
        ),
        MUG_MEMBERSHIP_IMPORT_MAX_INELIGIBLE_SHARE="0.5",
    )
    assert report["members"] == {"created": 0, "updated": 3, "unchanged": 0}
    assert report["eligibility_changes"] == [
        {
            "member_number": "M2",
            "before": {"eligible": True, "reason": "eligible"},
            "after": {"eligible": False, "reason": "organization_lapsed"},
        },
        {
            "member_number": "M3",
            "before": {"eligible": True, "reason": "eligible"},
            "after": {"eligible": True, "reason": "in_grace"},
        },
        {
            "member_number": "M4",
            "before": {"eligible": False, "reason": "member_pending"},
            "after": {"eligible": True, "reason": "eligible"},
        },
    ]
    assert (report["newly_eligible"], report["newly_ineligible"], report["existing_members"]) == (1, 1, 4)


def test_an_import_making_many_members_ineligible_needs_force(
    run: Run, write: Write, runtime: Runtime
) -> None:
    imported(
        run,
        *files(
            write("orgs.csv", ORG_HEADER, ACME_ROW),
            write(
                "members.csv",
                MEMBER_HEADER,
                "M1,ACME,Ann,ann@acme.com,active,",
                "M2,ACME,Bob,bob@acme.com,active,",
            ),
        ),
    )
    lapsed = files(write("lapsed.csv", ORG_HEADER, "ACME,Acme Corp,lapsed,2026-12-31,acme.com;acme.org"))

    refused = run("import", *lapsed, "--as-of", AS_OF)
    assert refused.exit_code == 1
    assert "would make 2 of 2 existing members ineligible" in refused.stderr
    with runtime.sessions() as session:
        assert load_snapshot(session).organizations["ACME"].status is OrganizationStatus.ACTIVE
    assert audit_count(runtime) == 1

    dry = imported(run, *lapsed, "--dry-run")
    assert dry["over_limit"] is True
    assert dry["newly_ineligible"] == 2
    text = run("import", *lapsed, "--dry-run", "--as-of", AS_OF)
    assert "over the limit: the import would be refused without --force" in text.stdout

    forced = imported(run, *lapsed, "--force")
    assert forced["forced"] is True
    with runtime.sessions() as session:
        assert load_snapshot(session).organizations["ACME"].status is OrganizationStatus.LAPSED
        [entry, _] = list_entries(session, action="members.import")
    assert details_of(entry)["forced"] is True
    assert details_of(entry)["newly_ineligible"] == 2


def test_files_are_required_and_must_exist(run: Run, tmp_path: Path) -> None:
    nothing = run("import")
    assert nothing.exit_code == 1
    assert nothing.stderr == "error: give --organizations FILE, --members FILE, or both\n"
    missing = run("import", "--members", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr


def test_bad_as_of_is_a_usage_error(run: Run, write: Write) -> None:
    result = run("import", "--members", str(write("m.csv", MEMBER_HEADER)), "--as-of", "28/11/2026")
    assert result.exit_code == 2
    assert "'28/11/2026' is not a date (YYYY-MM-DD)" in result.stderr
