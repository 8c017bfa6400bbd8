"""The webhook subscription the README asks admins to set up is exactly what the sidecar acts on."""

from __future__ import annotations

import re
from pathlib import Path

from webhooks.handlers import build_registry

README = Path(__file__).parents[2] / "README.md"


def readme_events() -> set[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("**Which events**")
    item = text[start : text.index("\n   - **", start)]
    return set(re.findall(r"`([a-z_]+)`", item.split("*Send me everything*")[0]))


def test_the_readme_lists_the_events_the_sidecar_handles() -> None:
    assert readme_events() == {str(name) for name in build_registry().handled_events()}
