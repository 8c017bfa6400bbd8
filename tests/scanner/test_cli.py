"""``mug-sidecar scan``, run through the real CLI (``sidecar.cli.main``) with a test's environment.

The command needs no database: the environment names a SQLite file that must never be created.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sidecar.cli import main
from sidecar.runtime import GENERATED_FINGERPRINT_KEY_FILE
from sidecar.scanner import Scanner
from sidecar.scanner.cli import build_scanner
from tests.support import sidecar_env

POST = "Hi, my card is 4111 1111 1111 1111 and my mail jane.doe@acme-corp.com\n"
CARD_AT = (POST.index("4111"), POST.index("4111") + len("4111 1111 1111 1111"))


@pytest.fixture(autouse=True)
def _fresh_scanners() -> Iterator[None]:
    """Each run reads its key afresh, as a new process would (the CLI caches scanners per configuration)."""
    build_scanner.cache_clear()
    yield
    build_scanner.cache_clear()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return sidecar_env(f"sqlite:///{tmp_path / 'never-created.db'}", tmp_path / "state")


def run(env: dict[str, str], *args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(main, ["scan", *args], input=stdin, env=env)


def findings_of(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["findings"]
    findings: list[dict[str, Any]] = document["findings"]
    return findings


def test_a_file_is_scanned_into_a_table(tmp_path: Path, env: dict[str, str]) -> None:
    post = tmp_path / "post.md"
    post.write_text(POST, encoding="utf-8")

    result = run(env, str(post))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:4] == ["CREDIT_CARD", "critical", f"{CARD_AT[0]}-{CARD_AT[1]}", "****"]
    assert lines[0].split()[-2] == "1111"
    assert lines[1].split()[:2] == ["EMAIL", "high"]
    assert "j***@acme-corp.com" in lines[1]
    assert "4111 1111 1111 1111" not in result.output
    assert "jane.doe" not in result.output
    assert not (tmp_path / "never-created.db").exists()


def test_a_file_is_scanned_into_json(tmp_path: Path, env: dict[str, str]) -> None:
    post = tmp_path / "post.md"
    post.write_text(POST, encoding="utf-8")

    findings = findings_of(run(env, str(post), "--json"))

    assert [(f["type"], POST[f["start"] : f["end"]]) for f in findings] == [
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("EMAIL", "jane.doe@acme-corp.com"),
    ]
    assert set(findings[0]) == {
        "type",
        "start",
        "end",
        "severity",
        "preview",
        "fingerprint",
        "detector_version",
    }
    assert findings[0]["preview"] == "**** **** **** 1111"


@pytest.mark.parametrize("args", [["-", "--json"], ["--json"]], ids=["dash", "no-argument"])
def test_stdin_is_scanned(env: dict[str, str], args: list[str]) -> None:
    findings = findings_of(run(env, *args, stdin=POST.encode()))

    assert [f["type"] for f in findings] == ["CREDIT_CARD", "EMAIL"]


def test_offsets_are_characters_not_bytes(env: dict[str, str]) -> None:
    raw = "😀 é 日本 mail jane.doe@acme-corp.com"

    (finding,) = findings_of(run(env, "-", "--json", stdin=raw.encode()))

    assert raw[finding["start"] : finding["end"]] == "jane.doe@acme-corp.com"


def test_a_clean_post_exits_zero(env: dict[str, str]) -> None:
    table = run(env, "-", stdin=b"Our MiVB upgraded to 9.1.0.15 without trouble.")
    as_json = run(env, "-", "--json", stdin=b"Our MiVB upgraded to 9.1.0.15 without trouble.")

    assert table.exit_code == 0
    assert table.stdout.strip() == "no findings"
    assert findings_of(as_json) == []


def test_jsonl_answers_each_post_in_order_with_its_id(env: dict[str, str]) -> None:
    posts = [
        {"id": 17, "raw": "card 4111 1111 1111 1111"},
        {"id": "p-2", "raw": "nothing to see"},
        {"id": None, "raw": "mail jane.doe@acme-corp.com"},
        {"raw": "password=Hunter2024!"},
        {"id": [1, 2], "raw": "IP 10.20.30.40"},
    ]
    stdin = "".join(json.dumps(p) + "\n" for p in posts)

    result = run(env, "--jsonl", stdin=stdin.encode())

    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["id"] for a in answers] == [17, "p-2", None, None, [1, 2]]
    assert [[f["type"] for f in a["findings"]] for a in answers] == [
        ["CREDIT_CARD"],
        [],
        ["EMAIL"],
        ["PASSWORD"],
        ["IP_ADDRESS"],
    ]
    assert all(list(a) == ["id", "findings"] for a in answers)


def test_jsonl_skips_blank_lines(env: dict[str, str]) -> None:
    stdin = '\n{"id": 1, "raw": "card 4111 1111 1111 1111"}\n   \n\n{"id": 2, "raw": "x"}\n\n'

    result = run(env, "--jsonl", stdin=stdin.encode())

    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1, 2]


def test_jsonl_offsets_are_those_of_the_decoded_raw(env: dict[str, str]) -> None:
    raw = 'naïve 😀\n\t"quoted" mail jane.doe@acme-corp.com'
    stdin = json.dumps({"id": 1, "raw": raw}) + "\n"

    result = run(env, "--jsonl", stdin=stdin.encode())

    (finding,) = json.loads(result.stdout)["findings"]
    assert raw[finding["start"] : finding["end"]] == "jane.doe@acme-corp.com"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param("{bad json", "line 3: not JSON", id="not-json"),
        pytest.param(
            '["id", "raw"]', 'line 3: expected an object {"id": ..., "raw": "..."}', id="not-an-object"
        ),
        pytest.param('{"id": 3}', 'line 3: "raw" must be a string', id="no-raw"),
        pytest.param('{"id": 3, "raw": 42}', 'line 3: "raw" must be a string', id="raw-not-a-string"),
    ],
)
def test_a_bad_jsonl_line_fails_naming_its_line(env: dict[str, str], bad: str, message: str) -> None:
    stdin = '{"id": 1, "raw": "card 4111 1111 1111 1111"}\n\n' + bad + '\n{"id": 4, "raw": "x"}\n'

    result = run(env, "--jsonl", stdin=stdin.encode())

    assert result.exit_code == 1
    assert f"error: {message}" in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1]


def test_a_non_utf8_jsonl_line_fails_naming_its_line(env: dict[str, str]) -> None:
    stdin = b'{"id": 1, "raw": "card 4111 1111 1111 1111"}\n{"id": 2, "raw": "caf\xe9"}\n'

    result = run(env, "--jsonl", stdin=stdin)

    assert result.exit_code == 1
    assert "error: line 2: not UTF-8 text" in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1]


def test_a_lone_surrogate_in_a_jsonl_post_is_answered_or_refused_cleanly(env: dict[str, str]) -> None:
    """``\\udb7e`` is valid JSON but no Unicode text: scanned, or refused naming the line; no traceback."""
    stdin = b'{"id": 1, "raw": "password=Zq9!\\udb7eabc"}\n'

    result = run(env, "--jsonl", stdin=stdin)

    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 0:
        assert json.loads(result.stdout)["id"] == 1
    else:
        assert "error: line 1:" in result.stderr


def test_jsonl_takes_no_file(tmp_path: Path, env: dict[str, str]) -> None:
    post = tmp_path / "posts.jsonl"
    post.write_text('{"id": 1, "raw": "x"}\n', encoding="utf-8")

    result = run(env, str(post), "--jsonl")

    assert result.exit_code == 1
    assert "--jsonl reads its posts from stdin" in result.stderr


def test_a_non_utf8_file_fails(tmp_path: Path, env: dict[str, str]) -> None:
    post = tmp_path / "latin1.txt"
    post.write_bytes("Café 4111 1111 1111 1111".encode("latin-1"))

    result = run(env, str(post), "--json")

    assert result.exit_code == 1
    assert f"error: {post} is not UTF-8 text (byte 3)" in result.stderr
    assert result.stdout == ""


def test_non_utf8_stdin_fails(env: dict[str, str]) -> None:
    result = run(env, "-", stdin=b"\xff\xfe card")

    assert result.exit_code == 1
    assert "error: stdin is not UTF-8 text" in result.stderr


def test_a_missing_file_fails(tmp_path: Path, env: dict[str, str]) -> None:
    missing = tmp_path / "nope.md"

    result = run(env, str(missing))

    assert result.exit_code != 0
    assert f"cannot read {missing}" in result.stderr


def test_a_bad_scanning_configuration_fails_before_reading(env: dict[str, str]) -> None:
    result = run({**env, "MUG_SCANNING_SEVERITY": "EMAIL=urgent"}, "-", stdin=POST.encode())

    assert result.exit_code == 1
    assert "invalid configuration: scanning.severity" in result.stderr


# --- the fingerprint key ---------------------------------------------------------------------------------


def fingerprints(env: dict[str, str]) -> list[str]:
    return [f["fingerprint"] for f in findings_of(run(env, "-", "--json", stdin=POST.encode()))]


def test_the_generated_key_file_is_private_and_gives_stable_fingerprints(
    tmp_path: Path, env: dict[str, str]
) -> None:
    key_file = tmp_path / "state" / GENERATED_FINGERPRINT_KEY_FILE
    assert not key_file.exists()

    first = fingerprints(env)
    key = key_file.read_bytes()
    build_scanner.cache_clear()
    second = fingerprints(env)

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key.strip()) >= 32
    assert key_file.read_bytes() == key
    assert first == second
    assert first == [f.fingerprint for f in Scanner(key.strip()).scan(POST)]


def test_another_installation_has_other_fingerprints(tmp_path: Path) -> None:
    one = sidecar_env("sqlite:///unused.db", tmp_path / "one")
    two = sidecar_env("sqlite:///unused.db", tmp_path / "two")

    first, second = fingerprints(one), fingerprints(two)

    assert len(first) == len(second) == 2
    assert set(first).isdisjoint(second)


def test_a_configured_key_is_used_and_changes_the_fingerprints(tmp_path: Path, env: dict[str, str]) -> None:
    generated = fingerprints(env)
    configured = fingerprints({**env, "MUG_SCANNING_FINGERPRINT_KEY": "a-configured-key-0123456789"})
    other = fingerprints({**env, "MUG_SCANNING_FINGERPRINT_KEY": "another-configured-key-012345"})

    assert set(configured).isdisjoint(generated)
    assert set(configured).isdisjoint(other)
    assert configured == [f.fingerprint for f in Scanner(b"a-configured-key-0123456789").scan(POST)]


def test_a_configured_key_needs_no_key_file(tmp_path: Path) -> None:
    env = sidecar_env("sqlite:///unused.db", tmp_path / "state", MUG_SCANNING_FINGERPRINT_KEY="k" * 20)

    fingerprints(env)

    assert not (tmp_path / "state" / GENERATED_FINGERPRINT_KEY_FILE).exists()
