"""Groups as Discourse serializes them: GroupShowSerializer (``GET /groups/{name}.json``) and
GroupUserSerializer (the rows of ``GET /groups/{name}/members.json``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sidecar.forum.simulator.json_users import avatar_template, basic_group
from sidecar.forum.simulator.records import Group, User
from sidecar.forum.simulator.times import iso

if TYPE_CHECKING:
    from sidecar.forum.simulator.site import DiscourseSimulator


def group_show(sim: DiscourseSimulator, group: Group, viewer: User | None) -> dict[str, Any]:
    shown = basic_group(sim, group)
    is_member = viewer is not None and viewer.id in sim.group_member_ids(group)
    can_edit = viewer is not None and viewer.admin and not group.automatic
    shown.update(
        {
            "is_group_user": is_member,
            "can_edit_group": can_edit,
            "is_group_owner_display": viewer is not None and viewer.id in group.owners,
            "mentionable": False,
            "messageable": viewer is not None and viewer.staff,
            "automatic_membership_email_domains": None,
            "smtp_updated_at": None,
            "smtp_updated_by": None,
            "smtp_enabled": False,
            "smtp_server": None,
            "smtp_port": None,
            "smtp_ssl_mode": None,
            "email_username": None,
            "email_from_alias": None,
            "email_password": None,
            "message_count": 0,
            "allow_unknown_sender_topic_replies": False,
            "associated_group_ids": [],
            "watching_category_ids": [],
            "tracking_category_ids": [],
            "watching_first_post_category_ids": [],
            "regular_category_ids": [],
            "muted_category_ids": [],
            "watching_tags": [],
            "watching_first_post_tags": [],
            "tracking_tags": [],
            "regular_tags": [],
            "muted_tags": [],
        }
    )
    del shown["display_name"]
    return shown


def group_member(user: User, added_at: datetime) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "avatar_template": avatar_template(user.username),
        "title": user.title,
        "last_posted_at": iso(user.last_posted_at),
        "last_seen_at": iso(user.last_seen_at),
        "added_at": iso(added_at),
        "timezone": "UTC",
    }
