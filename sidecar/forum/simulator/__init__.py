"""A faithful in-memory Discourse: the admin API over HTTP, webhooks as Discourse sends them, and faults.

In-process (under ``responses``)::

    sim = DiscourseSimulator(clock=FixedClock(start), api_key="k")
    user = sim.sign_up("erin", "erin@example.org")        # fires user_created
    with sim.mocked():
        requests.get(f"{sim.base_url}/admin/users/{user.id}.json",
                     headers={"Api-Key": "k", "Api-Username": "admin"})
    sim.webhooks.deliver_all(send)                          # send(url, headers, body) -> status

Over HTTP: ``running = start_background(sim)``; ``running.url``; ``running.stop()``; or the ``simulator``
command (cli.py). Rules and deliberate choices are listed in site.py's docstring.
"""

from sidecar.forum.simulator.errors import ApiError
from sidecar.forum.simulator.faults import ApiFaults, WebhookFaults
from sidecar.forum.simulator.records import Archetype, PostActionType
from sidecar.forum.simulator.seed import SeedError, load_seed, load_seed_file, read_seed, simulator_from_seed
from sidecar.forum.simulator.server import RunningSimulator, serve, start_background
from sidecar.forum.simulator.site import DiscourseSimulator, SiteSettings, ValidationFailed
from sidecar.forum.simulator.webhooks import Delivery, WebhookEmitter

__all__ = [
    "ApiError",
    "ApiFaults",
    "Archetype",
    "Delivery",
    "DiscourseSimulator",
    "PostActionType",
    "RunningSimulator",
    "SeedError",
    "SiteSettings",
    "ValidationFailed",
    "WebhookEmitter",
    "WebhookFaults",
    "load_seed",
    "load_seed_file",
    "read_seed",
    "serve",
    "simulator_from_seed",
    "start_background",
]
