"""``GET /site.json`` (SiteSerializer): every key the official spec requires, with the simulator's user
fields, groups and categories and Discourse's default constants for the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sidecar.forum.simulator.records import Category, PostActionType, User, UserField

if TYPE_CHECKING:
    from sidecar.forum.simulator.site import DiscourseSimulator

NOTIFICATION_TYPES = {
    "mentioned": 1, "replied": 2, "quoted": 3, "edited": 4, "liked": 5, "private_message": 6,
    "invited_to_private_message": 7, "invitee_accepted": 8, "posted": 9, "moved_post": 10, "linked": 11,
    "granted_badge": 12, "invited_to_topic": 13, "custom": 14, "group_mentioned": 15,
    "group_message_summary": 16, "watching_first_post": 17, "topic_reminder": 18, "liked_consolidated": 19,
    "post_approved": 20, "code_review_commit_approved": 21, "membership_request_accepted": 22,
    "membership_request_consolidated": 23, "bookmark_reminder": 24, "reaction": 25, "votes_released": 26,
    "event_reminder": 27, "event_invitation": 28, "chat_mention": 29, "chat_message": 30,
    "chat_invitation": 31, "chat_group_mention": 32, "watching_category_or_tag": 36,
    "linked_consolidated": 38,
}  # fmt: skip

_FLAG_DESCRIPTIONS: dict[int, tuple[str, str, str]] = {
    PostActionType.LIKE: ("like", "Like", "Like this post"),
    PostActionType.OFF_TOPIC: ("off_topic", "It's Off-Topic", "This post is not relevant to the discussion"),
    PostActionType.INAPPROPRIATE: ("inappropriate", "It's Inappropriate", "This post is inappropriate"),
    PostActionType.NOTIFY_USER: ("notify_user", "Send @{{username}} a message", "Message the author"),
    PostActionType.NOTIFY_MODERATORS: ("notify_moderators", "Something Else", "Needs staff attention"),
    PostActionType.SPAM: ("spam", "It's Spam", "This post is an advertisement or vandalism"),
    PostActionType.ILLEGAL: ("illegal", "It's Illegal", "This post requires staff attention as illegal"),
}


def user_field_json(user_field: UserField) -> dict[str, Any]:
    return {
        "id": user_field.id,
        "name": user_field.name,
        "description": user_field.description,
        "field_type": user_field.field_type,
        "editable": user_field.editable,
        "required": user_field.required,
        "requirement": "on_signup" if user_field.required else "optional",
        "show_on_profile": user_field.show_on_profile,
        "show_on_user_card": user_field.show_on_user_card,
        "searchable": user_field.searchable,
        "position": user_field.position,
        "options": [],
    }


def _post_action_type(type_id: int) -> dict[str, Any]:
    name_key, name, description = _FLAG_DESCRIPTIONS[type_id]
    is_flag = type_id != PostActionType.LIKE
    return {
        "id": type_id,
        "name_key": name_key,
        "name": name,
        "description": description,
        "short_description": description,
        "is_flag": is_flag,
        "require_message": type_id in (PostActionType.NOTIFY_USER, PostActionType.NOTIFY_MODERATORS),
        "enabled": True,
        "applies_to": ["Post", "Chat::Message"],
        "is_used": False,
        "position": type_id,
        "auto_action_type": type_id in (PostActionType.INAPPROPRIATE, PostActionType.SPAM),
        "system": True,
    }


def category_json(
    category: Category, viewer: User | None, topic_count: int, post_count: int
) -> dict[str, Any]:
    return {
        "id": category.id,
        "name": category.name,
        "color": category.color,
        "text_color": category.text_color,
        "style_type": "square",
        "emoji": None,
        "icon": None,
        "slug": category.slug,
        "topic_count": topic_count,
        "post_count": post_count,
        "position": category.position,
        "description": category.description,
        "description_text": category.description,
        "description_excerpt": category.description,
        "topic_url": f"/t/about-the-{category.slug}-category/{category.id}",
        "read_restricted": category.read_restricted,
        "permission": 1 if viewer is not None else None,
        "notification_level": 1,
        "topic_template": None,
        "topic_title_placeholder": None,
        "has_children": False,
        "subcategory_count": None,
        "sort_order": None,
        "sort_ascending": None,
        "show_subcategory_list": False,
        "num_featured_topics": 3,
        "default_view": None,
        "subcategory_list_style": "rows_with_featured_topics",
        "default_top_period": "all",
        "default_list_filter": "all",
        "minimum_required_tags": 0,
        "navigate_to_first_post_after_read": False,
        "allow_global_tags": False,
        "required_tag_groups": [],
        "read_only_banner": None,
        "uploaded_logo": None,
        "uploaded_logo_dark": None,
        "uploaded_background": None,
        "uploaded_background_dark": None,
        "can_edit": viewer is not None and viewer.admin,
    }


def site_json(sim: DiscourseSimulator, viewer: User | None) -> dict[str, Any]:
    staff = viewer is not None and viewer.staff
    categories = [
        category_json(c, viewer, *sim.category_counts(c.id))
        for c in sorted(sim.categories.values(), key=lambda c: (c.position, c.id))
        if staff or not c.read_restricted
    ]
    return {
        "default_archetype": "regular",
        "notification_types": dict(NOTIFICATION_TYPES),
        "post_types": {"regular": 1, "moderator_action": 2, "small_action": 3, "whisper": 4},
        "trust_levels": {"newuser": 0, "basic": 1, "member": 2, "regular": 3, "leader": 4},
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "flair_url": None,
                "flair_bg_color": None,
                "flair_color": None,
                "automatic": g.automatic,
            }
            for g in sorted(sim.groups.values(), key=lambda g: g.name)
        ],
        "filters": ["latest", "unread", "new", "unseen", "top", "read", "posted", "bookmarks"],
        "homepage_choices": [],
        "periods": ["all", "yearly", "quarterly", "monthly", "weekly", "daily"],
        "top_menu_items": ["latest", "new", "unread", "top", "categories"],
        "anonymous_top_menu_items": ["latest", "top", "categories"],
        "uncategorized_category_id": sim.uncategorized_category_id,
        "user_field_max_length": 2048,
        "post_action_types": [_post_action_type(t) for t in _FLAG_DESCRIPTIONS],
        "topic_flag_types": [
            _post_action_type(t)
            for t in (PostActionType.INAPPROPRIATE, PostActionType.NOTIFY_MODERATORS, PostActionType.SPAM)
        ],
        "can_create_tag": staff,
        "can_tag_topics": staff,
        "can_tag_pms": staff,
        "tags_filter_regexp": "[/\\?#\\[\\]@!\\$&'\\(\\)\\*\\+,;=\\.%\\\\`^\\s|\\{\\}\"<>]+",
        "top_tags": [],
        "topic_featured_link_allowed_category_ids": [],
        "user_themes": [{"theme_id": 1, "name": "Default", "default": True, "color_scheme_id": None}],
        "user_color_schemes": [],
        "default_light_color_scheme": None,
        "default_dark_color_scheme": None,
        "censored_regexp": [],
        "custom_emoji_translation": {},
        "watched_words_replace": None,
        "watched_words_link": None,
        "categories": categories,
        "archetypes": [{"id": "regular", "name": "Regular Topic", "options": []}],
        "user_fields": [
            user_field_json(f) for f in sorted(sim.user_fields.values(), key=lambda f: f.position)
        ],
        "auth_providers": [],
        "full_name_required_for_signup": False,
        "full_name_visible_in_signup": True,
        "email_configured": True,
    }
