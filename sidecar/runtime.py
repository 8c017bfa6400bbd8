"""What every entry point (web app, worker, CLI) builds first: config, database, clock, metrics, secrets."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sidecar.clock import Clock, SystemClock
from sidecar.config import Config
from sidecar.db.engine import make_engine, make_sessions, reading
from sidecar.jobs import inbox
from sidecar.jobs.doorbell import Doorbell
from sidecar.metrics import Metrics

log = logging.getLogger(__name__)

GENERATED_SECRET_FILE = "webhook-secret"  # noqa: S105 - a file name, not a secret
GENERATED_FINGERPRINT_KEY_FILE = "fingerprint-key"


@dataclass(frozen=True)
class Runtime:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    metrics: Metrics
    webhook_secret: bytes
    # Rung by the intake when it stores a delivery; the worker of this process (serve's) waits on it.
    arrivals: Doorbell = field(default_factory=Doorbell, compare=False)

    def queue_counts(self) -> dict[str, int]:
        with reading(self.sessions) as session:
            return inbox.count_by_status(session)


def build_runtime(config: Config, *, clock: Clock | None = None) -> Runtime:
    engine = make_engine(config.database.url)
    metrics = Metrics()
    runtime = Runtime(
        config=config,
        engine=engine,
        sessions=make_sessions(engine),
        clock=clock or SystemClock(),
        metrics=metrics,
        webhook_secret=resolve_webhook_secret(config),
    )
    metrics.watch_queue(runtime.queue_counts)
    return runtime


def resolve_webhook_secret(config: Config) -> bytes:
    """The configured secret; in the embedded mode (no forum configured) one generated per installation.

    The generated secret lives in ``server.state_dir`` with mode 0600 and is never a default of the code.
    """
    if config.forum.webhook_secret:
        return config.forum.webhook_secret.encode()
    return installation_secret(config, GENERATED_SECRET_FILE)


def resolve_fingerprint_key(config: Config) -> bytes:
    """The findings' fingerprint key: configured, or generated once per installation like the above.

    Fingerprints made under one key are recognised only under that key: keep the generated file (or set
    ``scanning.fingerprint_key``) for as long as dismissed findings should stay dismissed.
    """
    if config.scanning.fingerprint_key:
        return config.scanning.fingerprint_key.encode()
    return installation_secret(config, GENERATED_FINGERPRINT_KEY_FILE)


def installation_secret(config: Config, name: str) -> bytes:
    """A random secret kept in ``server.state_dir/name`` (mode 0600), made by whichever process asks first."""
    path = Path(config.server.state_dir) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process of this installation made it first: use theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
            log.info("generated a secret for this installation", extra={"path": str(path)})
    return path.read_text(encoding="utf-8").strip().encode()
