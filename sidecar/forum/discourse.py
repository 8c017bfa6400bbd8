"""The Discourse adapter: the ForumClient port over pydiscourse.

pydiscourse 1.7 is wrapped, not trusted (FACTS.md §4): its ``_request``, the one method every call goes
through, is replaced to add one shared HTTP session, connect/read timeouts, the sidecar-wide rate budget,
429 handling that never sleeps for long, retries of idempotent calls only, and one error tree. Endpoints it
gets wrong (approve is a PUT, suspend needs ``message`` and an aware time, flags, PMs, email lookup, paging
the admin list, paths without ``.json``) are called by their raw paths.

Every write is recorded in the forum-action log with its outcome and the cause it was made for; in a dry
run writes are recorded and reported but not sent. Reads always go to the forum: a plan needs the truth.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests
from pydiscourse import DiscourseClient

from sidecar.config import ForumConfig
from sidecar.forum.actions import ActionLog
from sidecar.forum.port import (
    MAX_SUSPEND_REASON,
    AfterWrite,
    AlreadyDone,
    FlagType,
    Forbidden,
    ForumError,
    ForumPost,
    ForumUser,
    GroupMember,
    GroupRef,
    NotFound,
    Outcome,
    RateLimited,
    Rejected,
    SentMessage,
    Unavailable,
    UserFieldDefinition,
)
from sidecar.forum.ratelimit import SharedTokenBucket
from sidecar.metrics import Metrics

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the admin user list's fixed page size (dc: AdminUserIndexQuery::PAGE_SIZE)
GROUP_PAGE = 50
# POSTs that may be repeated safely; every other POST (a PM, a flag) is never re-sent blindly.
IDEMPOTENT_POSTS = frozenset({"POST /admin/users/{id}/log_out"})


def endpoint_of(verb: str, path: str) -> str:
    """``PUT /admin/users/12/suspend.json`` -> ``PUT /admin/users/{id}/suspend``: a low-cardinality label."""
    path = path.split("?", 1)[0].removesuffix(".json")
    path = re.sub(r"^/groups/(?!by-id/)[^/]+", "/groups/{group}", path)
    path = re.sub(r"^/u/[^/]+", "/u/{username}", path)
    path = re.sub(r"/\d+(?=/|$)", "/{id}", path)
    return f"{verb} {path}"


@dataclass(frozen=True)
class Sleeper:
    """How the adapter waits (for the budget, between retries); tests pass one that only records."""

    sleep: Callable[[float], None] = time.sleep


def forum_session(url: str) -> requests.Session:
    """An HTTP session that reads the environment's proxy and CA bundle settings once, for the forum's URL.

    ``requests`` otherwise reads them again on every request (and looks for a ``.netrc``), which cost more
    than the forum call itself against a forum next door. Set them before the sidecar starts.
    """
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


class _Transport:
    """One HTTP session for the process; budget, timeouts, retries, error mapping and call counts."""

    def __init__(
        self,
        settings: ForumConfig,
        *,
        bucket: SharedTokenBucket,
        metrics: Metrics,
        sleeper: Sleeper,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.bucket = bucket
        self.metrics = metrics
        self.sleeper = sleeper
        self.session = session or forum_session(settings.url)
        self.session.headers.update(
            {
                "Accept": "application/json; charset=utf-8",
                "Api-Key": settings.api_key or "",
                "Api-Username": settings.api_username,
            }
        )

    def send(self, verb: str, path: str, **kwargs: Any) -> Any:
        endpoint = endpoint_of(verb, path)
        idempotent = verb != "POST" or endpoint in IDEMPOTENT_POSTS
        url = self.settings.url.rstrip("/") + path
        timeout = (self.settings.connect_timeout_seconds, self.settings.read_timeout_seconds)
        attempt = 0
        waited = 0.0
        while True:
            wait = self.bucket.take(
                max_wait=self.settings.max_wait_seconds - waited, sleep=self.sleeper.sleep
            )
            if wait > 0:
                self.metrics.forum_calls.labels(endpoint, "budget_wait").inc()
                raise RateLimited(
                    f"the sidecar's forum budget is spent for {wait:.1f}s",
                    wait_seconds=wait,
                    endpoint=endpoint,
                    status=None,
                )
            try:
                response = self.session.request(verb, url, timeout=timeout, allow_redirects=False, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                self.metrics.forum_calls.labels(endpoint, "network_error").inc()
                if idempotent and attempt < self.settings.retries:
                    attempt += 1
                    self.sleeper.sleep(0.5 * 2**attempt)
                    continue
                raise Unavailable(f"{endpoint}: {type(exc).__name__}", endpoint=endpoint) from exc
            status = response.status_code
            self.metrics.forum_calls.labels(endpoint, str(status)).inc()
            if status == 429:
                wait_for = retry_after(response)
                self.bucket.hold_off(wait_for)
                # A 429 is answered before anything happens, so even a PM may be sent again.
                if waited + wait_for <= self.settings.max_wait_seconds:
                    self.sleeper.sleep(wait_for)
                    waited += wait_for
                    continue
                raise RateLimited(
                    f"{endpoint}: the forum asked to wait {wait_for:.0f}s",
                    wait_seconds=wait_for,
                    endpoint=endpoint,
                )
            if status >= 500 and idempotent and attempt < self.settings.retries:
                attempt += 1
                self.sleeper.sleep(0.5 * 2**attempt)
                continue
            return decode(response, endpoint)


def retry_after(response: requests.Response) -> float:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date) or ``extras.wait_seconds``.

    Never less than a second: Discourse counts in whole seconds and may say 0 while still refusing.
    """
    header = response.headers.get("Retry-After", "").strip()
    if header.isdigit():
        return max(1.0, float(header))
    if header:
        try:
            return max(1.0, (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            pass  # not a date either: fall back to the body
    try:
        wait = response.json()["extras"]["wait_seconds"]
        return max(1.0, float(wait))
    except (ValueError, KeyError, TypeError):
        return 10.0  # the per-IP limiter answers in text/plain with no hint (FACTS.md §2)


def _errors(response: requests.Response) -> list[str]:
    """Discourse's reasons: ``errors`` (render_json_error), or ``message`` (a second suspend's 409)."""
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    errors = body.get("errors")
    found = [str(e) for e in errors] if isinstance(errors, list) else []
    if not found and isinstance(body.get("message"), str):
        found.append(body["message"])
    return found


def decode(response: requests.Response, endpoint: str) -> Any:
    status = response.status_code
    if 200 <= status < 300:
        if not response.content.strip():
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise Unavailable(
                f"{endpoint}: answered {status} with a body that is not JSON",
                endpoint=endpoint,
                status=status,
            ) from exc
    errors = _errors(response)
    message = f"{endpoint}: {status} " + ("; ".join(errors) or response.reason or "")
    if status == 404:
        raise NotFound(message, endpoint=endpoint, status=status)
    if status == 403:
        raise Forbidden(message, endpoint=endpoint, status=status)
    if status == 409:
        raise AlreadyDone(message, endpoint=endpoint, status=status)
    if status >= 500:
        raise Unavailable(message, endpoint=endpoint, status=status)
    if 300 <= status < 400:
        raise Forbidden(
            f"{endpoint}: redirected ({status}); is the API key or URL wrong?",
            endpoint=endpoint,
            status=status,
        )
    raise Rejected(message, messages=errors, endpoint=endpoint, status=status)


class _PyDiscourse(DiscourseClient):  # type: ignore[misc]  # pydiscourse ships no type hints
    """pydiscourse with its one HTTP method replaced by the sidecar's transport."""

    def __init__(self, transport: _Transport) -> None:
        super().__init__(
            transport.settings.url.rstrip("/"), transport.settings.api_username, "", timeout=None
        )
        self._transport = transport

    def _request(
        self,
        verb: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        override_request_kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        return self._transport.send(verb, path, params=params, files=files, data=data, json=json)


# --- parsing ---------------------------------------------------------------------------------------------


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _user(row: Mapping[str, Any]) -> ForumUser:
    approved = row.get("approved")
    fields = row.get("user_fields") or {}
    return ForumUser(
        id=int(row["id"]),
        username=str(row["username"]),
        name=row.get("name"),
        email=row.get("email"),
        secondary_emails=tuple(str(e) for e in row.get("secondary_emails") or ()),
        active=bool(row.get("active")),
        approved=None if approved is None else bool(approved),
        admin=bool(row.get("admin")),
        moderator=bool(row.get("moderator")),
        staged=bool(row.get("staged")),
        trust_level=row.get("trust_level"),
        created_at=_time(row.get("created_at")),
        suspended_till=_time(row.get("suspended_till")),
        silenced_till=_time(row.get("silenced_till")),
        groups=tuple(
            GroupRef(id=int(g["id"]), name=str(g["name"]), automatic=bool(g.get("automatic")))
            for g in row.get("groups") or ()
            if isinstance(g, Mapping) and "id" in g and "name" in g
        ),
        user_fields={str(k): (None if v is None else str(v)) for k, v in fields.items()}
        if isinstance(fields, Mapping)
        else {},
    )


def _post(body: Mapping[str, Any]) -> ForumPost:
    return ForumPost(
        id=int(body["id"]),
        topic_id=int(body["topic_id"]),
        post_number=int(body.get("post_number") or 1),
        user_id=body.get("user_id"),
        username=body.get("username"),
        raw=str(body.get("raw") or ""),
        version=int(body.get("version") or 1),
        hidden=bool(body.get("hidden")),
        deleted=body.get("deleted_at") is not None,
    )


def _acted(body: Mapping[str, Any], flag_type: int) -> bool:
    """Whether the API user has already taken this action on the post (PostSerializer actions_summary)."""
    for entry in body.get("actions_summary") or ():
        if isinstance(entry, Mapping) and entry.get("id") == flag_type and entry.get("acted"):
            return True
    return False


# --- the adapter -----------------------------------------------------------------------------------------


class DiscourseForum:
    """ForumClient over the Discourse admin API; ``with_cause`` gives a view logging writes under a cause."""

    def __init__(
        self,
        settings: ForumConfig,
        *,
        bucket: SharedTokenBucket,
        actions: ActionLog,
        metrics: Metrics,
        sleeper: Sleeper | None = None,
        session: requests.Session | None = None,
        cause: str | None = None,
    ) -> None:
        if not settings.url:
            raise ValueError("DiscourseForum needs forum.url")
        transport = _Transport(
            settings, bucket=bucket, metrics=metrics, sleeper=sleeper or Sleeper(), session=session
        )
        self._api = _PyDiscourse(transport)
        self._actions = actions
        self._cause = cause
        self._group_ids: dict[str, int] = {}  # shared by every view: group ids never change
        self.dry_run = settings.dry_run

    def with_cause(self, cause: str) -> DiscourseForum:
        """The same client (session, budget, caches) logging its writes as caused by ``cause``."""
        view = copy.copy(self)
        view._cause = cause
        return view

    # --- reads

    def list_users_page(self, flag: str, page: int) -> list[ForumUser]:
        rows = self._api._get(
            f"/admin/users/list/{flag}.json", page=page, order="created", asc="true", show_emails="true"
        )
        return [_user(row) for row in rows or ()]

    def iter_users(self, flag: str = "active") -> Iterator[ForumUser]:
        page = 1
        while True:
            rows = self.list_users_page(flag, page)
            yield from rows
            if len(rows) < PAGE_SIZE:
                return
            page += 1

    def get_user(self, user_id: int, *, emails: bool = True) -> ForumUser:
        detail = self._api.user_by_id(user_id)
        if emails and "email" not in detail:
            # The admin detail serializer leaves addresses out; an admin reads them from the emails
            # endpoint (logged by Discourse as a staff "check email" action, as the UI's button is).
            addresses = self._api._get(f"/u/{detail['username']}/emails.json")
            detail = {
                **detail,
                "email": addresses.get("email"),
                "secondary_emails": addresses.get("secondary_emails"),
            }
        return _user(detail)

    def find_users_by_email(self, email: str) -> list[ForumUser]:
        # pydiscourse's user_by_email does not encode the address ("a+b@x.org" breaks); requests does.
        rows = self._api._get("/admin/users/list/all.json", email=email.strip(), show_emails="true")
        return [_user(row) for row in rows or ()]

    def find_user_by_username(self, username: str) -> ForumUser | None:
        try:
            profile = self._api._get(f"/u/{quote(username, safe='')}.json")
        except NotFound:
            return None
        return self.get_user(int(profile["user"]["id"]), emails=False)

    def group_members(self, group: str) -> list[GroupMember]:
        members: list[GroupMember] = []
        offset = 0
        while True:
            body = self._api._get(f"/groups/{group}/members.json", limit=GROUP_PAGE, offset=offset)
            page = body.get("members") or []
            members.extend(
                GroupMember(id=int(m["id"]), username=str(m["username"]), name=m.get("name")) for m in page
            )
            total = int((body.get("meta") or {}).get("total", len(members)))
            offset += len(page)
            if not page or offset >= total:
                return members

    def get_post(self, post_id: int) -> ForumPost:
        return _post(self._api.post_by_id(post_id))

    def get_topic_post(self, topic_id: int, post_number: int = 1) -> ForumPost:
        return _post(self._api._get(f"/posts/by_number/{topic_id}/{post_number}.json"))

    def user_field_definitions(self) -> list[UserFieldDefinition]:
        site = self._api._get("/site.json")
        return [
            UserFieldDefinition(id=int(f["id"]), name=str(f["name"]), required=bool(f.get("required")))
            for f in site.get("user_fields") or ()
        ]

    def _group_id(self, group: str) -> int:
        if group not in self._group_ids:
            self._group_ids[group] = int(self._api._get(f"/groups/{group}.json")["group"]["id"])
        return self._group_ids[group]

    # --- writes

    def _write(
        self,
        action: str,
        endpoint: str,
        target: str,
        send: Callable[[], Outcome],
        then: AfterWrite | None = None,
    ) -> Outcome:
        if self.dry_run:
            self._record(action, endpoint, target, Outcome.DRY_RUN, None, None, then)
            log.info("dry run: %s not sent", action, extra={"target": target, "cause": self._cause})
            return Outcome.DRY_RUN
        try:
            outcome = send()
        except AlreadyDone as exc:
            outcome = Outcome.ALREADY_DONE
            self._record(action, endpoint, target, outcome, exc.status, str(exc), then)
            return outcome
        except RateLimited:
            raise  # nothing reached the forum (or it refused before acting): the job runs again later
        except ForumError as exc:
            self._record(action, endpoint, target, "failed", exc.status, str(exc))
            raise
        self._record(action, endpoint, target, outcome, None, None, then)
        return outcome

    def _record(
        self,
        action: str,
        endpoint: str,
        target: str,
        outcome: str,
        status: int | None,
        detail: str | None,
        then: AfterWrite | None = None,
    ) -> None:
        self._actions.record(
            action=action,
            endpoint=endpoint,
            target=target,
            outcome=outcome,
            status_code=status,
            detail=detail,
            cause=self._cause,
            also=then,
        )

    def _done(self, verb: str, path: str, **body: Any) -> Outcome:
        self._api._request(verb, path, json=body or None)
        return Outcome.DONE

    def approve_user(self, user_id: int) -> Outcome:
        # PUT only: pydiscourse's approve() sends GET, which Discourse does not route (FACTS.md §2).
        return self._write(
            "approve_user",
            "PUT /admin/users/{id}/approve",
            f"user:{user_id}",
            lambda: self._done("PUT", f"/admin/users/{user_id}/approve.json"),
        )

    def reject_user(self, user_id: int) -> Outcome:
        def send() -> Outcome:
            try:
                self._api.delete_user(user_id)
            except NotFound as exc:
                raise AlreadyDone(str(exc), endpoint=exc.endpoint, status=exc.status) from exc
            except Forbidden:
                # Discourse answers 403, not 404, for a user that no longer exists (the guardian sees
                # nil): gone means done; a 403 for a user who is still there (staff) stands.
                try:
                    self._api.user_by_id(user_id)
                except NotFound:
                    return Outcome.ALREADY_DONE
                raise
            return Outcome.DONE

        return self._write("reject_user", "DELETE /admin/users/{id}", f"user:{user_id}", send)

    def suspend_user(
        self, user_id: int, *, until: datetime, reason: str, message: str | None = None
    ) -> Outcome:
        if until.tzinfo is None:
            raise ValueError("suspend until needs a timezone-aware time")
        if not reason or len(reason) > MAX_SUSPEND_REASON:
            raise ValueError(f"a suspension reason is required and at most {MAX_SUSPEND_REASON} characters")
        body: dict[str, Any] = {"suspend_until": until.astimezone(UTC).isoformat(), "reason": reason}
        if message:
            body["message"] = message
        # A second suspend answers 409: already done (and the user is already logged out).
        return self._write(
            "suspend_user",
            "PUT /admin/users/{id}/suspend",
            f"user:{user_id}",
            lambda: self._done("PUT", f"/admin/users/{user_id}/suspend.json", **body),
        )

    def unsuspend_user(self, user_id: int) -> Outcome:
        return self._write(
            "unsuspend_user",
            "PUT /admin/users/{id}/unsuspend",
            f"user:{user_id}",
            lambda: self._done("PUT", f"/admin/users/{user_id}/unsuspend.json"),
        )

    def log_out_user(self, user_id: int) -> Outcome:
        return self._write(
            "log_out_user",
            "POST /admin/users/{id}/log_out",
            f"user:{user_id}",
            lambda: self._done("POST", f"/admin/users/{user_id}/log_out.json"),
        )

    def anonymize_user(self, user_id: int) -> str | None:
        new_name: list[str] = []

        def send() -> Outcome:
            body = self._api._request("PUT", f"/admin/users/{user_id}/anonymize.json")
            new_name.append(str(body.get("username") or ""))
            return Outcome.DONE

        outcome = self._write("anonymize_user", "PUT /admin/users/{id}/anonymize", f"user:{user_id}", send)
        return new_name[0] if outcome == Outcome.DONE and new_name else None

    def add_group_members(self, group: str, usernames: Sequence[str]) -> Outcome:
        wanted = sorted(set(usernames))

        def send() -> Outcome:
            group_id = self._group_id(group)
            try:
                self._api._request(
                    "PUT", f"/groups/{group_id}/members.json", json={"usernames": ",".join(wanted)}
                )
            except Rejected:
                # Discourse refuses the request when every name is already a member: check, don't guess.
                present = {m.username.lower() for m in self.group_members(group)}
                if all(name.lower() in present for name in wanted):
                    return Outcome.ALREADY_DONE
                raise
            return Outcome.DONE

        return self._write(
            "add_group_members", "PUT /groups/{id}/members", f"group:{group}:{','.join(wanted)}", send
        )

    def remove_group_members(self, group: str, usernames: Sequence[str]) -> Outcome:
        wanted = sorted(set(usernames))

        def send() -> Outcome:
            group_id = self._group_id(group)
            body = self._api._request(
                "DELETE", f"/groups/{group_id}/members.json", json={"usernames": ",".join(wanted)}
            )
            skipped = {str(name).lower() for name in body.get("skipped_usernames") or ()}
            return Outcome.ALREADY_DONE if skipped >= {n.lower() for n in wanted} else Outcome.DONE

        return self._write(
            "remove_group_members", "DELETE /groups/{id}/members", f"group:{group}:{','.join(wanted)}", send
        )

    def send_private_message(
        self, recipients: Sequence[str], title: str, raw: str, *, then: AfterWrite | None = None
    ) -> SentMessage:
        sent: list[SentMessage] = []

        def send() -> Outcome:
            body = self._api._request(
                "POST",
                "/posts.json",
                json={
                    "archetype": "private_message",
                    "target_recipients": ",".join(recipients),
                    "title": title,
                    "raw": raw,
                },
            )
            sent.append(SentMessage(topic_id=body.get("topic_id"), post_id=body.get("id")))
            return Outcome.DONE

        outcome = self._write(
            "send_private_message", "POST /posts", f"pm:{','.join(sorted(recipients))}", send, then
        )
        return sent[0] if sent else SentMessage(topic_id=None, post_id=None, outcome=outcome)

    def flag_post(
        self,
        post_id: int,
        *,
        flag_type: FlagType = FlagType.NOTIFY_MODERATORS,
        message: str | None = None,
        take_action: bool = False,
        then: AfterWrite | None = None,
    ) -> Outcome:
        if flag_type == FlagType.NOTIFY_MODERATORS and not message:
            raise ValueError("a notify_moderators flag needs a message")
        body: dict[str, Any] = {"id": post_id, "post_action_type_id": int(flag_type)}
        if message:
            body["message"] = message
        if take_action:
            body["take_action"] = "true"

        def send() -> Outcome:
            try:
                self._api._request("POST", "/post_actions.json", json=body)
            except (Forbidden, Rejected):
                # Discourse answers a repeated flag with 403 (guardian: already acted): re-read to tell.
                if _acted(self._api.post_by_id(post_id), int(flag_type)):
                    return Outcome.ALREADY_DONE
                raise
            return Outcome.DONE

        return self._write("flag_post", "POST /post_actions", f"post:{post_id}", send, then)
