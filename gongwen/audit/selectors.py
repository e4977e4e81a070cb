"""Reading the audit trail: the filters of the auditor's page, its CSV export and /api/audit.
Whose entries a user may read is the permission layer's (``policy.audit_entries_for``)."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone

from . import actions


def filter_entries(entries: QuerySet, *, actor: str = "", unit_id: int | None = None,
                   action: str = "", date_from: date | None = None,
                   date_to: date | None = None) -> QuerySet:
    """``actor``: part of the name; ``action``: the 事项 as shown (part of its Chinese label)
    or as stored (part of its code); dates are whole days in the server's time zone."""
    if actor:
        entries = entries.filter(actor_name__icontains=actor)
    if unit_id is not None:
        entries = entries.filter(unit_id=unit_id)
    if action:
        entries = entries.filter(Q(action__icontains=action)
                                 | Q(action__in=actions.codes_labelled(action)))
    tz = timezone.get_current_timezone()
    if date_from:
        entries = entries.filter(at__gte=datetime.combine(date_from, time.min, tz))
    if date_to:
        entries = entries.filter(at__lte=datetime.combine(date_to, time.max, tz))
    return entries
