"""``/posts*`` and ``/post_actions``: dc: app/controllers/posts_controller.rb,
app/controllers/post_actions_controller.rb, lib/post_action_creator.rb."""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.wrappers import Response

from sidecar.forum.simulator import errors, params
from sidecar.forum.simulator.answers import empty_answer, json_answer
from sidecar.forum.simulator.context import Access, Ctx, Route
from sidecar.forum.simulator.json_posts import post_json
from sidecar.forum.simulator.records import Archetype, Post
from sidecar.forum.simulator.site import ValidationFailed


def _post(ctx: Ctx, raw_id: str) -> Post:
    post = ctx.sim.posts.get(int(raw_id)) if raw_id.isdigit() else None
    if post is None:
        raise errors.not_found()
    if not ctx.sim.guardian.can_see_post(ctx.user, post):
        raise errors.invalid_access()
    return post


def create(ctx: Ctx, args: Mapping[str, str]) -> Response:
    sim = ctx.sim
    author = ctx.actor
    if author.is_silenced(sim.clock.now()):
        raise errors.invalid_access()
    archetype = params.present(ctx.params, "archetype") or "regular"
    recipients = params.present(ctx.params, "target_recipients") or params.present(
        ctx.params, "target_usernames"
    )
    topic_id = params.integer(ctx.params, "topic_id")
    try:
        with sim.lock:
            post = sim.write_post(
                author.id,
                params.text(ctx.params, "raw") or "",
                topic_id=topic_id,
                title=params.text(ctx.params, "title"),
                category_id=params.integer(ctx.params, "category"),
                archetype=Archetype.PRIVATE_MESSAGE if archetype == "private_message" else Archetype.REGULAR,
                recipients=[] if recipients is None else [r for r in recipients.split(",") if r.strip()],
                reply_to_post_number=params.integer(ctx.params, "reply_to_post_number"),
                validate=True,
            )
            return json_answer(post_json(sim, post, author, add_raw=False, draft_sequence=True))
    except ValidationFailed as exc:
        # dc: NewPostResult as JSON
        return json_answer({"action": "create_post", "errors": exc.messages}, status=422)


def show(ctx: Ctx, args: Mapping[str, str]) -> Response:
    with ctx.sim.lock:
        return json_answer(post_json(ctx.sim, _post(ctx, args["id"]), ctx.user))


def by_number(ctx: Ctx, args: Mapping[str, str]) -> Response:
    """dc: PostsController#by_number -- the post at a position of a topic, rendered as ``show`` renders it."""
    topic_id, number = args["topic_id"], args["post_number"]
    with ctx.sim.lock:
        found = None
        if topic_id.isdigit() and number.isdigit():
            found = next(
                (
                    p
                    for p in ctx.sim.posts.values()
                    if p.topic_id == int(topic_id) and p.post_number == int(number)
                ),
                None,
            )
        if found is None:
            raise errors.not_found()
        return json_answer(post_json(ctx.sim, _post(ctx, str(found.id)), ctx.user))


def update(ctx: Ctx, args: Mapping[str, str]) -> Response:
    post_params = ctx.params.get("post")
    if not isinstance(post_params, dict) or params.present(post_params, "raw") is None:
        raise errors.parameter_missing("post")
    sim = ctx.sim
    with sim.lock:
        post = _post(ctx, args["id"])
        raw = params.text(post_params, "raw") or ""
        if len(raw.strip()) < sim.settings.min_post_length:
            count = sim.settings.min_post_length
            raise errors.unprocessable(f"Body is too short (minimum is {count} characters)")
        sim.edit_post(post.id, raw, actor=ctx.actor, edit_reason=params.present(post_params, "edit_reason"))
        return json_answer({"post": post_json(sim, post, ctx.actor, draft_sequence=True)})


def destroy(ctx: Ctx, args: Mapping[str, str]) -> Response:
    with ctx.sim.lock:
        post = _post(ctx, args["id"])
        ctx.sim.delete_post(post.id, actor=ctx.actor)
    return empty_answer()


def unhide(ctx: Ctx, args: Mapping[str, str]) -> Response:
    with ctx.sim.lock:
        post = _post(ctx, args["id"])
        ctx.sim.unhide_post(post.id, actor=ctx.actor)
    return empty_answer()


def create_action(ctx: Ctx, args: Mapping[str, str]) -> Response:
    sim = ctx.sim
    raw_id = params.required(ctx.params, "id")
    type_id = params.integer(ctx.params, "post_action_type_id")
    if type_id is None:
        raise errors.parameter_missing("post_action_type_id")
    with sim.lock:
        post_id = int(raw_id) if raw_id.isdigit() else 0
        if params.is_true_string(ctx.params, "flag_topic"):
            topic = sim.topics.get(post_id)
            if topic is None:
                raise errors.not_found()
            post_id = topic.post_ids[0]
        post = sim.posts.get(post_id)
        if post is None:
            raise errors.not_found()
        sim.flag_post(
            ctx.actor.id,
            post.id,
            type_id,
            message=params.present(ctx.params, "message"),
            # dc: `take_action: params[:take_action] == "true"` -- a JSON true is not "true"
            take_action=params.is_true_string(ctx.params, "take_action"),
        )
        return json_answer(post_json(sim, post, ctx.actor, add_raw=False))


ROUTES = (
    Route("/posts", ("POST",), create, Access.LOGIN),
    Route("/posts/<id>", ("GET",), show, Access.PUBLIC),
    Route("/posts/by_number/<topic_id>/<post_number>", ("GET",), by_number, Access.PUBLIC),
    Route("/posts/<id>", ("PUT",), update, Access.LOGIN),
    Route("/posts/<id>", ("DELETE",), destroy, Access.LOGIN),
    Route("/posts/<id>/unhide", ("PUT",), unhide, Access.LOGIN),
    Route("/post_actions", ("POST",), create_action, Access.LOGIN),
)
