"""Liveness, readiness and metrics."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from sidecar.db.schema import schema_status
from sidecar.runtime import Runtime

blueprint = Blueprint("health", __name__)


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["mug"]
    return runtime


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """The process is up and answering."""
    return jsonify(status="ok"), 200


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database answers and its schema is the one this version needs."""
    try:
        status = schema_status(_runtime().engine)
    except SQLAlchemyError as exc:
        return jsonify(status="unavailable", error="database_unreachable", message=type(exc).__name__), 503
    if not status.up_to_date:
        return jsonify(status="unavailable", error="schema_out_of_date", message=status.describe()), 503
    return jsonify(status="ready", schema=status.current), 200


@blueprint.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(_runtime().metrics), mimetype=CONTENT_TYPE_LATEST)
