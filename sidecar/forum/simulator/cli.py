"""``simulator``: serve a simulated Discourse over HTTP until SIGTERM/SIGINT.

Registered by the project as ``mug-sidecar simulator``; also runs as ``python -m sidecar.forum.simulator``.
Prints ``Discourse simulator listening on <url>`` once it accepts requests (with ``--port 0`` the URL
carries the port chosen).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sidecar.forum.simulator.seed import SeedError, simulator_from_seed
from sidecar.forum.simulator.server import serve

MIN_SECRET_LENGTH = 12  # Discourse refuses shorter webhook secrets


@click.command("simulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=3000, show_default=True, type=int, help="Port to listen on (0: any free port)."
)
@click.option("--api-key", required=True, help="The admin API key clients must send (Api-Key header).")
@click.option(
    "--webhook-url", default=None, help="Deliver webhooks to this URL (none: keep them in the outbox)."
)
@click.option("--webhook-secret", default=None, help="Sign webhooks with this secret (12+ characters).")
@click.option(
    "--seed", "seed_path", default=None, help="A seed file (.toml or .json), or 'demo' for the bundled one."
)
@click.option("--rate-limit", default=60, show_default=True, type=int, help="Admin API requests per window.")
@click.option(
    "--rate-window", default=60.0, show_default=True, type=float, help="Rate limit window, seconds."
)
@click.option("--rng-seed", default=0, show_default=True, type=int, help="Seed of the fault-injection draws.")
def simulator(
    host: str,
    port: int,
    api_key: str,
    webhook_url: str | None,
    webhook_secret: str | None,
    seed_path: str | None,
    rate_limit: int,
    rate_window: float,
    rng_seed: int,
) -> None:
    """Serve an in-memory Discourse (admin API + webhooks) for development and tests."""
    if webhook_secret is not None and len(webhook_secret) < MIN_SECRET_LENGTH:
        raise click.BadParameter(
            f"must be at least {MIN_SECRET_LENGTH} characters", param_hint="--webhook-secret"
        )
    try:
        sim = simulator_from_seed(
            seed_path,
            api_key=api_key,
            rate_limit=rate_limit,
            rate_window=rate_window,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            rng_seed=rng_seed,
        )
    except (OSError, SeedError) as exc:
        raise click.BadParameter(str(exc), param_hint="--seed") from None

    def ready(url: str) -> None:
        admins = ", ".join(u.username for u in sim.users.values() if u.admin)
        click.echo(f"Discourse simulator listening on {url}")
        click.echo(f"API usernames with admin rights: {admins}")
        sys.stdout.flush()

    serve(sim, host, port, on_ready=ready)
    click.echo("Discourse simulator stopped")


def main() -> None:
    simulator(prog_name=f"{Path(sys.executable).name} -m sidecar.forum.simulator")
