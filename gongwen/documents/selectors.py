"""Read-side queries on documents. Cross-unit reads go through
``gongwen.policy.permissions.visible_documents`` (R-SEC-1); these lists are of the user's own
unit only."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import OfficialDocument, State

DRAFT_LIST_STATES = (State.DRAFT, State.RETURNED, State.SUBMITTED)


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
