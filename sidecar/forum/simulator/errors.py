"""Discourse's error answers, raised by the model and the routes alike and rendered by the app.

Messages are Discourse's English locale (dc: config/locales/server.en.yml); the JSON shape is that of
``render_json_error`` (dc: app/controllers/application_controller.rb):
``{"errors": [...], "error_type": ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NOT_FOUND = "The requested URL or resource could not be found."
INVALID_ACCESS = "You are not permitted to view the requested resource."
INVALID_API_CREDENTIALS = INVALID_ACCESS + " The API username or key is invalid."
NOT_LOGGED_IN = "You need to be logged in to do that."
ACTION_ALREADY_PERFORMED = "Oops! You already performed this action. Can you try refreshing the page?"


class ApiError(Exception):
    """An HTTP answer other than success: a status, a JSON body and extra headers."""

    def __init__(
        self,
        status: int,
        body: Mapping[str, Any],
        *,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body: dict[str, Any] = dict(body)
        self.headers = list(headers)

    @property
    def messages(self) -> list[str]:
        errors = self.body.get("errors")
        if isinstance(errors, list):
            return [str(e) for e in errors]
        message = self.body.get("message")
        return [str(message)] if message else []


def errors_json(messages: Sequence[str], error_type: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"errors": list(messages)}
    if error_type:
        body["error_type"] = error_type
    return body


def not_found() -> ApiError:
    return ApiError(404, errors_json([NOT_FOUND], "not_found"))


def invalid_access(message: str = INVALID_ACCESS) -> ApiError:
    return ApiError(403, errors_json([message], "invalid_access"))


def not_logged_in() -> ApiError:
    return ApiError(403, errors_json([NOT_LOGGED_IN], "not_logged_in"))


def invalid_parameters(what: str) -> ApiError:
    """``Discourse::InvalidParameters``: 400 with the ``invalid_params`` message."""
    message = f"You supplied invalid parameters to the request: {what}"
    return ApiError(400, errors_json([message], "invalid_parameters"))


def parameter_missing(name: str) -> ApiError:
    """Rails' ``params.require`` failing: 400 with the ParameterMissing message and no error type."""
    return ApiError(400, errors_json([f"param is missing or the value is empty: {name}"]))


def unprocessable(*messages: str) -> ApiError:
    """``render_json_error`` of a string or model: 422 unless the object says otherwise."""
    return ApiError(422, errors_json(messages))


def forbidden(*messages: str) -> ApiError:
    """A failed result marked ``forbidden`` (e.g. PostActionCreator): 403 with no error type."""
    return ApiError(403, errors_json(messages))


def failed_contract(*messages: str) -> ApiError:
    """A service contract failing (``on_failed_contract``): 400 ``failed_json`` with the messages."""
    return ApiError(400, {"failed": "FAILED", "errors": list(messages)})


def failed_policy(status: int, message: str) -> ApiError:
    """A service policy failing with a reason (``on_failed_policy``): ``failed_json`` plus ``message``."""
    return ApiError(status, {"failed": "FAILED", "message": message})
