"""Posts, topics and reviewables as Discourse serializes them.

- ``post_json``: PostSerializer (``GET /posts/{id}.json``, ``POST /posts.json``, ``POST /post_actions.json``)
- ``webhook_post``: WebHookPostSerializer (dc: app/serializers/web_hook_post_serializer.rb)
- ``webhook_topic``: WebHookTopicViewSerializer (keys as in the topic_created capture)
- ``webhook_reviewable``: ReviewableFlaggedPostSerializer (keys as in the reviewable_created capture)
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from sidecar.forum.simulator.json_users import avatar_template, basic_user
from sidecar.forum.simulator.records import Post, PostActionType, Reviewable, Topic, User
from sidecar.forum.simulator.times import iso

if TYPE_CHECKING:
    from sidecar.forum.simulator.site import DiscourseSimulator

# The action types PostSerializer#actions_summary walks, in id order.
SUMMARY_TYPES = (
    PostActionType.LIKE,
    PostActionType.OFF_TOPIC,
    PostActionType.INAPPROPRIATE,
    PostActionType.NOTIFY_USER,
    PostActionType.NOTIFY_MODERATORS,
    PostActionType.SPAM,
    PostActionType.ILLEGAL,
)


def cook(raw: str) -> str:
    """A trivial stand-in for Discourse's markdown pipeline: escaped paragraphs."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", raw) if p.strip()]
    return "\n".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def slugify(title: str) -> str:
    """Discourse's ASCII slug; titles without ASCII letters get ``topic`` (as in the captures)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:80].rstrip("-") or "topic"


def post_url(topic: Topic, post: Post) -> str:
    return f"/t/{topic.slug}/{topic.id}/{post.post_number}"


def _author_fields(sim: DiscourseSimulator, post: Post) -> dict[str, Any]:
    author = sim.users.get(post.user_id)
    if author is None:  # a deleted user: Discourse shows the post without its author
        return {
            "name": None,
            "username": None,
            "avatar_template": None,
            "admin": False,
            "moderator": False,
            "staff": False,
            "trust_level": 0,
            "user_title": None,
            "user_deleted": True,
        }
    return {
        "name": author.name,
        "username": author.username,
        "avatar_template": avatar_template(author.username),
        "admin": author.admin,
        "moderator": author.moderator,
        "staff": author.staff,
        "trust_level": author.trust_level,
        "user_title": author.title,
        "user_deleted": False,
    }


def actions_summary(sim: DiscourseSimulator, post: Post, viewer: User | None) -> list[dict[str, Any]]:
    """dc: PostSerializer#actions_summary -- an entry per action type the viewer can take or that has a
    count; ``acted`` when the viewer has taken it."""
    result: list[dict[str, Any]] = []
    for type_id in SUMMARY_TYPES:
        flags = sim.live_flags(post.id, type_id)
        summary: dict[str, Any] = {"id": int(type_id)}
        count = len(flags) if viewer is not None and viewer.staff else 0
        if count:
            summary["count"] = count
        if viewer is not None and sim.guardian.post_can_act(viewer, post, type_id):
            summary["can_act"] = True
        if viewer is not None and any(f.user_id == viewer.id for f in flags):
            summary["acted"] = True
            summary["can_undo"] = True
            summary.setdefault("count", count or 1)
        if summary.get("can_act") or summary.get("count"):
            result.append(summary)
    return result


def post_json(
    sim: DiscourseSimulator,
    post: Post,
    viewer: User | None,
    *,
    add_raw: bool = True,
    draft_sequence: bool = False,
) -> dict[str, Any]:
    topic = sim.topics[post.topic_id]
    author = _author_fields(sim, post)
    staff_viewer = viewer is not None and viewer.staff
    mine = viewer is not None and viewer.id == post.user_id
    reviewable = sim.reviewable_for(post.id)
    body: dict[str, Any] = {
        "id": post.id,
        "name": author["name"],
        "username": author["username"],
        "avatar_template": author["avatar_template"],
        "created_at": iso(post.created_at),
    }
    if add_raw:
        body["raw"] = post.raw
    body.update(
        {
            "cooked": post.cooked,
            "post_number": post.post_number,
            "post_type": post.post_type,
            "posts_count": sim.topic_posts_count(topic),
            "updated_at": iso(post.updated_at),
            "reply_count": 0,
            "reply_to_post_number": post.reply_to_post_number,
            "quote_count": 0,
            "incoming_link_count": 0,
            "reads": 0,
            "readers_count": 0,
            "score": 0,
            "yours": mine,
            "topic_id": topic.id,
            "topic_slug": topic.slug,
            "display_username": author["name"],
            "primary_group_name": None,
            "flair_name": None,
            "flair_url": None,
            "flair_bg_color": None,
            "flair_color": None,
            "flair_group_id": None,
            "badges_granted": [],
            "version": post.version,
            "can_edit": staff_viewer or mine,
            "can_delete": (staff_viewer or mine) and post.deleted_at is None,
            "can_recover": staff_viewer and post.deleted_at is not None,
            "can_see_hidden_post": staff_viewer,
            "can_wiki": staff_viewer,
            "user_title": author["user_title"],
            "bookmarked": False,
            "actions_summary": actions_summary(sim, post, viewer),
            "moderator": author["moderator"],
            "admin": author["admin"],
            "staff": author["staff"],
            "user_id": post.user_id,
            "hidden": post.hidden,
            "trust_level": author["trust_level"],
            "deleted_at": iso(post.deleted_at),
            "user_deleted": author["user_deleted"],
            "edit_reason": post.edit_reason,
            "can_view_edit_history": True,
            "wiki": False,
            "reviewable_id": None if reviewable is None else reviewable.id,
            "reviewable_score_count": 0 if reviewable is None else len(reviewable.flag_ids),
            "reviewable_score_pending_count": 0
            if reviewable is None
            else sim.pending_score_count(reviewable),
            "post_url": post_url(topic, post),
            "mentioned_users": [],
        }
    )
    if draft_sequence:
        body["draft_sequence"] = 0
    return body


def webhook_post(sim: DiscourseSimulator, post: Post) -> dict[str, Any]:
    topic = sim.topics[post.topic_id]
    author = _author_fields(sim, post)
    reviewable = sim.reviewable_for(post.id)
    category = sim.categories.get(topic.category_id) if topic.category_id is not None else None
    payload: dict[str, Any] = {
        "id": post.id,
        "name": author["name"],
        "username": author["username"],
        "avatar_template": author["avatar_template"],
        "created_at": iso(post.created_at),
        "cooked": post.cooked,
        "post_number": post.post_number,
        "post_type": post.post_type,
        "posts_count": sim.topic_posts_count(topic),
        "updated_at": iso(post.updated_at),
        "reply_count": 0,
        "reply_to_post_number": post.reply_to_post_number,
        "quote_count": 0,
        "incoming_link_count": 0,
        "reads": 0,
        "score": 0,
        "topic_id": topic.id,
        "topic_slug": topic.slug,
        "topic_title": topic.title,
        "category_id": topic.category_id,
        "display_username": author["name"],
        "primary_group_name": None,
        "flair_name": None,
        "flair_group_id": None,
        "version": post.version,
        "user_title": author["user_title"],
        "bookmarked": False,
        "raw": post.raw,
        "moderator": author["moderator"],
        "admin": author["admin"],
        "staff": author["staff"],
        "user_id": post.user_id,
        "hidden": post.hidden,
        "trust_level": author["trust_level"],
        "deleted_at": iso(post.deleted_at),
        "user_deleted": author["user_deleted"],
        "edit_reason": post.edit_reason,
        "wiki": False,
        "reviewable_id": None if reviewable is None else reviewable.id,
        "reviewable_score_count": 0 if reviewable is None else len(reviewable.flag_ids),
        "reviewable_score_pending_count": 0 if reviewable is None else sim.pending_score_count(reviewable),
        "post_url": post_url(topic, post),
        "topic_posts_count": sim.topic_posts_count(topic),
        "topic_filtered_posts_count": sim.topic_posts_count(topic),
        "topic_archetype": str(topic.archetype),
    }
    if category is not None:
        payload["category_slug"] = category.slug
    return payload


def webhook_topic(sim: DiscourseSimulator, topic: Topic) -> dict[str, Any]:
    creator = sim.users.get(topic.user_id)
    posts = [sim.posts[pid] for pid in topic.post_ids if sim.posts[pid].deleted_at is None]
    last = posts[-1] if posts else None
    last_poster = sim.users.get(last.user_id) if last is not None else creator
    return {
        "tags": [],
        "tags_descriptions": {},
        "fancy_title": html.escape(topic.title),
        "id": topic.id,
        "title": topic.title,
        "posts_count": len(posts),
        "created_at": iso(topic.created_at),
        "views": 0,
        "reply_count": max(0, len(posts) - 1),
        "like_count": 0,
        "last_posted_at": iso(last.created_at if last is not None else topic.created_at),
        "visible": topic.visible,
        "closed": topic.closed,
        "archived": topic.archived,
        "archetype": str(topic.archetype),
        "slug": topic.slug,
        "category_id": topic.category_id,
        "word_count": sum(len(p.raw.split()) for p in posts),
        "deleted_at": iso(topic.deleted_at),
        "user_id": topic.user_id,
        "featured_link": None,
        "pinned_globally": False,
        "pinned_at": None,
        "pinned_until": None,
        "unpinned": None,
        "pinned": False,
        "highest_post_number": topic.highest_post_number,
        "deleted_by": None,
        "has_deleted": any(sim.posts[pid].deleted_at is not None for pid in topic.post_ids),
        "bookmarked": False,
        "participant_count": len({p.user_id for p in posts}),
        "queued_posts_count": 0,
        "thumbnails": None,
        "created_by": None if creator is None else basic_user(creator),
        "last_poster": None if last_poster is None else basic_user(last_poster),
    }


def webhook_reviewable(sim: DiscourseSimulator, reviewable: Reviewable) -> dict[str, Any]:
    post = sim.posts[reviewable.post_id]
    topic = sim.topics[post.topic_id]
    author = sim.users.get(post.user_id)
    base = sim.base_url
    return {
        "id": reviewable.id,
        "type": "ReviewableFlaggedPost",
        "type_source": "core",
        "topic_id": topic.id,
        "topic_url": f"{base}/t/{topic.slug}/{topic.id}",
        "target_type": "Post",
        "target_id": post.id,
        "target_url": f"{base}{post_url(topic, post)}",
        "target_created_at": iso(post.created_at),
        "topic_tags": [],
        "category_id": topic.category_id,
        "created_at": iso(reviewable.created_at),
        "can_edit": False,
        "score": float(len(reviewable.flag_ids)),
        "version": reviewable.version,
        "target_created_by_trust_level": None if author is None else author.trust_level,
        "created_from_flag": True,
        "status": int(reviewable.status),
        "cooked": post.cooked,
        "raw": post.raw,
        "reply_count": 0,
        "post_updated_at": iso(post.updated_at),
        "post_version": post.version,
        "post_id": post.id,
        "created_by_id": reviewable.created_by_id,
        "target_created_by_id": post.user_id,
        "editable_fields": [],
        "reviewable_score_ids": list(reviewable.flag_ids),
        "bundled_action_ids": [f"{reviewable.id}-agree", "post-disagree", f"{reviewable.id}-ignore"],
        "reviewable_note_ids": [],
        "reviewable_history_ids": [],
    }
