"""Users as Discourse serializes them.

- ``admin_list_row``: AdminUserListSerializer (dc: app/serializers/admin_user_list_serializer.rb)
- ``admin_detail``: AdminDetailedUserSerializer < AdminUserSerializer < AdminUserListSerializer
- ``public_profile``: UserSerializer under ``{"user_badges": [], "user": ...}`` (``GET /u/{username}.json``)
- ``webhook_user``: WebHookUserSerializer (dc: app/serializers/web_hook_user_serializer.rb)
- ``basic_group``: BasicGroupSerializer

Conditional keys follow the serializers' ``include_*?`` methods: ``approved`` only when the site must approve
users, ``suspended_at``/``suspended_till`` only while suspended, ``silenced_till`` only while silenced,
``email``/``secondary_emails`` in the admin serializers only for ``show_emails=true`` (or a staff member's own
row, or a staged user), ``user_fields`` only when the site defines user fields. Counters the simulator does
not track (reads, likes, badges...) are zero.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sidecar.forum.simulator.records import Group, User
from sidecar.forum.simulator.times import iso

if TYPE_CHECKING:
    from sidecar.forum.simulator.site import DiscourseSimulator

_LETTER_COLOURS = ("5daacb", "c4cdca", "ec9cab", "8e8cb7", "58aa82", "e47c5c", "a87137", "76b2ce")


def avatar_template(username: str) -> str:
    digest = hashlib.sha256(username.lower().encode()).digest()
    colour = _LETTER_COLOURS[digest[0] % len(_LETTER_COLOURS)]
    letter = (username[:1] or "_").lower()
    return f"/letter_avatar_proxy/v4/letter/{letter}/{colour}/{{size}}.png"


def basic_user(user: User) -> dict[str, Any]:
    """BasicUserSerializer: the ``suspended_by``/``approved_by``/``created_by`` stubs."""
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "avatar_template": avatar_template(user.username),
    }


def basic_group(sim: DiscourseSimulator, group: Group) -> dict[str, Any]:
    return {
        "id": group.id,
        "automatic": group.automatic,
        "name": group.name,
        "display_name": group.name,
        "user_count": len(sim.group_member_ids(group)),
        "mentionable_level": group.mentionable_level,
        "messageable_level": group.messageable_level,
        "visibility_level": group.visibility_level,
        "primary_group": False,
        "title": None,
        "grant_trust_level": None,
        "incoming_email": None,
        "has_messages": False,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "bio_raw": group.bio_raw,
        "bio_cooked": None if group.bio_raw is None else f"<p>{group.bio_raw}</p>",
        "bio_excerpt": group.bio_raw,
        "public_admission": group.public_admission,
        "public_exit": group.public_exit,
        "allow_membership_requests": False,
        "full_name": group.full_name,
        "default_notification_level": group.default_notification_level,
        "membership_request_template": None,
        "members_visibility_level": group.members_visibility_level,
        "can_see_members": True,
        "can_admin_group": True,
        "publish_read_state": False,
    }


def user_fields_json(sim: DiscourseSimulator, user: User) -> dict[str, str | None]:
    """``{"<field id>": value}`` for every field the site defines (dc: User#user_fields)."""
    return {str(fid): user.user_fields.get(fid) for fid in sorted(sim.user_fields)}


def _age(sim: DiscourseSimulator, value: datetime | None) -> float | None:
    if value is None:
        return None
    return (sim.clock.now() - value).total_seconds()


def admin_list_row(
    sim: DiscourseSimulator, user: User, viewer: User | None, *, emails_desired: bool
) -> dict[str, Any]:
    now = sim.clock.now()
    row: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "avatar_template": avatar_template(user.username),
    }
    # dc: AdminUserListSerializer#include_email? -- staff see their own and staged users' addresses
    own_or_staged = viewer is not None and viewer.staff and (user.id == viewer.id or user.staged)
    if own_or_staged or (emails_desired and viewer is not None and viewer.admin):
        row["email"] = user.email
        row["secondary_emails"] = list(user.secondary_emails)
    row.update(
        {
            "active": user.active,
            "admin": user.admin,
            "moderator": user.moderator,
            "last_seen_at": iso(user.last_seen_at),
            "last_emailed_at": None,
            "created_at": iso(user.created_at),
            "last_seen_age": _age(sim, user.last_seen_at),
            "last_emailed_age": None,
            "created_at_age": _age(sim, user.created_at),
            "trust_level": user.trust_level,
            "manual_locked_trust_level": None,
            "title": user.title,
            "time_read": 0,
            "staged": user.staged,
            "days_visited": 0,
            "posts_read_count": 0,
            "topics_entered": 0,
            "post_count": sim.post_count(user.id),
        }
    )
    if sim.settings.must_approve_users:
        row["approved"] = user.approved
    if user.is_suspended(now):
        row["suspended_at"] = iso(user.suspended_at)
        row["suspended_till"] = iso(user.suspended_till)
    if user.is_silenced(now):
        row["silenced"] = True
        row["silenced_till"] = iso(user.silenced_till)
    return row


def admin_detail(sim: DiscourseSimulator, user: User, viewer: User | None) -> dict[str, Any]:
    now = sim.clock.now()
    staff_viewer = viewer is not None and viewer.staff
    admin_viewer = viewer is not None and viewer.admin
    suspended = user.is_suspended(now)
    detail = admin_list_row(sim, user, viewer, emails_desired=False)
    approved_by = sim.users.get(user.approved_by_id) if user.approved_by_id is not None else None
    suspended_by = sim.users.get(user.suspended_by_id) if user.suspended_by_id is not None else None
    silenced_by = sim.users.get(user.silenced_by_id) if user.silenced_by_id is not None else None
    can_delete = sim.guardian.can_delete_user(viewer, user)
    detail.update(
        {
            "associated_accounts": [],
            "can_send_activation_email": staff_viewer and not user.active,
            "can_activate": staff_viewer and not user.active,
            "can_deactivate": staff_viewer and user.active and not user.staff and user.id != _id(viewer),
            "can_change_trust_level": staff_viewer,
            "ip_address": "127.0.0.1",
            "registration_ip_address": None,
            "can_grant_admin": admin_viewer and not user.admin,
            "can_revoke_admin": admin_viewer and user.admin and user.id != _id(viewer),
            "can_grant_moderation": admin_viewer and not user.moderator,
            "can_revoke_moderation": admin_viewer and user.moderator,
            "can_impersonate": admin_viewer and not user.admin,
            "like_count": 0,
            "like_given_count": 0,
            "topic_count": sim.topic_count(user.id),
            "flags_given_count": sim.flags_given_count(user.id),
            "flags_received_count": sim.flags_received_count(user.id),
            "private_topics_count": 0,
            "can_delete_all_posts": staff_viewer and not user.admin,
            "can_be_deleted": can_delete,
            "can_be_anonymized": staff_viewer and not user.staff and not user.anonymized,
            "can_be_merged": admin_viewer and not user.staff,
            "full_suspend_reason": user.full_suspend_reason if suspended else None,
            "latest_export": None,
            "silence_reason": user.silence_reason if user.is_silenced(now) else None,
            "post_edits_count": 0,
            "primary_group_id": None,
            "badge_count": 0,
            "warnings_received_count": 0,
            "bounce_score": 0,
            "reset_bounce_score_after": None,
            "can_view_action_logs": staff_viewer,
            "can_disable_second_factor": False,
            "can_delete_sso_record": admin_viewer and user.external_id is not None,
            "api_key_count": sum(1 for k in sim.api_keys.values() if k.user_id == user.id),
            "similar_users_count": 0,
            "single_sign_on_record": None,
            "approved_by": None if approved_by is None else basic_user(approved_by),
            "suspended_by": None if suspended_by is None or not suspended else basic_user(suspended_by),
            "silenced_by": None
            if silenced_by is None or not user.is_silenced(now)
            else basic_user(silenced_by),
            "groups": [basic_group(sim, g) for g in sim.groups_of(user)],
            "external_ids": {} if user.external_id is None else {"discourse_connect": user.external_id},
            "include_ip": False,
        }
    )
    if sim.settings.must_approve_users:
        detail["can_approve"] = sim.guardian.can_approve(viewer, user)
    if suspended:
        detail["suspend_reason"] = user.suspend_reason
    if user.is_silenced(now):
        detail["full_silence_reason"] = user.silence_reason
    if sim.user_fields:
        detail["user_fields"] = user_fields_json(sim, user)
    return detail


def _id(user: User | None) -> int | None:
    return None if user is None else user.id


def user_option(user: User) -> dict[str, Any]:
    """UserOptionSerializer with Discourse's defaults (as in the webhook captures)."""
    return {
        "user_id": user.id,
        "mailing_list_mode": False,
        "mailing_list_mode_frequency": 1,
        "email_digests": True,
        "email_level": 1,
        "email_messages_level": 0,
        "external_links_in_new_tab": False,
        "bookmark_auto_delete_preference": 3,
        "color_scheme_id": None,
        "dark_scheme_id": None,
        "dynamic_favicon": False,
        "enable_quoting": True,
        "enable_smart_lists": True,
        "enable_markdown_monospace_font": True,
        "digest_after_minutes": 1440,
        "automatically_unpin_topics": True,
        "auto_track_topics_after_msecs": 300000,
        "notification_level_when_replying": 2,
        "new_topic_duration_minutes": 2880,
        "email_previous_replies": 2,
        "email_in_reply_to": False,
        "like_notification_frequency": 1,
        "notify_on_linked_posts": True,
        "include_tl0_in_digests": False,
        "theme_ids": [-1],
        "theme_key_seq": 0,
        "allow_private_messages": True,
        "enable_allowed_pm_users": False,
        "homepage_id": None,
        "hide_profile_and_presence": False,
        "hide_profile": False,
        "hide_presence": False,
        "text_size": "normal",
        "text_size_seq": 0,
        "title_count_mode": "notifications",
        "timezone": None,
        "skip_new_user_tips": False,
        "default_calendar": "none_selected",
        "oldest_search_log_date": None,
        "sidebar_link_to_filtered_list": False,
        "sidebar_show_count_of_new_items": False,
        "watched_precedence_over_muted": False,
        "seen_popups": None,
        "topics_unread_when_closed": True,
        "composition_mode": 1,
        "interface_color_mode": 1,
        # newer than the 2025.12 captures, in the official spec
        "push_notification_level": "always",
        "enable_upcoming_change_available_notifications": False,
        "automatically_translate": False,
        "understood_languages": [],
        "show_original_content": False,
        "send_shortcut": "enter",
    }


def _notification_schedule() -> dict[str, Any]:
    schedule: dict[str, Any] = {"enabled": False}
    for day in range(7):
        schedule[f"day_{day}_start_time"] = 480
        schedule[f"day_{day}_end_time"] = 1020
    return schedule


def _user_card(sim: DiscourseSimulator, user: User) -> dict[str, Any]:
    """The attributes UserSerializer and WebHookUserSerializer share."""
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "avatar_template": avatar_template(user.username),
    }


def _featured_topic(sim: DiscourseSimulator, user: User) -> dict[str, Any] | None:
    topic = sim.topics.get(user.featured_topic_id) if user.featured_topic_id is not None else None
    if topic is None or topic.deleted_at is not None:
        return None
    return {
        "id": topic.id,
        "title": topic.title,
        "fancy_title": topic.title,
        "slug": topic.slug,
        "posts_count": sim.topic_posts_count(topic),
    }


def _user_details(sim: DiscourseSimulator, user: User) -> dict[str, Any]:
    now = sim.clock.now()
    details: dict[str, Any] = {
        "last_posted_at": iso(user.last_posted_at),
        "last_seen_at": iso(user.last_seen_at),
        "created_at": iso(user.created_at),
        "muted": False,
        "trust_level": user.trust_level,
        "moderator": user.moderator,
        "admin": user.admin,
        "title": user.title,
        "badge_count": 0,
        "time_read": 0,
        "recent_time_read": 0,
        "primary_group_id": None,
        "primary_group_name": None,
        "flair_group_id": None,
        "flair_name": None,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "featured_topic": _featured_topic(sim, user),
        "staged": user.staged,
        "pending_count": 0,
        "profile_view_count": 0,
        "second_factor_enabled": False,
        "can_upload_profile_header": True,
        "can_upload_user_card_background": True,
        "post_count": sim.post_count(user.id),
        "locale": user.locale,
        "muted_category_ids": [],
        "regular_category_ids": [],
        "watched_tags": [],
        "watching_first_post_tags": [],
        "tracked_tags": [],
        "muted_tags": [],
        "tracked_category_ids": [],
        "watched_category_ids": [],
        "watched_first_post_category_ids": [],
        "system_avatar_template": avatar_template(user.username),
        "muted_usernames": [],
        "can_mute_users": True,
        "ignored_usernames": [],
        "can_ignore_users": True,
        "allowed_pm_usernames": [],
        "mailing_list_posts_per_day": 0,
        "user_notification_schedule": _notification_schedule(),
        "featured_user_badge_ids": [],
        "invited_by": None,
        "groups": [basic_group(sim, g) for g in sim.groups_of(user)],
        "user_option": user_option(user),
    }
    if sim.user_fields:
        details["user_fields"] = user_fields_json(sim, user)
    # dc: UserCardSerializer#include_suspend_reason? -- only while suspended
    if user.is_suspended(now):
        details["suspend_reason"] = user.suspend_reason
        details["suspended_till"] = iso(user.suspended_till)
    return details


def webhook_user(sim: DiscourseSimulator, user: User) -> dict[str, Any]:
    """The ``user`` object of a user_* webhook: serialized as the system user sees it, so with ``email``."""
    payload = _user_card(sim, user)
    payload["email"] = user.email
    payload["secondary_emails"] = list(user.secondary_emails)
    payload.update(_user_details(sim, user))
    if user.external_id is not None:
        payload["external_id"] = user.external_id
    return payload


def public_profile(sim: DiscourseSimulator, user: User, viewer: User | None) -> dict[str, Any]:
    staff_viewer = viewer is not None and viewer.staff
    is_me = viewer is not None and viewer.id == user.id
    profile = _user_card(sim, user)
    profile.update(_user_details(sim, user))
    profile.update(
        {
            "ignored": False,
            "can_ignore_user": not is_me and not user.staff,
            "can_mute_user": not is_me and not user.staff,
            "can_send_private_messages": viewer is not None,
            "can_send_private_message_to_user": viewer is not None and not is_me,
            "second_factor_backup_enabled": False,
            "custom_fields": {},
            "can_edit": staff_viewer or is_me,
            "can_edit_username": staff_viewer or is_me,
            "can_edit_email": staff_viewer or is_me,
            "can_edit_name": staff_viewer or is_me,
            "uploaded_avatar_id": None,
            "has_title_badges": False,
            "pending_posts_count": 0,
            "topic_count": sim.topic_count(user.id),
            "can_be_deleted": sim.guardian.can_delete_user(viewer, user),
            "can_delete_all_posts": staff_viewer and not user.admin,
            "system_avatar_upload_id": None,
            "can_change_bio": True,
            "can_change_location": True,
            "can_change_website": True,
            "can_change_tracking_preferences": True,
            "user_api_keys": None,
            "user_passkeys": [],
            "sidebar_tags": [],
            "sidebar_category_ids": [],
            "display_sidebar_tags": False,
            "can_pick_theme_with_custom_homepage": False,
            "user_auth_tokens": [],
            "use_logo_small_as_avatar": False,
            "group_users": [
                {"group_id": g.id, "user_id": user.id, "notification_level": g.default_notification_level}
                for g in sim.groups_of(user)
            ],
        }
    )
    return {"user_badges": [], "user": profile}
