"""The simulator's deliveries handed to the sidecar's real intake (a Flask test client on the test database):
signed, accepted, and recognised as duplicates when Discourse would send the same event again."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from sidecar.clock import FixedClock
from sidecar.forum.simulator import DiscourseSimulator
from tests.support import SECRET


def test_the_intake_stores_each_event_once(client: FlaskClient, clock: FixedClock) -> None:
    sim = DiscourseSimulator(clock=clock, webhook_secret=SECRET)
    user = sim.sign_up("erin", "erin@example.org", "Erin")
    sim.confirm_email(user.id)
    sim.webhooks.faults.duplicate = 1.0  # the same delivery twice (a manual redeliver)
    sim.webhooks.faults.retry = 1.0  # and a retry: same body, new event id
    sim.suspend_user(user.id, clock.now() + timedelta(days=1), "Lapsed")
    outcomes: list[tuple[str, int, str]] = []

    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        response = client.post("/webhooks/discourse", data=body, headers=headers)
        outcomes.append((headers["X-Discourse-Event"], response.status_code, response.get_json()["status"]))
        return response.status_code

    delivered = sim.webhooks.deliver_all(send)

    assert all(d.delivered for d in delivered)
    assert outcomes[:2] == [("user_created", 200, "stored"), ("user_confirmed_email", 200, "stored")]
    suspended = [o[2] for o in outcomes if o[0] == "user_suspended"]
    assert suspended == ["stored", "duplicate", "duplicate"]
