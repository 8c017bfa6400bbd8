"""The sidecar's event handlers, registered by event name.

Every event Discourse can send is stored and visible; only the events named here are acted on, the rest
are marked ``ignored``. Capabilities register their handlers in ``build_registry``.
"""

from __future__ import annotations

from webhooks.dispatch import Registry


def build_registry() -> Registry:
    """The registry the sidecar runs with. Registration, termination and scanning add to it."""
    return Registry()
