"""``POST /webhooks/discourse``: verify, store, answer. No forum call and no business logic here.

Checks run cheapest-first and unsigned requests learn nothing but 401: size (413), signature (401),
content type (415), headers and JSON (400). Every refusal is counted, logged without its body and
recorded in ``webhook_rejections``; every verified delivery is stored once and answered 200.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from sidecar.db.models import WebhookRejection
from sidecar.jobs import inbox
from sidecar.runtime import Runtime
from webhooks.events import EventParseError, EventType, decode_body, payload_key, subject_of
from webhooks.signature import SignatureError, verify

log = logging.getLogger(__name__)

blueprint = Blueprint("webhooks", __name__)

ACCEPTED_TYPES = frozenset({"application/json", "application/x-www-form-urlencoded"})
_MAX_EVENT_ID = 2**63 - 1


@dataclass(frozen=True)
class Rejected(Exception):
    status: int
    reason: str
    message: str


def _printable(value: str) -> str:
    # Control characters are no use in a name, and NUL breaks PostgreSQL text columns.
    return "".join(ch for ch in value if ch.isprintable()).strip()


def _header(name: str, limit: int) -> str:
    return _printable(request.headers.get(name, ""))[:limit]


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["mug"]
    return runtime


@blueprint.post("/webhooks/discourse")
def receive() -> tuple[Response, int]:
    runtime = _runtime()
    body: bytes | None = None
    try:
        body = _read_body(runtime.config.webhooks.max_body_bytes)
        try:
            verify(runtime.webhook_secret, body, request.headers.get("X-Discourse-Event-Signature"))
        except SignatureError as exc:
            raise Rejected(401, exc.reason, str(exc)) from None
        incoming = _incoming(body, runtime)
    except Rejected as rejected:
        _record_rejection(runtime, rejected, body)
        return jsonify(error=rejected.reason, message=rejected.message), rejected.status

    with runtime.engine.begin() as conn:
        result = inbox.store(conn, incoming)
    if not result.duplicate:
        runtime.arrivals.ring()
    outcome = "duplicate" if result.duplicate else "stored"
    runtime.metrics.webhook_requests.labels(outcome).inc()
    context = {"delivery_id": result.delivery_id, "event": incoming.event_name, "event_id": incoming.event_id}
    log.info("webhook %s", outcome, extra=context)
    return jsonify(status=outcome, delivery_id=result.delivery_id), 200


def _read_body(limit: int) -> bytes:
    # One byte past the limit: a streamed (chunked) body is cut at max_content_length without an error,
    # so reading limit + 1 bytes is how an over-long stream shows itself.
    request.max_content_length = limit + 1
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        body = None
    if body is None or len(body) > limit:
        raise Rejected(413, "body_too_large", f"body exceeds {limit} bytes")
    return body


def _incoming(body: bytes, runtime: Runtime) -> inbox.IncomingDelivery:
    mimetype = request.mimetype or "application/json"
    if mimetype not in ACCEPTED_TYPES:
        raise Rejected(415, "unsupported_content_type", f"content type {mimetype!r} is not accepted")
    event_name = _header("X-Discourse-Event", 100)
    if not event_name:
        raise Rejected(400, "missing_event", "X-Discourse-Event header is missing")
    raw_id = _header("X-Discourse-Event-Id", 30)
    if not raw_id.isascii() or not raw_id.isdigit() or int(raw_id) > _MAX_EVENT_ID:
        raise Rejected(400, "bad_event_id", "X-Discourse-Event-Id must be a non-negative integer")
    try:
        document = decode_body(body)
    except EventParseError as exc:
        raise Rejected(400, "malformed_json", str(exc)) from None
    # Discourse sends the same JSON body for form-encoded hooks (FACTS.md §1): it is read as JSON either way.
    event_type = _header("X-Discourse-Event-Type", 100) or _printable(payload_key(document))[:100]
    return inbox.IncomingDelivery(
        instance=_header("X-Discourse-Instance", 500),
        event_id=int(raw_id),
        event_type=event_type,
        event_name=event_name,
        subject=subject_of(document),
        content_type=_header("Content-Type", 200),
        body=body,
        received_at=runtime.clock.now(),
        # Every ping has the same body; only its event id tells two apart.
        dedupe_on_content=event_type != EventType.PING,
    )


def _record_rejection(runtime: Runtime, rejected: Rejected, body: bytes | None) -> None:
    row = WebhookRejection(
        received_at=runtime.clock.now(),
        reason=rejected.reason,
        status_code=rejected.status,
        event_name=_header("X-Discourse-Event", 100) or None,
        event_id=_header("X-Discourse-Event-Id", 100) or None,
        instance=_header("X-Discourse-Instance", 500) or None,
        remote_addr=request.remote_addr,
        body_bytes=len(body) if body is not None else request.content_length,
        body_sha256=hashlib.sha256(body).hexdigest() if body is not None else None,
    )
    with runtime.sessions.begin() as session:
        inbox.record_rejection(session, row)
    runtime.metrics.webhook_requests.labels("rejected").inc()
    runtime.metrics.webhook_rejections.labels(rejected.reason).inc()
    log.warning(
        "webhook rejected",
        extra={
            "reason": rejected.reason,
            "status": rejected.status,
            "event": row.event_name,
            "event_id": row.event_id,
            "remote_addr": row.remote_addr,
            "body_bytes": row.body_bytes,
        },
    )
