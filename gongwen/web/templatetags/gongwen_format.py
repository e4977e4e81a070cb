"""Display filters shared by the templates."""

from __future__ import annotations

import uuid

from django import template

from gongwen.documents.verification import display_time

register = template.Library()


@register.filter
def local_time(value) -> str:
    """A stored time (UTC ISO 8601 text of a verification report, or a datetime) in local
    time as the UI shows it: ``2026-11-28 12:32:26``; empty when there is none."""
    return display_time(value)


@register.simple_tag
def fresh_key() -> str:
    """A new idempotency key for a form shown once per row (the 跟踪 board's 登记催办): a
    double click sends one key twice and records once."""
    return str(uuid.uuid4())
