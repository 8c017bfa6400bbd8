"""Who may do what: Discourse's Guardian rules the simulator applies (dc: lib/guardian.rb and
lib/guardian/*_guardian.rb), over the simulator's current state."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sidecar.forum.simulator.records import Post, PostActionType, User, is_flag, is_notify_flag

if TYPE_CHECKING:
    from sidecar.forum.simulator.site import DiscourseSimulator


class Guardian:
    def __init__(self, sim: DiscourseSimulator) -> None:
        self.sim = sim

    def can_approve(self, actor: User | None, target: User) -> bool:
        # dc: lib/guardian/user_guardian.rb (can_approve?) -- active and not yet approved
        return actor is not None and actor.staff and target.active and not target.approved

    def can_suspend(self, actor: User | None, target: User) -> bool:
        # dc: can_suspend? -- staff may suspend "regular" users only
        return actor is not None and actor.staff and not target.staff

    def can_delete_user(self, actor: User | None, target: User) -> bool:
        # dc: can_delete_user? -- never admins; staff may delete users with few or recent posts
        if actor is None or target.admin or target.id <= 0:
            return False
        if not actor.staff:
            return False
        posts = [p for p in self.sim.posts.values() if p.user_id == target.id]
        if not posts:
            return True
        first = min(p.created_at for p in posts)
        recent = first > self.sim.clock.now() - timedelta(
            days=self.sim.settings.delete_user_max_post_age_days
        )
        return recent or len(posts) <= self.sim.settings.max_staff_delete_post_count

    def can_see_post(self, actor: User | None, post: Post) -> bool:
        topic = self.sim.topics[post.topic_id]
        if actor is not None and actor.staff:
            return True
        if post.deleted_at is not None or topic.deleted_at is not None:
            return False
        if topic.is_private_message:
            return actor is not None and actor.id in topic.allowed_user_ids
        category = self.sim.categories.get(topic.category_id) if topic.category_id is not None else None
        return category is None or not category.read_restricted

    def post_can_act(self, actor: User, post: Post, type_id: int) -> bool:
        """dc: lib/guardian/post_guardian.rb (post_can_act?) for flags and likes."""
        if not self.can_see_post(actor, post):
            return False
        now = self.sim.clock.now()
        topic = self.sim.topics[post.topic_id]
        author = self.sim.users.get(post.user_id)
        taken = {f.post_action_type_id for f in self.sim.flags_on(post.id)
                 if f.user_id == actor.id and f.deleted_at is None}  # fmt: skip
        flag = is_flag(type_id)
        if flag and actor.is_silenced(now):
            return False
        if flag and post.hidden:
            return False
        if flag and not self.sim.settings.allow_flagging_staff and author is not None and author.staff:
            return False
        if type_id == PostActionType.NOTIFY_USER and author is None:
            return False
        if flag:
            already_flagged = any(is_notify_flag(t) for t in taken)
            may_flag = actor.staff or actor.trust_level >= self.sim.settings.min_trust_to_flag_posts
            return not already_flagged and (may_flag or topic.is_private_message)
        if type_id in taken or topic.archived or post.deleted_at is not None:
            return False
        return not (type_id == PostActionType.LIKE and author is not None and author.id == actor.id)
