"""Discourse's official OpenAPI spec (tests/fixtures/discourse/openapi.json) through openapi-core.

- ``openapi_for(base_url)``: the spec as an ``openapi_core.OpenAPI`` whose only server is ``base_url`` (the
  file's ``https://{defaultHost}`` would match no URL the tests send), built once per URL (it takes seconds).
- ``Exchange``: one ``requests`` request and the response it got, as recorded by ``Recorder``.
- ``spec_operation``: the spec's ``METHOD /path/{template}.json`` of an exchange, or None when the spec does
  not have that operation; ``concrete_template`` names an uncovered call the same way (ids -> ``{id}``).
- ``problems``: everything openapi-core finds wrong with an exchange, as short stable strings (one per
  unexpected or missing key, JSON paths with ``[*]`` for array items) so a test can allowlist exactly the
  known spec gaps and nothing else.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from jsonschema.exceptions import ValidationError as SchemaError
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import ParameterValidationError
from openapi_core.validation.response.exceptions import HeaderValidationError
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

SPEC_FILE = Path(__file__).parents[1] / "fixtures" / "discourse" / "openapi.json"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@functools.cache
def _spec() -> dict[str, Any]:
    """The parsed spec, shared: read it, never change it (``load_spec`` gives a copy to change)."""
    spec: dict[str, Any] = json.loads(SPEC_FILE.read_text())
    return spec


def load_spec() -> dict[str, Any]:
    """A fresh copy of the spec as a dict."""
    return copy.deepcopy(_spec())


@functools.cache
def openapi_for(base_url: str) -> OpenAPI:
    """The spec with ``servers`` rewritten to ``base_url`` so that the simulator's URLs match its paths."""
    spec = load_spec()
    spec["servers"] = [{"url": base_url.rstrip("/")}]
    return OpenAPI.from_dict(spec)


@dataclass(frozen=True)
class Exchange:
    request: requests.PreparedRequest
    response: requests.Response

    @property
    def method(self) -> str:
        return str(self.request.method).upper()

    @property
    def path(self) -> str:
        return urlsplit(self.request.url or "").path

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.response.status_code}"


class Recorder:
    """A ``requests`` response hook keeping every exchange of the session it is attached to."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def attach(self, session: requests.Session) -> requests.Session:
        session.hooks["response"].append(self.hook)
        return session

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.exchanges.append(Exchange(response.request, response))


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile(
        "".join("[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in parts) + "$"
    )


@functools.cache
def _templates() -> tuple[tuple[str, re.Pattern[str], frozenset[str]], ...]:
    paths: dict[str, dict[str, Any]] = _spec()["paths"]
    found = [
        (t, _template_regex(t), frozenset(m.upper() for m in item if m in HTTP_METHODS))
        for t, item in paths.items()
    ]
    # The most literal template wins (``/groups/by-id/{id}.json`` over ``/groups/{name}.json``).
    return tuple(sorted(found, key=lambda f: -len(re.sub(r"\{[^}]+\}", "", f[0]))))


def spec_operation(method: str, path: str) -> str | None:
    """``GET /admin/users/{id}.json`` for ``GET /admin/users/4.json``; None if the spec lacks the call.

    The spec has templates that differ only in a parameter's name, with different methods
    (``GET /groups/{name}/members.json``, ``PUT /groups/{id}/members.json``): the method picks among them.
    """
    for template, regex, methods in _templates():
        if regex.match(path) and method.upper() in methods:
            return f"{method.upper()} {template}"
    return None


def declared_query_parameters(operation: str) -> frozenset[str]:
    """The query parameters the spec declares for ``operation`` (its path item's and its own)."""
    method, template = operation.split(" ", 1)
    item: dict[str, Any] = _spec()["paths"][template]
    declared = [*item.get("parameters", ()), *item[method.lower()].get("parameters", ())]
    return frozenset(p["name"] for p in declared if p.get("in") == "query")


def concrete_template(method: str, path: str) -> str:
    """A call the spec lacks, named like a spec operation: numeric path segments become ``{id}``."""
    return f"{method.upper()} " + re.sub(r"/\d+(?=[/.]|$)", "/{id}", path)


def operation_of(exchange: Exchange) -> str:
    return spec_operation(exchange.method, exchange.path) or concrete_template(exchange.method, exchange.path)


# --- problems --------------------------------------------------------------------------------------------


def _json_path(error: SchemaError) -> str:
    return "$" + "".join("[*]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    if isinstance(value, bool | dict | list | str) or value is None:
        return names[type(value)]
    return (
        "integer"
        if isinstance(value, int)
        else "number"
        if isinstance(value, float)
        else type(value).__name__
    )


def _schema_problems(error: SchemaError) -> Iterator[str]:
    where = _json_path(error)
    instance, schema = error.instance, error.schema if isinstance(error.schema, dict) else {}
    match error.validator:
        case "additionalProperties" if isinstance(instance, dict):
            known = set(schema.get("properties", {}))
            for key in sorted(k for k in instance if k not in known):
                yield f"{where}: unexpected key {key!r}"
        case "required" if isinstance(instance, dict):
            for key in error.validator_value:
                if key not in instance:
                    yield f"{where}: missing key {key!r}"
        case "type":
            yield f"{where}: {_json_type(instance)} is not {error.validator_value}"
        case "enum":
            yield f"{where}: {instance!r} is not in the enum"
        case _:
            yield f"{where}: {error.validator} {error.message[:120]}"


def _describe(part: str, error: Exception) -> Iterator[str]:
    if isinstance(error, ResponseNotFound):
        yield f"{part}: status not documented"
        return
    if isinstance(error, ParameterValidationError):
        part = f"{part} {error.location} parameter {error.name!r}"
    elif isinstance(error, HeaderValidationError):
        part = f"{part} header {error.name!r}"
    else:
        part = f"{part} body"
    cause = error.__cause__
    if isinstance(cause, InvalidSchemaValue) and cause.schema_errors:
        for schema_error in cause.schema_errors:
            if isinstance(schema_error, SchemaError):
                for problem in _schema_problems(schema_error):
                    yield f"{part} {problem}"
            else:
                yield f"{part}: {schema_error}"
        return
    detail = f"{type(cause).__name__}: {cause}" if cause is not None else f"{type(error).__name__}: {error}"
    yield f"{part}: {detail}"


def request_problems(openapi: OpenAPI, exchange: Exchange) -> set[str]:
    """openapi-core's findings, plus query parameters the spec does not declare: openapi-core ignores those,
    so a misspelled parameter name would otherwise pass."""
    request = RequestsOpenAPIRequest(exchange.request)
    found = {p for e in openapi.iter_request_errors(request) for p in _describe("request", e)}
    operation = spec_operation(exchange.method, exchange.path)
    if operation is not None:
        sent = parse_qs(urlsplit(exchange.request.url or "").query, keep_blank_values=True)
        declared = declared_query_parameters(operation)
        found |= {
            f"request query parameter {name!r}: not in the spec" for name in sent if name not in declared
        }
    return found


def response_problems(openapi: OpenAPI, exchange: Exchange) -> set[str]:
    request = RequestsOpenAPIRequest(exchange.request)
    response = RequestsOpenAPIResponse(exchange.response)
    part = f"response {exchange.response.status_code}"
    return {p for e in openapi.iter_response_errors(request, response) for p in _describe(part, e)}


def problems(openapi: OpenAPI, exchange: Exchange) -> set[str]:
    return request_problems(openapi, exchange) | response_problems(openapi, exchange)


def assert_valid(openapi: OpenAPI, exchange: Exchange, *, request: bool = True) -> None:
    """openapi-core's own verdict (raises on the first error), for exchanges expected to be clean."""
    openapi_request = RequestsOpenAPIRequest(exchange.request)
    if request:
        openapi.validate_request(openapi_request)
    openapi.validate_response(openapi_request, RequestsOpenAPIResponse(exchange.response))
