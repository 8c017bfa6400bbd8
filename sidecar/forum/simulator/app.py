"""The simulator's HTTP API: a plain werkzeug WSGI application over a DiscourseSimulator.

Each request goes through, in order: injected latency, an injected 5xx (before Discourse, so not counted),
authentication (headers ``Api-Key`` + ``Api-Username`` only: dc: lib/auth/default_current_user_provider.rb),
the site-wide admin API rate limit (only for a valid key), routing (paths with or without ``.json``), the
route's access rule, then the handler. Every request is recorded in ``sim.requests`` with its status.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sidecar.forum.simulator import errors, routes_admin_users, routes_groups, routes_posts, routes_site
from sidecar.forum.simulator.answers import json_answer
from sidecar.forum.simulator.context import Access, Ctx, Route
from sidecar.forum.simulator.errors import ApiError
from sidecar.forum.simulator.faults import PROXY_503_HTML, READ_ONLY_MESSAGE
from sidecar.forum.simulator.limits import ERROR_CODE
from sidecar.forum.simulator.params import parse_params
from sidecar.forum.simulator.records import ApiRequest, User

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from sidecar.forum.simulator.site import DiscourseSimulator

ROUTES: tuple[Route, ...] = (
    *routes_admin_users.ROUTES,
    *routes_groups.ROUTES,
    *routes_posts.ROUTES,
    *routes_site.ROUTES,
)


class SimulatorApp:
    """The WSGI callable; ``handle(request)`` gives the werkzeug Response directly."""

    def __init__(self, sim: DiscourseSimulator) -> None:
        self.sim = sim
        self._routes = {str(index): route for index, route in enumerate(ROUTES)}
        self._map = Map(
            [
                Rule(route.path, endpoint=key, methods=list(route.methods))
                for key, route in self._routes.items()
            ],
            strict_slashes=False,
            merge_slashes=False,
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = self.handle(Request(environ))
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        try:
            response = self._handle(request)
        except ApiError as exc:
            response = json_answer(exc.body, exc.status, exc.headers)
        self.sim.record_request(
            ApiRequest(
                at=self.sim.clock.now(),
                method=request.method,
                path=request.path,
                query=request.query_string.decode("latin-1"),
                api_username=request.headers.get("Api-Username"),
                status=response.status_code,
            )
        )
        return response

    def _handle(self, request: Request) -> Response:
        sim = self.sim
        if sim.faults.latency > 0:
            sim.sleep(sim.faults.latency)
        if sim.draw_api_fault():
            return self._fault_answer()
        user = self._authenticate(request)
        path = request.path.removesuffix(".json") or "/"
        adapter = self._map.bind("forum", path_info=path)
        try:
            endpoint, args = adapter.match(path, method=request.method)
        except HTTPException:  # no route, or not for this method: Rails answers 404 for both
            raise errors.not_found() from None
        route = self._routes[str(endpoint)]
        self._check_access(route, user)
        ctx = Ctx(sim=sim, request=request, params=parse_params(request), user=user)
        return route.handler(ctx, {k: str(v) for k, v in args.items()})

    def _fault_answer(self) -> Response:
        faults = self.sim.faults
        if faults.error_format == "json":
            body = errors.errors_json([READ_ONLY_MESSAGE], "read_only")
            return json_answer(body, faults.error_status)
        return Response(PROXY_503_HTML, status=faults.error_status, content_type="text/html")

    def _authenticate(self, request: Request) -> User | None:
        """The API user, or None for an anonymous request (no ``Api-Key`` header; a key in the query string
        is not looked at, as Discourse only accepts it on a few RSS/ICS routes)."""
        key = request.headers.get("Api-Key")
        if key is None:
            return None
        sim = self.sim
        username = request.headers.get("Api-Username")
        with sim.lock:
            api_key = sim.api_keys.get(key)
            user: User | None = None
            if api_key is not None and not api_key.revoked:
                if api_key.user_id is not None:
                    bound = sim.users.get(api_key.user_id)
                    if bound is not None and (not username or bound.username_lower == username.lower()):
                        user = bound
                elif username:
                    user = sim.find_user(username=username)
            if user is None:
                raise errors.invalid_access(errors.INVALID_API_CREDENTIALS)
            if user.is_suspended(sim.clock.now()) or not user.active:
                raise errors.invalid_access()
        refusal = sim.limiter.acquire()
        if refusal is not None:
            body = errors.errors_json([refusal.message], "rate_limit")
            body["extras"] = {"wait_seconds": refusal.wait_seconds, "time_left": refusal.time_left}
            headers = [
                ("Retry-After", str(refusal.wait_seconds)),
                ("Discourse-Rate-Limit-Error-Code", ERROR_CODE),
            ]
            raise ApiError(429, body, headers=headers)
        return user

    @staticmethod
    def _check_access(route: Route, user: User | None) -> None:
        if route.access is Access.STAFF and (user is None or not user.staff):
            raise errors.not_found()  # StaffConstraint: the admin routes do not exist for them
        if route.access is Access.ADMIN and (user is None or not user.admin):
            raise errors.not_found()
        if route.access is Access.LOGIN and user is None:
            raise errors.not_logged_in()
