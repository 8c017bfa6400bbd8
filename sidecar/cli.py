"""``mug-sidecar``: thin click commands over the runtime. Errors exit 1 with a one-line message."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from prometheus_client import start_http_server
from sqlalchemy.exc import OperationalError

from sidecar import embedded
from sidecar.cli_exit import fail
from sidecar.config import Config, ConfigError, load_config, render_masked
from sidecar.db.engine import shared_with_other_processes
from sidecar.db.models import Delivery, DeliveryStatus, WebhookRejection
from sidecar.db.schema import schema_status, upgrade
from sidecar.findings.cli import findings
from sidecar.forum.actions import list_actions
from sidecar.forum.factory import build_forum
from sidecar.forum.port import ForumClient
from sidecar.forum.simulator.cli import simulator
from sidecar.jobs import inbox
from sidecar.jobs.doorbell import Doorbell
from sidecar.jobs.periodic import PeriodicJob, Scheduler
from sidecar.jobs.process import WorkerProcess, spawn_context
from sidecar.jobs.worker import Worker
from sidecar.logs import configure_logging
from sidecar.membership.cli import members
from sidecar.registration.cli import registrations
from sidecar.registration.service import RegistrationService
from sidecar.runtime import Runtime, build_runtime
from sidecar.scanner.cli import scan
from sidecar.termination.cli import deferrals, terminations
from sidecar.termination.sweeps import TerminationService
from webhooks.dispatch import make_processor
from webhooks.handlers import build_registry

log = logging.getLogger(__name__)


class Context:
    """Loads the configuration once, and the runtime only for commands that need the database."""

    def __init__(self, config_path: str | None, env: dict[str, str]) -> None:
        self.config_path = config_path
        self.env = env
        self._config: Config | None = None
        self._runtime: Runtime | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.config_path, self.env)
            except ConfigError as exc:
                fail(f"invalid configuration: {exc}")
            configure_logging(self._config.logging.level, self._config.logging.format)
        return self._config

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = build_runtime(self.config)
        return self._runtime

    def require_current_schema(self) -> Runtime:
        runtime = self.runtime
        try:
            status = schema_status(runtime.engine)
        except OperationalError as exc:
            fail(f"cannot reach the database: {exc.orig}")
        if not status.up_to_date:
            fail(status.describe())
        return runtime


pass_context = click.make_pass_decorator(Context)


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="MUG_CONFIG",
    type=click.Path(dir_okay=False),
    help="TOML configuration file (default: MUG_CONFIG, else the embedded defaults).",
)
@click.version_option(package_name="mug-sidecar")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """mug-sidecar keeps the MUG forum in line with the association's privacy policy."""
    ctx.obj = Context(config_path, dict(os.environ))


@main.command("check-config")
@pass_context
def check_config(ctx: Context) -> None:
    """Validate the configuration and print it, secrets masked."""
    click.echo(render_masked(ctx.config), nl=False)
    click.echo("configuration is valid", err=True)


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(ctx: Context) -> None:
    """Create the schema or bring it up to date."""
    runtime = ctx.runtime
    try:
        upgrade(runtime.engine)
    except OperationalError as exc:
        fail(f"cannot reach the database: {exc.orig}")
    click.echo(schema_status(runtime.engine).describe())


@db.command("status")
@pass_context
def db_status(ctx: Context) -> None:
    """Say whether the schema is current; exit 1 when it is not."""
    runtime = ctx.require_current_schema()
    click.echo(schema_status(runtime.engine).describe())


SWEEP_SECONDS_PER_RUN = 20.0  # forum steps one worker run of a sweep may spend before deliveries go on


def periodic_jobs(runtime: Runtime, forum: ForumClient) -> list[PeriodicJob]:
    def pending_registrations(cause: str) -> None:
        service = RegistrationService(
            sessions=runtime.sessions,
            clock=runtime.clock,
            config=runtime.config,
            forum=forum.with_cause(cause),
        )
        service.sweep_pending(cause=cause)

    def terminations(cause: str) -> TerminationService:
        return TerminationService(
            sessions=runtime.sessions,
            clock=runtime.clock,
            config=runtime.config,
            forum=forum.with_cause(cause),
            time_budget=SWEEP_SECONDS_PER_RUN,
        )

    def daily_sweep(cause: str) -> None:
        terminations(cause).sweep(cause=cause)

    def sweep_follow_up(cause: str) -> None:
        # Unfinished forum actions of earlier sweeps, and sweeps an import or a deferral asked for.
        terminations(cause).run_requested(cause=cause)

    every = runtime.config.registration.pending_check_minutes * 60
    return [
        PeriodicJob("pending-registrations", every, pending_registrations),
        PeriodicJob("termination-sweep", 24 * 3600, daily_sweep),
        PeriodicJob("termination-follow-up", runtime.config.termination.resume_minutes * 60, sweep_follow_up),
    ]


def make_worker(runtime: Runtime, name: str | None = None, *, doorbell: Doorbell | None = None) -> Worker:
    """The worker of ``mug-sidecar worker``, or (with the intake's ``doorbell``) the one ``serve`` embeds."""
    forum = build_forum(runtime) if runtime.config.forum.url else None
    processor = make_processor(
        build_registry(), sessions=runtime.sessions, clock=runtime.clock, config=runtime.config, forum=forum
    )
    scheduler = Scheduler(runtime.sessions, runtime.clock, periodic_jobs(runtime, forum)) if forum else None
    return Worker(
        runtime.sessions,
        processor,
        settings=runtime.config.worker,
        clock=runtime.clock,
        metrics=runtime.metrics,
        name=name,
        scheduler=scheduler,
        doorbell=doorbell,
    )


def make_serve_worker(runtime: Runtime, doorbell: Doorbell) -> Worker:
    """The worker ``serve`` starts in its child process (``sidecar.jobs.process``), woken by the intake."""
    return make_worker(runtime, doorbell=doorbell)


@contextmanager
def stop_on_signals(stop: threading.Event, *, raise_exit: bool) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop``; with ``raise_exit`` they also unwind the main thread's server loop."""

    def handler(signum: int, _frame: Any) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()
        if raise_exit:
            raise SystemExit(0)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@main.command()
@click.option("--host", help="Listen address (default: server.host).")
@click.option("--port", type=int, help="Listen port (default: server.port).")
@click.option("--no-worker", is_flag=True, help="Do not start a worker (run `mug-sidecar worker` beside it).")
@pass_context
def serve(ctx: Context, host: str | None, port: int | None, no_worker: bool) -> None:
    """Run the web app and its worker (a process, or a thread: worker.separate_process) until SIGTERM."""
    from waitress.server import TcpWSGIServer, create_server

    from sidecar.app import create_app

    runtime = ctx.require_current_schema()
    config = runtime.config
    secret = (config.forum.webhook_secret or embedded.run_secret()) if config.uses_simulator else None
    if secret is not None:
        runtime = embedded.with_run_secret(runtime, secret)
    separate = config.worker.separate_process and shared_with_other_processes(runtime.engine)
    in_child = separate and not no_worker
    if in_child:
        runtime = dataclasses.replace(runtime, arrivals=Doorbell.across_processes(spawn_context()))
    app = create_app(runtime=runtime)
    host = host or config.server.host
    port = config.server.port if port is None else port  # --port 0: any free port
    server = create_server(app, host=host, port=port, threads=config.server.threads)
    assert isinstance(server, TcpWSGIServer)  # one host and port give one TCP server
    bound_host, bound_port = server.getsockname()
    sidecar_url = f"http://{bound_host}:{bound_port}"
    simulated = embedded.start_embedded_forum(sidecar_url, secret) if secret is not None else None
    if simulated is not None:
        embedded.seed_membership(runtime)
    work_runtime = embedded.with_forum(runtime, simulated) if simulated is not None else runtime
    stop = threading.Event()
    thread = worker = child = None
    if in_child:
        child = WorkerProcess(work_runtime.config, runtime.arrivals, make_serve_worker)
        runtime.metrics.add_source(child.metric_families)
        child.start()
    elif not no_worker:
        worker = make_worker(work_runtime, doorbell=runtime.arrivals)
        thread = threading.Thread(target=worker.run, args=(stop,), name="worker", daemon=True)
        thread.start()
    forum_url = simulated.url if simulated is not None else config.forum.url
    log.info(
        "serving",
        extra={
            "address": sidecar_url,
            "forum": forum_url,
            "simulated": simulated is not None,
            "worker": "process" if in_child else "none" if no_worker else "thread",
        },
    )
    click.echo(f"mug-sidecar listening on {sidecar_url}", err=True)
    if simulated is not None:
        click.echo(embedded.welcome(sidecar_url, simulated), err=True)
    try:
        with stop_on_signals(stop, raise_exit=True):
            server.run()
    finally:
        stop.set()
        if child is not None:
            child.stop(timeout=config.worker.lease_seconds)
        if worker is not None:
            worker.wake()  # an idle worker waits on its doorbell: let it see ``stop`` now
        if thread is not None:
            thread.join(timeout=config.worker.lease_seconds)
        if simulated is not None:
            simulated.stop()
        runtime.engine.dispose()
    click.echo("mug-sidecar stopped", err=True)


@main.command()
@click.option("--drain", is_flag=True, help="Process everything due now, then exit.")
@click.option("--name", help="Worker name shown on claimed deliveries (default: host:pid).")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Also serve the worker's Prometheus metrics on this port of server.host (0: any free port).",
)
@pass_context
def worker(ctx: Context, drain: bool, name: str | None, metrics_port: int | None) -> None:
    """Process deliveries from the inbox until SIGTERM (or, with --drain, until none is due)."""
    runtime = ctx.require_current_schema()
    if not runtime.config.forum.url:
        # Handlers act on the forum: without one they would only fail and spend every attempt.
        fail("no forum is configured (forum.url): run `mug-sidecar serve`, which brings the simulator")
    work = make_worker(runtime, name)
    if drain:
        results = work.drain()
        click.echo(f"processed {len(results)} deliveries", err=True)
        return
    metrics = None
    if metrics_port is not None:
        # A worker of its own has no web app: its counters (deliveries processed, handler times, forum
        # calls) are served here; the web app's /metrics shows the intake's and the inbox's.
        host = runtime.config.server.host
        try:
            metrics, _ = start_http_server(metrics_port, addr=host, registry=runtime.metrics.registry)
        except OSError as exc:
            fail(f"cannot serve metrics on {host}:{metrics_port}: {exc.strerror or exc}")
        click.echo(f"worker metrics on http://{host}:{metrics.server_port}/metrics", err=True)
    stop = threading.Event()
    try:
        with stop_on_signals(stop, raise_exit=False):
            work.run(stop)
    finally:
        if metrics is not None:
            metrics.shutdown()
            metrics.server_close()


@main.group()
def deliveries() -> None:
    """The webhook inbox."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "event": d.event_name,
        "event_type": d.event_type,
        "instance": d.instance,
        "subject": d.subject,
        "status": d.status,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "received_at": _iso(d.received_at),
        "next_attempt_at": _iso(d.next_attempt_at),
        "finished_at": _iso(d.finished_at),
    }


def rejection_json(r: WebhookRejection) -> dict[str, Any]:
    return {
        "id": r.id,
        "received_at": _iso(r.received_at),
        "reason": r.reason,
        "status_code": r.status_code,
        "event": r.event_name,
        "event_id": r.event_id,
        "instance": r.instance,
        "remote_addr": r.remote_addr,
        "body_bytes": r.body_bytes,
        "body_sha256": r.body_sha256,
    }


@deliveries.command("list")
@click.option("--status", type=click.Choice([s.value for s in DeliveryStatus]), help="Only this status.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array of deliveries.")
@pass_context
def deliveries_list(ctx: Context, status: str | None, limit: int, as_json: bool) -> None:
    """The newest deliveries first."""
    runtime = ctx.require_current_schema()
    with runtime.sessions() as session:
        rows = inbox.list_deliveries(session, status, limit)
    if as_json:
        click.echo(json.dumps([delivery_json(d) for d in rows], indent=2))
        return
    header = f"{'ID':>7}  {'EVENT ID':>9}  {'EVENT':<26} {'STATUS':<10} {'TRIES':>5}  "
    click.echo(header + "RECEIVED / LAST ERROR")
    for d in rows:
        line = f"{d.id:>7}  {d.event_id:>9}  {d.event_name[:26]:<26} {d.status:<10} {d.attempts:>5}  "
        click.echo(line + d.received_at.isoformat(timespec="seconds"))
        if d.last_error:
            click.echo(" " * 62 + d.last_error.splitlines()[0][:120])


@deliveries.command("retry")
@click.argument("delivery_id", type=int)
@pass_context
def deliveries_retry(ctx: Context, delivery_id: int) -> None:
    """Run a delivery again as soon as a worker is free, with a fresh count of attempts."""
    runtime = ctx.require_current_schema()
    try:
        with runtime.sessions.begin() as session:
            delivery = inbox.retry(session, delivery_id, runtime.clock.now())
            event = delivery.event_name
    except inbox.RetryRefused as exc:
        fail(str(exc))
    click.echo(f"delivery {delivery_id} ({event}) queued again")


@deliveries.command("rejections")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array of rejected requests.")
@pass_context
def deliveries_rejections(ctx: Context, limit: int, as_json: bool) -> None:
    """Webhook requests that were refused (bad signature, malformed, too large), newest first."""
    runtime = ctx.require_current_schema()
    with runtime.sessions() as session:
        rows = inbox.list_rejections(session, limit)
    if as_json:
        click.echo(json.dumps([rejection_json(r) for r in rows], indent=2))
        return
    for r in rows:
        click.echo(
            f"{r.id:>7}  {r.received_at.isoformat(timespec='seconds')}  {r.status_code}  {r.reason:<24} "
            f"{r.event_name or '-'}  from {r.remote_addr or '-'}"
        )


main.add_command(simulator)
main.add_command(members)
main.add_command(registrations)
main.add_command(terminations)
main.add_command(deferrals)
main.add_command(scan)
main.add_command(findings)


@main.group()
def forum() -> None:
    """The forum connection and what the sidecar did to the forum."""


@forum.command("actions")
@click.option("--target", help="Only actions on this target (user:42, post:17, ...).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array of actions.")
@pass_context
def forum_actions(ctx: Context, target: str | None, limit: int, as_json: bool) -> None:
    """Every call that changed the forum (or would have, in a dry run), newest first."""
    runtime = ctx.require_current_schema()
    with runtime.sessions() as session:
        rows = list_actions(session, target=target, limit=limit)
    entries = [
        {
            "id": a.id,
            "at": _iso(a.at),
            "action": a.action,
            "endpoint": a.endpoint,
            "target": a.target,
            "outcome": a.outcome,
            "status_code": a.status_code,
            "detail": a.detail,
            "cause": a.cause,
        }
        for a in rows
    ]
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    for a in rows:
        when = a.at.isoformat(timespec="seconds")
        click.echo(f"{a.id:>7}  {when}  {a.action:<22} {a.target:<28} {a.outcome:<12} {a.cause or '-'}")
