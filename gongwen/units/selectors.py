"""Read-side queries on units."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import RecipientGroup, Unit, UnitState


def active_units() -> QuerySet[Unit]:
    return Unit.objects.filter(state=UnitState.ACTIVE)


def directory(query: str = "") -> QuerySet[Unit]:
    """The address book every user sees (R-UNIT-3): active units, searchable."""
    units = active_units().select_related("parent")
    if query:
        units = units.filter(Q(name__icontains=query) | Q(short_name__icontains=query)
                             | Q(code__icontains=query))
    return units.in_directory_order()


def groups_for(unit: Unit | None) -> QuerySet[RecipientGroup]:
    """Platform-wide groups plus the unit's own."""
    q = Q(owner__isnull=True)
    if unit is not None:
        q |= Q(owner=unit)
    return RecipientGroup.objects.filter(q).prefetch_related("members")
