"""What refuses a membership change: each error carries what the CLI (or a page) shows about it."""

from __future__ import annotations

from collections.abc import Sequence

from sidecar.membership.provenance import Problem


class MembershipError(Exception):
    """Base of the membership errors: a refusal with a reason, never a crash."""


class ImportRefused(MembershipError):
    """The source has problems; nothing was written. ``problems`` lists all of them, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the membership data; nothing was written")
        self.problems = list(problems)


class TooManyIneligible(MembershipError):
    """The import would make more existing members ineligible than allowed without ``--force``.

    DESIGN.md decision 2: a broken file must not look like a mass termination.
    """

    def __init__(self, newly_ineligible: int, existing: int, limit: float) -> None:
        super().__init__(
            f"the import would make {newly_ineligible} of {existing} existing members ineligible,"
            f" more than membership.import_max_ineligible_share ({limit:.0%}); nothing was written."
            " Check the files (--dry-run lists the changes), or run again with --force"
        )
        self.newly_ineligible = newly_ineligible
        self.existing = existing
        self.limit = limit
