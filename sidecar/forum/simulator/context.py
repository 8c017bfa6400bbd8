"""What a route handler gets: the simulator, the request, its parameters and the API user."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from werkzeug.wrappers import Request, Response

from sidecar.forum.simulator import errors
from sidecar.forum.simulator.params import Params
from sidecar.forum.simulator.records import User
from sidecar.forum.simulator.site import DiscourseSimulator


class Access(Enum):
    """Who may reach a route. ``STAFF``/``ADMIN`` routes live in Discourse's ``admin`` namespace behind
    ``StaffConstraint``/``AdminConstraint``: for anyone else the route does not exist (404)."""

    PUBLIC = "public"
    LOGIN = "login"
    STAFF = "staff"
    ADMIN = "admin"


@dataclass
class Ctx:
    sim: DiscourseSimulator
    request: Request
    params: Params
    user: User | None

    @property
    def actor(self) -> User:
        """The API user, for routes that require one (``Access.LOGIN`` and above)."""
        if self.user is None:
            raise errors.not_logged_in()
        return self.user


Handler = Callable[[Ctx, Mapping[str, str]], Response]


@dataclass(frozen=True)
class Route:
    path: str
    methods: tuple[str, ...]
    handler: Handler
    access: Access = Access.PUBLIC
