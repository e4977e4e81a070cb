"""批量用印: one PIN entry for a stack of approved documents (issue 9 performance): the key
disk opened once, each document sealed in its own transaction, refusals per document,
idempotent per document."""

from __future__ import annotations

import uuid

import pytest

from gongwen.audit.models import AuditEntry
from gongwen.documents import blobs, sealing, verification
from gongwen.documents.models import State
from gongwen.seals.models import SealEvent
from gongwen.seals.services import SealUseRefused

from .conftest import PIN


@pytest.fixture
def disk_opens(monkeypatch):
    """Counts the key disk openings (each one is a PBKDF2 run of the PIN)."""
    from gongwen.authority import services as authority

    calls = []
    real = authority.open_key_disk

    def counting(**kw):
        calls.append(kw.get("pin"))
        return real(**kw)

    monkeypatch.setattr(authority, "open_key_disk", counting)
    return calls


def _batch(keeper, seal, station, ids, *, pin=PIN, key=None):
    return sealing.seal_documents(actor=keeper, doc_ids=ids, seal_id=seal.pk,
                                  workstation_credential=station, pin=pin,
                                  idempotency_key=key or uuid.uuid4())


def test_a_stack_is_sealed_with_one_key_disk_opening(approved, keeper_b, seal_b, station_b,
                                                     disk_opens):
    docs = [approved(title=f"关于第{i}项工作的通知") for i in range(3)]
    items = _batch(keeper_b, seal_b, station_b, [d.pk for d in docs])
    assert [i.doc_id for i in items] == [d.pk for d in docs]
    assert all(i.ok and i.error_zh is None and i.result.complete for i in items)
    assert len(disk_opens) == 1
    for doc in docs:
        doc.refresh_from_db()
        assert doc.state == State.SEALED
        use = SealEvent.objects.get(seal=seal_b, kind=SealEvent.Kind.USED, document_id_ref=doc.pk)
        assert doc.doc_number in use.document_ref
        assert AuditEntry.objects.filter(action="seal.used", detail__document_id=doc.pk).count() == 1
        assert verification.verify_document(doc).valid
        # Each file is named by its own bytes (the PDF's digest comes from the sealer).
        files = sealing.sealed_files(doc)
        assert sorted(files) == ["ofd", "pdf"]
        assert all(blobs.verify(f.blob) for f in files.values())
    assert AuditEntry.objects.filter(action="document.sealed").count() == 3


def test_a_mixed_batch_seals_what_it_may_and_explains_the_rest(
        approved, keeper_b, seal_b, station_b, clerk_b, bureau, make_user, unit_a,
        disk_opens):
    from gongwen.documents import services

    clerk_bureau = make_user(bureau, "clerk")

    good = approved()
    draft = services.create_draft(actor=clerk_b, doc_type="notice", title="关于草稿的通知",
                                  body_text="草稿正文。", main_units=[unit_a.pk])
    other = services.create_draft(actor=clerk_bureau, doc_type="notice",
                                  title="关于人社工作的通知", body_text="正文。",
                                  main_units=[unit_a.pk])
    items = _batch(keeper_b, seal_b, station_b, [draft.pk, good.pk, other.pk, 999999, good.pk])
    by_id = {i.doc_id: i for i in items}
    assert len(items) == 4  # a document listed twice is sealed once
    assert by_id[good.pk].ok and by_id[good.pk].result.complete
    assert not by_id[draft.pk].ok and "只有已核批的公文可以用印" in by_id[draft.pk].error_zh
    assert by_id[other.pk].error_zh == "未找到该公文。"  # another unit's: invisible
    assert by_id[999999].error_zh == "未找到该公文。"
    assert len(disk_opens) == 1
    good.refresh_from_db()
    draft.refresh_from_db()
    assert good.state == State.SEALED and draft.state == State.DRAFT
    assert SealEvent.objects.filter(seal=seal_b, kind=SealEvent.Kind.USED).count() == 1
    assert AuditEntry.objects.filter(action="document.seal_refused", detail__why="state",
                                     target_id=str(draft.pk)).exists()


def test_a_batch_with_nothing_to_seal_does_not_open_the_key_disk(approved, keeper_b, seal_b,
                                                                 station_b, clerk_b, unit_a,
                                                                 disk_opens):
    from gongwen.documents import services

    draft = services.create_draft(actor=clerk_b, doc_type="notice", title="关于草稿的通知",
                                  body_text="草稿正文。", main_units=[unit_a.pk])
    [item] = _batch(keeper_b, seal_b, station_b, [draft.pk], pin="00000000")
    assert not item.ok and disk_opens == []


def test_a_retried_batch_returns_the_stored_results_without_the_key_disk(
        approved, keeper_b, seal_b, station_b, disk_opens):
    docs = [approved(title=f"关于第{i}项工作的通知") for i in range(2)]
    key = uuid.uuid4()
    first = _batch(keeper_b, seal_b, station_b, [d.pk for d in docs], key=key)
    again = _batch(keeper_b, seal_b, station_b, [d.pk for d in docs], key=key, pin="00000000")
    assert len(disk_opens) == 1
    assert all(i.ok and i.result.already for i in again)
    assert [i.result.files for i in again] == [i.result.files for i in first]
    assert SealEvent.objects.filter(seal=seal_b, kind=SealEvent.Kind.USED).count() == 2
    sealed = AuditEntry.objects.filter(action="document.sealed")
    assert sealed.count() == 2
    # each document carries its own key derived from the batch key
    assert {e.detail["idempotency_key"] for e in sealed} == {
        str(uuid.uuid5(key, str(d.pk))) for d in docs}


def test_a_wrong_pin_counts_once_and_seals_nothing(approved, keeper_b, seal_b, station_b,
                                                   disk_opens):
    docs = [approved(title=f"关于第{i}项工作的通知") for i in range(3)]
    disk = seal_b.certificate.key_disk
    # A refusal of the seal itself concerns the whole stack: raised (API 400 wrong_pin, one
    # form error on the page), like 批量签收's wrong PIN.
    with pytest.raises(SealUseRefused) as refused:
        _batch(keeper_b, seal_b, station_b, [d.pk for d in docs], pin="11112222")
    assert "密钥盘口令验证未通过" in refused.value.message_zh and refused.value.why == "pin"
    assert len(disk_opens) == 1
    disk.refresh_from_db()
    assert disk.failed_attempts == 1
    assert AuditEntry.objects.filter(action="seal.use_refused", detail__why="pin").count() == 1
    assert not SealEvent.objects.filter(seal=seal_b, kind=SealEvent.Kind.USED).exists()
    for doc in docs:
        doc.refresh_from_db()
        assert doc.state == State.APPROVED and sealing.seals_applied(doc) == 0


def test_a_seal_lost_while_the_stack_is_signed_stores_nothing(approved, keeper_b, seal_b,
                                                              station_b, monkeypatch):
    """GIVEN the seal is reported lost after the stack was signed, before it is stored
    WHEN the stack is stored THEN the seal's row (locked first) shows it: nothing is stored,
    every document is refused with the reason, the refusal is audited, no use registered."""
    from gongwen.seals.models import SealStatus

    docs = [approved(title=f"关于第{i}项工作的通知") for i in range(2)]
    real = sealing._sign

    def sign_then_lose_the_seal(*args, **kw):
        signed = real(*args, **kw)
        type(seal_b).objects.filter(pk=seal_b.pk).update(status=SealStatus.LOST)
        return signed

    monkeypatch.setattr(sealing, "_sign", sign_then_lose_the_seal)
    items = _batch(keeper_b, seal_b, station_b, [d.pk for d in docs])
    assert all(not i.ok and "不能使用" in i.error_zh for i in items), items
    for doc in docs:
        doc.refresh_from_db()
        assert doc.state == State.APPROVED and sealing.seals_applied(doc) == 0
    assert AuditEntry.objects.filter(action="seal.use_refused", detail__why="status").count() == 1
    assert not SealEvent.objects.filter(seal=seal_b, kind=SealEvent.Kind.USED).exists()
    assert not AuditEntry.objects.filter(action="document.sealed").exists()


def test_sealing_reuses_the_stored_renditions_byte_for_byte(approved, keeper_b, seal_b,
                                                            station_b, monkeypatch):
    from gongwen.documents import rendering

    doc = approved()
    fresh = {fmt: rendering.render_bytes(doc, fmt) for fmt in ("pdf", "ofd")}
    files, box = rendering.renditions_for_sealing(doc, 0)  # rendered once and stored
    assert files == fresh and box is not None
    assert rendering.rendition(doc, "pdf")[0] == fresh["pdf"]

    def no_rendering(*a, **kw):
        raise AssertionError("rendered again at 用印")

    monkeypatch.setattr(rendering, "_render_layout", no_rendering)
    again, box2 = rendering.renditions_for_sealing(doc, 0)
    assert again == fresh and box2 == box
    result = sealing.seal_document(actor=keeper_b, doc_id=doc.pk, seal_id=seal_b.pk,
                                   workstation_credential=station_b, pin=PIN,
                                   idempotency_key=uuid.uuid4())
    assert result.complete


SEAL_STACK_BUDGET = 40  # statements for a stack of any size (key disk opening included)


def test_a_stack_costs_the_same_statements_whatever_its_size(approved, keeper_b, seal_b,
                                                            station_b):
    """批量用印 reads the stack at once and stores it in one transaction: 2 or 6 documents,
    the same number of statements (was ~27 more per document)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gongwen.documents import rendering

    counts = []
    for n in (2, 6):
        docs = [approved(title=f"关于第{n}-{i}项工作的通知") for i in range(n)]
        for doc in docs:  # what the worker's prerender does after 核批
            rendering.renditions_for_sealing(doc, 0)
        with CaptureQueriesContext(connection) as queries:
            items = _batch(keeper_b, seal_b, station_b, [d.pk for d in docs])
        assert all(i.ok and i.result.complete for i in items), items
        counts.append(len(queries))
    assert counts[0] == counts[1] <= SEAL_STACK_BUDGET, counts
    assert SealEvent.objects.filter(seal=seal_b, kind=SealEvent.Kind.USED).count() == 8
    assert AuditEntry.objects.filter(action="document.sealed").count() == 8
    assert AuditEntry.objects.filter(action="seal.used").count() == 8
