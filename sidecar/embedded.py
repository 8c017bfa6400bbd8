"""The newcomer's first run: with no forum configured, ``serve`` runs the simulator beside the sidecar.

The simulator is seeded with the bundled demo forum, gets an API key and a webhook secret made for this
run only, and sends its webhooks to the sidecar's own intake, so every path (intake, worker, forum calls)
works end to end on one machine. A configured forum (``forum.url``) turns all of this off; the real
configuration's checks are untouched (its secrets are still required).
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from sqlalchemy import func, select

from sidecar.db.models import Member
from sidecar.forum.simulator import RunningSimulator, simulator_from_seed, start_background
from sidecar.membership.eligibility import MembershipRules
from sidecar.membership.importing import import_membership
from sidecar.membership.source import CsvSource
from sidecar.runtime import Runtime

DEMO_SEED = "demo"
DEMO_DATA = Path(str(files("sidecar.demo")))


@dataclass(frozen=True)
class EmbeddedForum:
    running: RunningSimulator
    api_key: str
    webhook_secret: str

    @property
    def url(self) -> str:
        return self.running.url

    def stop(self) -> None:
        self.running.stop()


def run_secret() -> str:
    """A webhook secret for this run only (unless forum.webhook_secret is set); well over 12 characters."""
    return secrets.token_urlsafe(32)


def with_run_secret(runtime: Runtime, secret: str) -> Runtime:
    return dataclasses.replace(runtime, webhook_secret=secret.encode())


def start_embedded_forum(sidecar_url: str, webhook_secret: str, *, seed: str = DEMO_SEED) -> EmbeddedForum:
    api_key = secrets.token_urlsafe(24)
    sim = simulator_from_seed(
        seed,
        api_key=api_key,
        webhook_url=sidecar_url.rstrip("/") + "/webhooks/discourse",
        webhook_secret=webhook_secret,
    )
    return EmbeddedForum(running=start_background(sim), api_key=api_key, webhook_secret=webhook_secret)


def seed_membership(runtime: Runtime) -> int:
    """Import the demo membership behind the demo forum, once, into an empty membership database.

    Returns the number of members imported (0 when the database already holds members: real data is never
    touched). The import is audited like any other, under the actor ``demo``.
    """
    with runtime.sessions() as session:
        if session.execute(select(func.count()).select_from(Member)).scalar_one():
            return 0
    batch = CsvSource(organizations=DEMO_DATA / "organizations.csv", members=DEMO_DATA / "members.csv").read()
    settings = runtime.config.membership
    rules = MembershipRules.from_settings(
        accepted_statuses=settings.accepted_statuses,
        grace_days=settings.grace_days,
        individual_memberships=settings.individual_memberships,
    )
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        report = import_membership(
            session,
            batch,
            rules=rules,
            today=now.date(),
            now=now,
            actor="demo",
            max_ineligible_share=settings.import_max_ineligible_share,
        )
    return len(report.plan.new_members)


def with_forum(runtime: Runtime, forum: EmbeddedForum) -> Runtime:
    """The runtime the worker uses: the same database and metrics, the simulator as its forum."""
    settings = dataclasses.replace(
        runtime.config.forum,
        url=forum.url,
        api_key=forum.api_key,
        api_username="system",
        webhook_secret=forum.webhook_secret,
    )
    return dataclasses.replace(runtime, config=dataclasses.replace(runtime.config, forum=settings))


def welcome(sidecar_url: str, forum: EmbeddedForum) -> str:
    key = forum.api_key
    return f"""
No forum is configured, so a simulated Discourse (seeded with a demo forum) runs beside the sidecar.
  forum     {forum.url}   (Api-Key: {key}  Api-Username: system; valid for this run only)
  webhooks  signed with a secret made for this run, sent to {sidecar_url}/webhooks/discourse

Try it:
  # Dana (member M-0300 in the demo membership) signs up with a confirmed email: the sidecar approves her
  # and adds her to "members"; Erin, waiting in the demo forum, is approved by the pending-account check
  curl -s -X POST {forum.url}/users.json \\
       -H 'Api-Key: {key}' -H 'Api-Username: system' -H 'Content-Type: application/json' \\
       -d '{{"name": "Dana", "email": "dana@example.org", "username": "dana", "password": "pw-1234567890", "active": true, "user_fields": {{"1": "M-0300"}}}}'
  mug-sidecar deliveries list            # what the forum sent and what became of it
  mug-sidecar forum actions              # what the sidecar did to the forum
  mug-sidecar registrations list         # the sign-ups and what was decided
  mug-sidecar members show M-0300        # a member and their eligibility today
  curl -s '{forum.url}/admin/users/list/active.json?show_emails=true' \\
       -H 'Api-Key: {key}' -H 'Api-Username: system'
  curl -s {sidecar_url}/metrics | grep '^mug_'

Point a real forum at the sidecar with forum.url (see README.md); this simulator then stays off.
"""
