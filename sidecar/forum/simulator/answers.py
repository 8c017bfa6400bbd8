"""HTTP answers as Discourse writes them: JSON with ``application/json; charset=utf-8`` exactly (Rails'
``render json:``; pydiscourse rejects anything else), and empty bodies for ``render body: nil``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from werkzeug.wrappers import Response

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"


def dump(data: Any) -> bytes:
    """Compact UTF-8 JSON, as ``MultiJson.dump`` writes it."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def json_answer(data: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()) -> Response:
    response = Response(dump(data), status=status, headers=list(headers))
    response.headers["Content-Type"] = JSON_CONTENT_TYPE
    return response


def empty_answer(status: int = 200) -> Response:
    """``render body: nil``: no body; Rails' default content type for a body render is text/plain."""
    response = Response(b"", status=status)
    response.headers["Content-Type"] = TEXT_CONTENT_TYPE
    return response


def success() -> dict[str, Any]:
    return {"success": "OK"}
