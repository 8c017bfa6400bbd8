"""No request, however malformed, makes the intake answer 5xx; whatever is answered 200 is stored."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sidecar.db.models import Delivery
from sidecar.runtime import Runtime
from tests.support import SECRET
from webhooks.signature import sign

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
json_bodies = st.builds(
    lambda key, value: json.dumps({key: value}).encode(),
    st.sampled_from(["user", "post", "topic", "ping", "reviewable", "group_user", "x\x00y"])
    | st.text(max_size=8),
    json_values,
)
bodies = st.binary(max_size=512) | json_bodies
header_text = st.text(max_size=40)
signatures = st.sampled_from(["valid", "missing", "garbage"])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=bodies,
    signature=signatures,
    garbage=header_text,
    event=st.sampled_from(["user_created", "post_edited", "ping", ""]) | header_text,
    event_type=st.none() | header_text,
    event_id=st.sampled_from(["1", "0", "-1", "99999999999999999999999", ""]) | header_text,
    instance=st.none() | header_text,
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
)
def test_no_request_makes_the_intake_fail(
    client: FlaskClient,
    runtime: Runtime,
    body: bytes,
    signature: str,
    garbage: str,
    event: str,
    event_type: str | None,
    event_id: str,
    instance: str | None,
    content_type: str,
) -> None:
    headers = {"X-Discourse-Event": event, "X-Discourse-Event-Id": event_id, "Content-Type": content_type}
    if event_type is not None:
        headers["X-Discourse-Event-Type"] = event_type
    if instance is not None:
        headers["X-Discourse-Instance"] = instance
    if signature == "valid":
        headers["X-Discourse-Event-Signature"] = sign(SECRET.encode(), body)
    elif signature == "garbage":
        headers["X-Discourse-Event-Signature"] = garbage
    headers = {k: v for k, v in headers.items() if _latin1(v)}
    response = client.post("/webhooks/discourse", data=body, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.is_json
    if response.status_code == 200:
        delivery_id = response.json["delivery_id"]  # type: ignore[index]
        with runtime.sessions() as session:
            assert (
                session.execute(select(Delivery.body).where(Delivery.id == delivery_id)).scalar_one()
                is not None
            )
    else:
        assert response.status_code in (400, 401, 413, 415)


def _latin1(value: str) -> bool:
    """HTTP header values travel as latin-1; others cannot be sent at all."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return "\n" not in value and "\r" not in value
