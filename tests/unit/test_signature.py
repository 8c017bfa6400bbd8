import pytest

from tests.support import CAPTURES, EXAMPLES, capture_events
from webhooks.signature import SignatureError, sign, verify

# dc: spec/jobs/emit_web_hook_event_spec.rb with the secret of spec/fabricators/web_hook_fabricator.rb
DISCOURSE_VECTOR = (
    b'{"ping":"OK"}',
    b"my_lovely_secret_for_web_hook",
    "sha256=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6",
)
EXAMPLE_SECRET = b"example_webhook_secret_1234"
EXAMPLE_VECTORS = {
    "ping.json": "sha256=d7e43049847041f44f30cfb5d1603f5747a96e4a7bd1bb2a64a4addd6b53ec08",
    "post_created.json": "sha256=df35258e2aa6a0606b17640b3b467dc015feb54c643c1cb06af6eabd85ad6fb5",
    "reviewable_created_flag.json": "sha256=7f4a77cab69808d1e15481d56f3435358545a58898cef0cec7965f866311109f",
    "user_created.json": "sha256=a3cd8157c03d4994f454f82163e15f95a2e44b871a580870e26ac0372c9ce1b2",
}


def test_discourse_vector_signs_and_verifies() -> None:
    body, secret, expected = DISCOURSE_VECTOR
    assert sign(secret, body) == expected
    verify(secret, body, expected)


@pytest.mark.parametrize(("name", "expected"), sorted(EXAMPLE_VECTORS.items()))
def test_example_payload_vectors(name: str, expected: str) -> None:
    body = (EXAMPLES / name).read_bytes()
    assert sign(EXAMPLE_SECRET, body) == expected
    verify(EXAMPLE_SECRET, body, expected)


@pytest.mark.parametrize("event", capture_events())
def test_real_capture_bodies_round_trip_and_one_changed_byte_fails(event: str) -> None:
    body = (CAPTURES / f"{event}-body.json").read_bytes()
    header = sign(b"a-secret-of-enough-length", body)
    verify(b"a-secret-of-enough-length", body, header)
    with pytest.raises(SignatureError) as err:
        verify(b"a-secret-of-enough-length", body + b" ", header)
    assert err.value.reason == "bad_signature"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing_signature"),
        ("", "missing_signature"),
        ("162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6", "bad_signature"),
        ("sha1=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6", "bad_signature"),
        ("sha256=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7", "bad_signature"),
        ("sha256=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6aa", "bad_signature"),
        ("sha256=zz2f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6", "bad_signature"),
        ("sha256=062f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6", "bad_signature"),
    ],
)
def test_malformed_or_wrong_signatures_are_refused(header: str | None, reason: str) -> None:
    body, secret, _ = DISCOURSE_VECTOR
    with pytest.raises(SignatureError) as err:
        verify(secret, body, header)
    assert err.value.reason == reason


def test_uppercase_hex_digest_is_accepted() -> None:
    body, secret, expected = DISCOURSE_VECTOR
    verify(secret, body, "sha256=" + expected.removeprefix("sha256=").upper())


def test_wrong_secret_is_refused() -> None:
    body, _, expected = DISCOURSE_VECTOR
    with pytest.raises(SignatureError):
        verify(b"another_secret_entirely", body, expected)
