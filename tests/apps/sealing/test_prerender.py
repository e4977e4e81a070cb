"""Approval hands the rendering of the files for 用印 to the worker (issue 9 performance):
the task is written with the approval (outbox), renders both files once, and 用印 then only
signs."""

from __future__ import annotations

import uuid

import pytest

from gongwen.documents import rendering, sealing, services
from gongwen.documents.models import Rendition, State
from gongwen.documents.tasks import prerender_document

from .conftest import BODY, PIN

pytestmark = pytest.mark.django_db
DB_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _draft(clerk_b, unit_a):
    doc = services.create_draft(actor=clerk_b, doc_type="notice", title="关于做好防汛工作的通知",
                                body_text=BODY, main_units=[unit_a.pk],
                                main_recipients_text="各乡镇人民政府")
    services.submit(actor=clerk_b, doc_id=doc.pk)
    return doc


def test_approval_writes_the_prerender_task_in_its_transaction(settings, clerk_b, head_b,
                                                               unit_a):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_QUEUE
    doc = _draft(clerk_b, unit_a)
    services.approve(actor=head_b, doc_id=doc.pk)
    rows = list(DBTaskResult.objects.values_list("task_path", "args_kwargs"))
    assert [(p.rsplit(".", 1)[1], a["args"]) for p, a in rows] == [
        ("prerender_document", [doc.pk])]


def test_a_refused_approval_leaves_no_task(settings, clerk_b, head_b, unit_a):
    from django.core.exceptions import PermissionDenied
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_QUEUE
    doc = _draft(clerk_b, unit_a)
    with pytest.raises(PermissionDenied):
        services.approve(actor=clerk_b, doc_id=doc.pk)  # a clerk does not approve
    assert not DBTaskResult.objects.exists()


def test_prerendered_files_are_what_sealing_uses(approved, keeper_b, seal_b, station_b,
                                                 monkeypatch):
    doc = approved()
    fresh = {fmt: rendering.render_bytes(doc, fmt) for fmt in ("pdf", "ofd")}
    assert prerender_document.call(doc.pk) is True
    assert prerender_document.call(doc.pk) is True  # idempotent: nothing new stored
    assert Rendition.objects.filter(document=doc).count() == 2

    def no_rendering(*a, **kw):
        raise AssertionError("rendered again at 用印")

    monkeypatch.setattr(rendering, "_render_layout", no_rendering)
    files, _box = rendering.renditions_for_sealing(doc, 0)
    assert files == fresh
    result = sealing.seal_document(actor=keeper_b, doc_id=doc.pk, seal_id=seal_b.pk,
                                   workstation_credential=station_b, pin=PIN,
                                   idempotency_key=uuid.uuid4())
    assert result.complete and result.document.state == State.SEALED
    assert prerender_document.call(doc.pk) is False  # sealed: nothing to do
