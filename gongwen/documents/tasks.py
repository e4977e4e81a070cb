"""Background work of the documents app (django-tasks, database queue), run by
``gongwen worker``. Idempotent: running a task twice changes nothing."""

from __future__ import annotations

from django_tasks import task


@task()
def prerender_document(doc_id: int) -> bool:
    """Render and store the unsealed PDF and OFD of an approved document, so that 用印 only
    signs (the keeper does not wait for rendering). Content-addressed: a rendition already
    stored for the same content is reused, and a document changed or sealed meanwhile is
    left to the sealing path, which renders what it needs itself."""
    from . import rendering
    from .models import OfficialDocument, State

    doc = OfficialDocument.objects.filter(pk=doc_id, state=State.APPROVED).first()
    if doc is None:
        return False
    rendering.renditions_for_sealing(doc)
    return True
