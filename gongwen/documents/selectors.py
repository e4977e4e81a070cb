"""Read-side queries on documents. Cross-unit reads go through
``gongwen.policy.permissions.visible_documents`` (R-SEC-1); these lists are of the user's own
unit only."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from .models import OfficialDocument, State

DRAFT_LIST_STATES = (State.DRAFT, State.RETURNED, State.SUBMITTED)


def document_match(q: str, prefix: str = "") -> Q:
    """Documents whose title, 发文字号 or drafting unit matches the search text ``q``;
    ``prefix`` leads from the queried model to the document (``"dispatch__document__"``).
    A bare number matches the serial of the 字号, a whole 字号 (连政办发〔2006〕107号) its
    three parts."""
    cond = (Q(**{f"{prefix}title__icontains": q}) | Q(**{f"{prefix}number_code__icontains": q})
            | Q(**{f"{prefix}unit__name__icontains": q}))
    digits = "".join(ch for ch in q if ch.isdigit())
    if digits and len(digits) <= 6 and "〔" not in q:
        cond |= Q(**{f"{prefix}number_serial": int(digits)})
    if "〔" in q and "〕" in q:
        code, rest = q.split("〔", 1)
        year, rest = rest.split("〕", 1)
        serial = "".join(ch for ch in rest if ch.isdigit())
        if year.isdigit() and serial:
            cond |= Q(**{f"{prefix}number_code": code.strip(), f"{prefix}number_year": int(year),
                         f"{prefix}number_serial": int(serial)})
    return cond


def search_documents(qs: QuerySet, *, date_field: str, q: str = "",
                     date_from: dt.date | None = None,
                     date_to: dt.date | None = None) -> QuerySet:
    """A document list narrowed by the search form: text (``document_match``) and a date
    range on ``date_field`` (both ends included, local dates)."""
    if q:
        qs = qs.filter(document_match(q))
    if date_from:
        qs = qs.filter(**{f"{date_field}__date__gte": date_from})
    if date_to:
        qs = qs.filter(**{f"{date_field}__date__lte": date_to})
    return qs


def drafts_for(user, state: str = "") -> QuerySet[OfficialDocument]:
    """草稿: the unit's documents not yet approved, newest first."""
    states = (state,) if state in DRAFT_LIST_STATES else DRAFT_LIST_STATES
    return (OfficialDocument.objects.filter(unit_id=user.unit_id, state__in=states)
            .select_related("created_by").order_by("-updated_at", "-id"))


def approval_queue_for(user) -> QuerySet[OfficialDocument]:
    """待核批: the unit's submitted documents, oldest first (first come, first signed)."""
    return (OfficialDocument.objects.filter(unit_id=user.unit_id, state=State.SUBMITTED)
            .select_related("created_by").order_by("submitted_at", "id"))


def visible_document(user, doc_id: int, *, request=None) -> OfficialDocument:
    """The document ``doc_id`` if ``user`` may see it: a missing one and another unit's raise
    the same 404 (R-SEC-1); the refusal is audited by the permission layer."""
    from django.http import Http404

    from gongwen.policy.permissions import Perm, require

    doc = OfficialDocument.objects.select_related("unit").filter(pk=doc_id).first()
    if doc is None:
        raise Http404("未找到该公文。")
    require(user, Perm.VIEW_DOCUMENT, doc, request=request)
    return doc


def corrected_document(user, doc: OfficialDocument) -> dict | None:
    """What a correction (更正公文) says of the document it corrects, to ``user``'s unit.
    Its title and 字号 only to a party to that document: the unit that issued it (with a
    link to it) or one that received it (with a link to its delivery). A unit that receives
    only the correction learns that it is one, not what it corrects (R-SEC-1). None for a
    document that corrects nothing."""
    from gongwen.exchange.models import Delivery

    if not doc.corrects_id:
        return None
    original = doc.corrects
    own = original.unit_id == user.unit_id
    delivery_id = None if own else (
        Delivery.objects.filter(dispatch__document_id=original.pk,
                                recipient_unit_id=user.unit_id)
        .order_by("-pk").values_list("pk", flat=True).first())
    if not (own or delivery_id):
        return {"known": False}
    return {"known": True, "title": original.title, "doc_number": original.doc_number,
            "document_id": original.pk if own else None, "delivery_id": delivery_id}
