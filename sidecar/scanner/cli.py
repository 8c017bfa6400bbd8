"""``mug-sidecar scan``: the scanner on one post, or on a stream of posts as JSON lines.

Exit status 0 whether or not anything is found; 1 on bad input (unreadable or non-UTF-8 text, a JSON line
that is not an object with a string ``raw``), with a message naming the line. The database is not used.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from sidecar.cli_exit import fail
from sidecar.config import Config
from sidecar.runtime import resolve_fingerprint_key
from sidecar.scanner.scanner import Scanner, ScanSettings

if TYPE_CHECKING:
    from sidecar.cli import Context


@functools.lru_cache(maxsize=8)
def build_scanner(config: Config) -> Scanner:
    """The scanner the configuration describes (built once per configuration: workers call it per post)."""
    scanning = config.scanning
    settings = ScanSettings.parse(
        severity=scanning.severity,
        allow_fingerprints=scanning.allow_fingerprints,
        allow_values=scanning.allow_values,
        allow_domains=scanning.allow_domains,
        custom_rules=scanning.custom_rules,
    )
    return Scanner(resolve_fingerprint_key(config), settings)


@click.command()
@click.argument("source", required=False, default="-", metavar="[FILE|-]")
@click.option("--json", "as_json", is_flag=True, help='One JSON object: {"findings": [...]}.')
@click.option(
    "--jsonl",
    is_flag=True,
    help='Read {"id": ..., "raw": "..."} lines from stdin; write {"id": ..., "findings": [...]} lines.',
)
@click.pass_obj
def scan(ctx: Context, source: str, as_json: bool, jsonl: bool) -> None:
    """Report the sensitive information in a post (the file, or stdin with - or no argument).

    Findings carry the type, the character offsets in the post, the severity, a masked preview and a keyed
    fingerprint; never the value itself.
    """
    scanner = build_scanner(ctx.config)
    if jsonl:
        if source != "-":
            fail("--jsonl reads its posts from stdin: give no FILE (or -)")
        _scan_lines(scanner, sys.stdin.buffer)
        return
    raw = _read(source)
    findings = scanner.scan(raw)
    if as_json:
        click.echo(json.dumps({"findings": [f.to_json() for f in findings]}, ensure_ascii=False))
        return
    if not findings:
        click.echo("no findings")
    for f in findings:
        click.echo(f"{f.type:<15} {f.severity:<8} {f.start:>7}-{f.end:<7} {f.preview}  {f.fingerprint}")


def _read(source: str) -> str:
    try:
        if source == "-":
            return sys.stdin.buffer.read().decode("utf-8")
        with open(source, "rb") as fh:
            return fh.read().decode("utf-8")
    except OSError as exc:
        fail(f"cannot read {source}: {exc.strerror}")
    except UnicodeDecodeError as exc:
        fail(f"{'stdin' if source == '-' else source} is not UTF-8 text (byte {exc.start})")


def _scan_lines(scanner: Scanner, stream: BinaryIO) -> None:
    """One post per line, decoded line by line so a bad line is named by its number."""
    for number, data in enumerate(stream, start=1):
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError:
            fail(f"line {number}: not UTF-8 text")
        if not line.strip():
            continue
        post = _post(line, number)
        findings = scanner.scan(post["raw"])
        out = {"id": post.get("id"), "findings": [f.to_json() for f in findings]}
        click.echo(json.dumps(out, ensure_ascii=False))


def _post(line: str, number: int) -> dict[str, Any]:
    try:
        post = json.loads(line)
    except json.JSONDecodeError as exc:
        fail(f"line {number}: not JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(post, dict):
        fail(f'line {number}: expected an object {{"id": ..., "raw": "..."}}')
    if not isinstance(post.get("raw"), str):
        fail(f'line {number}: "raw" must be a string')
    return post
