"""The intake over real HTTP: what is stored, what is refused; nothing is processed in the request."""

import json

import pytest
import requests
from sqlalchemy import func, select

from sidecar.db.models import Delivery, DeliveryStatus, WebhookRejection
from sidecar.runtime import Runtime
from tests.support import INSTANCE, SECRET, capture_events, headers_for, load_capture, user_body
from webhooks.signature import sign

URL = "/webhooks/discourse"


def deliveries(runtime: Runtime) -> list[Delivery]:
    with runtime.sessions() as session:
        return list(session.execute(select(Delivery).order_by(Delivery.id)).scalars())


def rejections(runtime: Runtime) -> list[WebhookRejection]:
    with runtime.sessions() as session:
        return list(session.execute(select(WebhookRejection).order_by(WebhookRejection.id)).scalars())


def post(base: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(base + URL, data=body, headers=headers, timeout=10)


@pytest.mark.parametrize("event", capture_events())
def test_real_captures_are_stored_as_received(live_server: str, runtime: Runtime, event: str) -> None:
    body, kept = load_capture(event)
    headers = {
        **kept,
        "Content-Type": "application/json",
        "X-Discourse-Event-Signature": sign(SECRET.encode(), body),
    }
    response = post(live_server, body, headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    [stored] = deliveries(runtime)
    assert response.json() == {"status": "stored", "delivery_id": stored.id}
    assert stored.body == body  # byte-exact
    assert stored.event_name == kept["X-Discourse-Event"]
    assert stored.event_type == kept["X-Discourse-Event-Type"]
    assert stored.event_id == int(kept["X-Discourse-Event-Id"])
    assert stored.instance == kept["X-Discourse-Instance"]
    assert stored.status == DeliveryStatus.RECEIVED  # nothing processed inside the request
    assert stored.attempts == 0
    assert len(stored.body_sha256) == 64
    assert stored.received_at == runtime.clock.now()


def test_same_event_id_from_same_instance_is_stored_once(live_server: str, runtime: Runtime) -> None:
    body = user_body(5)
    headers = headers_for(body, event="user_updated", event_id=77)
    first = post(live_server, body, headers)
    again = post(live_server, body, headers)  # Discourse's "Redeliver": same id, same body
    assert first.status_code == again.status_code == 200
    assert again.json() == {"status": "duplicate", "delivery_id": first.json()["delivery_id"]}
    assert len(deliveries(runtime)) == 1


def test_retry_with_a_new_event_id_but_the_same_body_is_a_duplicate(
    live_server: str, runtime: Runtime
) -> None:
    body = user_body(5)
    first = post(live_server, body, headers_for(body, event="user_updated", event_id=1))
    retried = post(live_server, body, headers_for(body, event="user_updated", event_id=2))
    assert retried.json() == {"status": "duplicate", "delivery_id": first.json()["delivery_id"]}
    assert len(deliveries(runtime)) == 1


def test_distinct_events_and_instances_are_not_duplicates(live_server: str, runtime: Runtime) -> None:
    body = user_body(5)
    post(live_server, body, headers_for(body, event="user_updated", event_id=1))
    post(live_server, body, headers_for(body, event="user_confirmed_email", event_id=2))
    post(
        live_server,
        body,
        headers_for(body, event="user_updated", event_id=1, instance="https://other.example"),
    )
    post(live_server, user_body(6), headers_for(user_body(6), event="user_updated", event_id=3))
    assert [(d.event_name, d.subject) for d in deliveries(runtime)] == [
        ("user_updated", "user:5"),
        ("user_confirmed_email", "user:5"),
        ("user_updated", "user:5"),
        ("user_updated", "user:6"),
    ]


def test_every_ping_is_acknowledged_and_kept(live_server: str, runtime: Runtime) -> None:
    body = b'{"ping":"OK"}'
    for event_id in (10, 11):
        response = post(
            live_server, body, headers_for(body, event="ping", event_type="ping", event_id=event_id)
        )
        assert response.status_code == 200
        assert response.json()["status"] == "stored"
    assert [d.event_id for d in deliveries(runtime)] == [10, 11]


def test_form_encoded_hooks_send_the_same_json_body(live_server: str, runtime: Runtime) -> None:
    body = user_body(8)
    headers = headers_for(body, event="user_created", content_type="application/x-www-form-urlencoded")
    response = post(live_server, body, headers)
    assert response.status_code == 200
    [stored] = deliveries(runtime)
    assert stored.body == body
    assert stored.content_type == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("mutate", "status", "reason"),
    [
        (lambda h, b: h.pop("X-Discourse-Event-Signature"), 401, "missing_signature"),
        (
            lambda h, b: h.update({"X-Discourse-Event-Signature": sign(b"wrong-secret-entirely", b)}),
            401,
            "bad_signature",
        ),
        (lambda h, b: h.update({"X-Discourse-Event-Signature": "sha256=abc"}), 401, "bad_signature"),
        (lambda h, b: h.pop("X-Discourse-Event"), 400, "missing_event"),
        (lambda h, b: h.update({"X-Discourse-Event-Id": "abc"}), 400, "bad_event_id"),
        (lambda h, b: h.pop("X-Discourse-Event-Id"), 400, "bad_event_id"),
        (lambda h, b: h.update({"Content-Type": "text/plain"}), 415, "unsupported_content_type"),
    ],
)
def test_bad_requests_are_refused_recorded_and_counted(
    live_server: str, runtime: Runtime, mutate: object, status: int, reason: str
) -> None:
    body = user_body(3)
    headers = headers_for(body, event="user_created", event_id=99)
    mutate(headers, body)  # type: ignore[operator]
    response = post(live_server, body, headers)
    assert response.status_code == status
    assert response.json()["error"] == reason
    assert deliveries(runtime) == []
    [rejection] = rejections(runtime)
    assert (rejection.reason, rejection.status_code) == (reason, status)
    assert rejection.body_bytes == len(body)
    metrics = requests.get(live_server + "/metrics", timeout=10).text
    assert f'mug_webhook_rejections_total{{reason="{reason}"}} 1.0' in metrics


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"ping"', b"\xff\xfe\x00", b""])
def test_signed_but_malformed_bodies_get_400(live_server: str, runtime: Runtime, body: bytes) -> None:
    response = post(live_server, body, headers_for(body, event="user_created"))
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"
    assert deliveries(runtime) == []
    assert [r.reason for r in rejections(runtime)] == ["malformed_json"]


def test_bodies_over_the_limit_get_413_without_being_read(live_server: str, runtime: Runtime) -> None:
    limit = runtime.config.webhooks.max_body_bytes
    body = json.dumps({"user": {"id": 1, "username": "x", "bio": "a" * limit}}).encode()
    response = post(live_server, body, headers_for(body, event="user_updated"))
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    [rejection] = rejections(runtime)
    assert rejection.reason == "body_too_large"
    assert rejection.body_sha256 is None  # never read
    assert deliveries(runtime) == []


def test_a_body_just_under_the_limit_is_stored(live_server: str, runtime: Runtime) -> None:
    limit = runtime.config.webhooks.max_body_bytes
    prefix = b'{"user":{"id":1,"username":"x","bio":"'
    suffix = b'"}}'
    body = prefix + b"a" * (limit - len(prefix) - len(suffix)) + suffix
    assert len(body) == limit
    assert post(live_server, body, headers_for(body, event="user_updated")).status_code == 200
    assert len(deliveries(runtime)) == 1


def test_chunked_body_over_the_limit_is_refused(live_server: str, runtime: Runtime) -> None:
    limit = runtime.config.webhooks.max_body_bytes
    headers = headers_for(b"x", event="user_updated")

    def chunks():  # no Content-Length: the limit must hold while streaming
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536

    response = requests.post(live_server + URL, data=chunks(), headers=headers, timeout=30)
    assert response.status_code == 413
    assert deliveries(runtime) == []


def test_unsigned_request_learns_nothing_more_than_401(live_server: str, runtime: Runtime) -> None:
    response = requests.post(live_server + URL, data=b"{}", timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "missing_signature"


def test_stored_and_duplicate_counts_reach_metrics(live_server: str, runtime: Runtime) -> None:
    body = user_body(1)
    post(live_server, body, headers_for(body, event="user_updated", event_id=1))
    post(live_server, body, headers_for(body, event="user_updated", event_id=1))
    metrics = requests.get(live_server + "/metrics", timeout=10).text
    assert 'mug_webhook_requests_total{result="stored"} 1.0' in metrics
    assert 'mug_webhook_requests_total{result="duplicate"} 1.0' in metrics
    assert 'mug_deliveries{status="received"} 1.0' in metrics


def test_instance_header_is_recorded(live_server: str, runtime: Runtime) -> None:
    body = user_body(2)
    post(live_server, body, headers_for(body, event="user_updated"))
    assert deliveries(runtime)[0].instance == INSTANCE


def test_get_is_not_allowed(live_server: str, runtime: Runtime) -> None:
    response = requests.get(live_server + URL, timeout=10)
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    with runtime.sessions() as session:
        assert session.execute(select(func.count()).select_from(Delivery)).scalar_one() == 0
