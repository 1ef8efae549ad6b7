"""Operator template tags: the dead-letter count the menu (and the home page) show."""

from __future__ import annotations

from typing import Any

from django import template

from comptoir.notifications import queries as outbox_queries

register = template.Library()


@register.simple_tag(takes_context=True)
def dead_letters(context: Any) -> int:
    """Counted once per request, however many places show it."""
    request = context.get("request")
    cached = getattr(request, "_comptoir_dead_letters", None)
    if cached is None:
        cached = outbox_queries.dead_letters_count()
        if request is not None:
            request._comptoir_dead_letters = cached
    return int(cached)
