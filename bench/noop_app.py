"""A do-nothing twin of the webhook endpoint, the baseline the intake benchmark divides by.

Served by the same gunicorn settings as the sidecar, it measures what HTTP parsing, Flask routing and the
benchmark's own client cost on this machine, so the sidecar's figures can be read as "overhead of verifying
and storing" rather than as absolute numbers that depend on the host.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request


def create_app() -> Flask:
    """Build the baseline app (called by gunicorn as ``bench.noop_app:create_app()``)."""
    app = Flask(__name__)

    @app.post("/webhooks/discourse")
    def receive() -> tuple[Response, int]:
        # Read the body as the sidecar does, so both pay for receiving it.
        request.get_data(cache=True)
        return jsonify(status="ok"), 200

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        return jsonify(status="ok"), 200

    return app
