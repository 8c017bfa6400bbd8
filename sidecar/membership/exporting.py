"""Exporting the membership database to the CSV files the import reads (a round trip changes nothing).

Membership data is confidential (the privacy policy): files are created readable by their owner only,
written whole before they replace an older file, and every export is audited with what it wrote (row
counts and sha256, never the data).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from sqlalchemy.orm import Session

from sidecar import audit
from sidecar.membership import csvformat
from sidecar.membership.repository import load_members, load_organizations

ACTION = "members.export"
TARGET = "membership"

R = TypeVar("R")


@dataclass(frozen=True)
class ExportResult:
    files: dict[str, dict[str, Any]]  # "organizations"/"members" -> file, rows, sha256
    audit_entry_id: int


def export_membership(
    session: Session,
    *,
    organizations: Path | None,
    members: Path | None,
    actor: str,
    now: datetime,
) -> ExportResult:
    """Write the requested files (at least one) and audit the export in ``session``'s transaction."""
    if organizations is None and members is None:
        raise ValueError("nothing to export: give an organizations path, a members path, or both")
    files: dict[str, dict[str, Any]] = {}
    if organizations is not None:
        orgs = load_organizations(session)
        files["organizations"] = _write(
            organizations, csvformat.write_organizations, (orgs[k] for k in sorted(orgs))
        )
    if members is not None:
        people = load_members(session)
        files["members"] = _write(members, csvformat.write_members, (people[k] for k in sorted(people)))
    entry = audit.record(session, at=now, actor=actor, action=ACTION, target=TARGET, details={"files": files})
    return ExportResult(files=files, audit_entry_id=entry.id)


def _write(path: Path, writer: Callable[[TextIO, Iterable[R]], int], records: Iterable[R]) -> dict[str, Any]:
    buffer = io.StringIO()
    rows = writer(buffer, records)
    data = buffer.getvalue().encode("utf-8")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return {"file": path.name, "rows": rows, "sha256": hashlib.sha256(data).hexdigest()}
