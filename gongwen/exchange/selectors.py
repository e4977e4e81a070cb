"""Read side of the exchange: inbox, outbox, tracking, all through the R-SEC-1 gate."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet

from gongwen.policy.permissions import visible_deliveries

from .models import (
    PENDING_STATES,
    RETURNED_STATES,
    Delivery,
    DeliveryState,
    Dispatch,
    overdue_cutoff,
)

INBOX_TABS = {
    "pending": ("未签收", list(PENDING_STATES)),
    "signed": ("已签收", [DeliveryState.SIGNED]),
    "returned": ("已退回/撤回", [*RETURNED_STATES, DeliveryState.WITHDRAWN]),
}


def _search(qs: QuerySet, prefix: str, q: str = "", date_from: dt.date | None = None,
            date_to: dt.date | None = None, unit_field: str = "") -> QuerySet:
    doc = f"{prefix}document__"
    if q:
        cond = (Q(**{f"{doc}title__icontains": q}) | Q(**{f"{doc}number_code__icontains": q})
                | Q(**{f"{doc}unit__name__icontains": q}))
        if unit_field:
            cond |= Q(**{f"{unit_field}__name__icontains": q})
        digits = "".join(ch for ch in q if ch.isdigit())
        if digits and len(digits) <= 6 and "〔" not in q:
            cond |= Q(**{f"{doc}number_serial": int(digits)})
        if "〔" in q and "〕" in q:  # 连政办发〔2006〕107号
            code, rest = q.split("〔", 1)
            year, rest = rest.split("〕", 1)
            serial = "".join(ch for ch in rest if ch.isdigit())
            if year.isdigit() and serial:
                cond |= Q(**{f"{doc}number_code": code.strip(), f"{doc}number_year": int(year),
                             f"{doc}number_serial": int(serial)})
        qs = qs.filter(cond)
    at = f"{prefix}at" if prefix else "at"
    if date_from:
        qs = qs.filter(**{f"{at}__date__gte": date_from})
    if date_to:
        qs = qs.filter(**{f"{at}__date__lte": date_to})
    return qs


def inbox_for(user, tab: str = "pending", **search) -> QuerySet[Delivery]:
    states = INBOX_TABS.get(tab, INBOX_TABS["pending"])[1]
    qs = (visible_deliveries(user).filter(recipient_unit_id=user.unit_id, state__in=states)
          .select_related("dispatch", "dispatch__document", "dispatch__sender_unit")
          .order_by("-dispatched_at", "-id"))
    return _search(qs, "dispatch__", **search)


def inbox_counts(user) -> dict[str, int]:
    rows = (visible_deliveries(user).filter(recipient_unit_id=user.unit_id)
            .values("state").annotate(n=Count("id")))
    by_state = {r["state"]: r["n"] for r in rows}
    return {tab: sum(by_state.get(s, 0) for s in states)
            for tab, (_, states) in INBOX_TABS.items()}


def outbox_for(user, **search) -> QuerySet[Dispatch]:
    if not user.unit_id:
        return Dispatch.objects.none()
    qs = Dispatch.objects.filter(sender_unit_id=user.unit_id).select_related("document", "by")
    qs = qs.annotate(
        total=Count("deliveries"),
        n_signed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.SIGNED)),
        n_returned=Count("deliveries", filter=Q(deliveries__state__in=RETURNED_STATES)),
        n_pending=Count("deliveries", filter=Q(deliveries__state__in=PENDING_STATES)),
        n_overdue=Count("deliveries", filter=Q(deliveries__state__in=PENDING_STATES,
                                               deliveries__paper=False,
                                               deliveries__dispatched_at__lte=overdue_cutoff())),
    ).order_by("-at", "-id")
    return _search(qs, "", unit_field="deliveries__recipient_unit", **search).distinct()


def tracking_for(user, only: str = "open", **search) -> QuerySet[Delivery]:
    qs = (Delivery.objects.filter(dispatch__sender_unit_id=user.unit_id)
          .select_related("dispatch", "dispatch__document", "recipient_unit")
          .prefetch_related("follow_ups").order_by("dispatched_at", "id"))
    if only == "overdue":
        qs = qs.filter(state__in=PENDING_STATES, paper=False,
                       dispatched_at__lte=overdue_cutoff())
    elif only == "open":
        qs = qs.filter(state__in=PENDING_STATES)
    return _search(qs, "dispatch__", unit_field="recipient_unit", **search)


def sealed_to_dispatch(user):
    """Sealed documents of the unit waiting for 分发."""
    from gongwen.documents.models import OfficialDocument, State

    if not user.unit_id:
        return OfficialDocument.objects.none()
    return OfficialDocument.objects.filter(unit_id=user.unit_id, state=State.SEALED) \
        .order_by("-updated_at")
