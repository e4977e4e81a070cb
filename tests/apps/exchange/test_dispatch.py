"""分发 (R-FLOW-1, R-OPS-3): fan-out with groups, idempotent retries, a fault between steps."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from gongwen.audit.models import AuditEntry
from gongwen.documents.models import OfficialDocument, State
from gongwen.exchange import services
from gongwen.exchange.models import Delivery, Dispatch, Notification

pytestmark = pytest.mark.django_db


def test_dispatch_fans_out_to_units_and_group_members_once(cast, sealed_doc,
                                                           django_capture_on_commit_callbacks):
    doc = sealed_doc()
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    rows = {d.recipient_unit.name: d for d in sent.deliveries.select_related("recipient_unit")}
    # 东海县 is 主送 directly and through the group and also 抄送: one delivery, 主送.
    assert sorted(rows) == sorted(["东海县人民政府", "赣榆县人民政府", "灌南县人民政府",
                                   "海州区人民政府", "连云港市发展和改革委员会"])
    assert rows["东海县人民政府"].role == "main" and rows["东海县人民政府"].via_group is None
    assert rows["赣榆县人民政府"].via_group == cast["group"]
    assert rows["连云港市发展和改革委员会"].role == "copy"
    assert rows["海州区人民政府"].paper and not rows["东海县人民政府"].paper
    doc.refresh_from_db()
    assert doc.state == State.DISPATCHED
    assert sent.fingerprint.startswith(("sm3:", "sha256:"))
    assert AuditEntry.objects.filter(action="exchange.dispatched").count() == 1
    # Fan-out task: 新来文 notices to networked recipients' clerks, e-mail where they have one.
    kinds = set(Notification.objects.values_list("user__username", "kind"))
    assert ("dhx_clerk", "incoming") in kinds and ("gyx_clerk", "incoming") in kinds
    assert {m.to[0] for m in mail.outbox} >= {"dhx@example.gov.cn", "gyx@example.gov.cn"}
    # Verification task ran for every networked delivery.
    assert all(d.verification.get("ok") for d in sent.deliveries.filter(paper=False))


def test_fingerprint_is_the_sealed_blob_and_a_file_changed_before_dispatch_is_returned(
        cast, sealed_doc, django_capture_on_commit_callbacks):
    """Dispatch takes the fingerprint from the blob store's name of the sealed file (the
    digest the sealing step computed), not from a second hash; a stored file changed on
    disk after 用印 keeps the sealed file's fingerprint, and the verification right after
    dispatch finds the bytes no longer match it and returns every networked delivery."""
    from gongwen.documents import blobs
    from gongwen.documents.models import Rendition
    from gongwen.exchange.models import DeliveryState

    doc = sealed_doc()
    stored = Rendition.objects.get(document=doc).blob
    path = blobs.path_for(stored)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"%changed on disk")
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    assert sent.fingerprint == stored
    assert sent.size == path.stat().st_size
    networked = list(sent.deliveries.filter(paper=False))
    assert networked and {d.state for d in networked} == {DeliveryState.REJECTED_INVALID}
    assert all("与发出文件一致" in d.return_reason for d in networked)


def test_retry_with_same_key_returns_first_dispatch(cast, sealed_doc):
    doc = sealed_doc()
    key = uuid.uuid4()
    first = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=key)
    again = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=str(key))
    other_click = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    assert first.pk == again.pk == other_click.pk
    assert Dispatch.objects.count() == 1
    assert Delivery.objects.count() == 5


@pytest.mark.parametrize("step", ["dispatch_created", "deliveries_created", "audited"])
def test_fault_between_steps_leaves_no_dispatch(cast, sealed_doc, monkeypatch, step):
    doc = sealed_doc()
    audit_before = AuditEntry.objects.count()

    def boom(name):
        if name == step:
            raise RuntimeError("power cut")

    monkeypatch.setattr(services, "_checkpoint", boom)
    key = uuid.uuid4()
    with pytest.raises(RuntimeError):
        services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=key)
    assert not Dispatch.objects.exists() and not Delivery.objects.exists()
    assert OfficialDocument.objects.get(pk=doc.pk).state == State.SEALED
    assert AuditEntry.objects.count() == audit_before
    monkeypatch.setattr(services, "_checkpoint", lambda name: None)
    sent = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=key)
    assert sent.deliveries.count() == 5


def test_only_sealed_documents_are_dispatched(cast):
    from gongwen.documents import services as docs

    doc = docs.create_draft(actor=cast["clerk_a"], title="草稿", body_text="正文",
                            main_units=[cast["b"].pk])
    with pytest.raises(ValidationError):
        services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    assert not Dispatch.objects.exists()


def test_other_unit_cannot_dispatch(cast, sealed_doc):
    from django.http import Http404

    doc = sealed_doc()
    with pytest.raises(Http404):
        services.dispatch(actor=cast["clerk_b"], doc_id=doc.pk, key=uuid.uuid4())
    assert not Dispatch.objects.exists()
    assert AuditEntry.objects.filter(action="permission.denied",
                                     actor=cast["clerk_b"]).exists()
