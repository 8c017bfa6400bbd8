"""Request parameters as Rails builds ``params``: the query string plus a JSON or form-encoded body, with
Rails' bracket nesting (``users[]=1&users[]=2`` -> a list, ``post[raw]=x`` -> a hash).

Values keep their JSON types; form and query values are strings. Readers below coerce the way the
controllers do; note ``is_true_string``: many Discourse controllers test ``params[:x] == "true"``, which a
JSON ``true`` does not satisfy.
"""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.wrappers import Request

from sidecar.forum.simulator import errors

Params = dict[str, Any]
_KEY_PARTS = re.compile(r"\[([^\]]*)\]")


def _split_key(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    if not rest:
        return [key]
    return [head, *_KEY_PARTS.findall("[" + rest)]


def _assign(params: Params, key: str, value: Any) -> None:
    parts = _split_key(key)
    target: Any = params
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        following = None if last else parts[index + 1]
        if part == "":
            if not isinstance(target, list):
                return  # "a[][b]" shapes are not used by the endpoints simulated
            if last:
                target.append(value)
            return
        if not isinstance(target, dict):
            return
        if last:
            target[part] = value
        else:
            container: Any = [] if following == "" else {}
            existing = target.get(part)
            if not isinstance(existing, type(container)):
                target[part] = container
            target = target[part]


def parse_params(request: Request) -> Params:
    params: Params = {}
    for key, value in request.args.items(multi=True):
        _assign(params, key, value)
    mimetype = request.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        raw = request.get_data(cache=True)
        if raw.strip():
            try:
                document = json.loads(raw)
            except ValueError:
                # dc: ActionDispatch answers 400 for a body it cannot parse
                raise errors.ApiError(
                    400, errors.errors_json(["The JSON body could not be parsed."])
                ) from None
            if isinstance(document, dict):
                params.update(document)
    else:
        for key, value in request.form.items(multi=True):
            _assign(params, key, value)
    return params


def text(params: Params, name: str) -> str | None:
    """A parameter as a string (numbers and booleans as Ruby's ``to_s`` writes them), or None."""
    value = params.get(name)
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def present(params: Params, name: str) -> str | None:
    """Rails' ``params[:x].present?``: a non-blank string, else None."""
    value = text(params, name)
    return value if value is not None and value.strip() else None


def integer(params: Params, name: str) -> int | None:
    """Ruby's ``to_i``: leading digits, 0 when there are none; None when absent."""
    value = text(params, name)
    if value is None:
        return None
    match = re.match(r"\s*([-+]?\d+)", value)
    return int(match.group(1)) if match else 0


def boolean(params: Params, name: str) -> bool | None:
    """``ActiveModel::Type::Boolean.new.cast``: false for false/"false"/"0"/"f"/"off", None when blank."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in {"0", "f", "false", "off", "n", "no"}


def is_true_string(params: Params, name: str) -> bool:
    """``params[:x] == "true"``: only the string "true" counts (a JSON boolean does not)."""
    return params.get(name) == "true"


def required(params: Params, name: str) -> str:
    """``params.require(:x)``: 400 when missing or blank."""
    value = present(params, name)
    if value is None:
        raise errors.parameter_missing(name)
    return value


def id_list(params: Params, name: str) -> list[int]:
    """``users[]=1&users[]=2`` or ``users=1,2`` or a JSON list, as integers."""
    value = params.get(name)
    if isinstance(value, list):
        items = value
    elif value is None:
        return []
    else:
        items = str(value).split(",")
    result = []
    for item in items:
        match = re.match(r"\s*(\d+)", str(item))
        if match:
            result.append(int(match.group(1)))
    return result
