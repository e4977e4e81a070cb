"""用印 by the keeper (R-DOC-3, R-FLOW-1, R-SEAL-5/6): seal both renditions, verify, refuse
each missing factor, idempotent retries, 联合行文 in order."""

from __future__ import annotations

import uuid

import pytest

from gongwen.audit.models import AuditEntry
from gongwen.documents import sealing, verification
from gongwen.documents.models import State
from gongwen.seals.models import SealEvent
from gongwen.seals.services import SealUseRefused

from .conftest import PIN


def _seal(doc, keeper, seal, station, pin=PIN, key=None):
    return sealing.seal_document(actor=keeper, doc_id=doc.pk, seal_id=seal.pk,
                                 workstation_credential=station, pin=pin,
                                 idempotency_key=key or uuid.uuid4())


def test_keeper_seals_an_approved_document_and_it_verifies(approved, keeper_b, seal_b,
                                                          station_b, unit_b):
    doc = approved()
    result = _seal(doc, keeper_b, seal_b, station_b)
    doc.refresh_from_db()
    assert doc.state == State.SEALED and result.complete and not result.already
    assert set(result.files) == {"pdf", "ofd"}
    use = SealEvent.objects.get(seal=seal_b, kind=SealEvent.Kind.USED)
    assert use.document_id_ref == doc.pk and doc.doc_number in use.document_ref
    assert AuditEntry.objects.filter(action="document.sealed", target_id=str(doc.pk)).exists()
    for fmt in ("pdf", "ofd"):
        report = verification.verify_document(doc, file_format=fmt)
        assert report.valid, report.text_zh()
        assert report.signatures[0]["unit"] == unit_b.name
        data = report.to_json()
        assert data["valid"] and data["checks"]["signer_unit"]["ok"] is True
        assert "签章单位与发文单位一致" in report.text_zh()


def test_retry_returns_the_first_result_without_opening_the_key_disk(approved, keeper_b,
                                                                     seal_b, station_b):
    doc = approved()
    key = uuid.uuid4()
    first = _seal(doc, keeper_b, seal_b, station_b, key=key)
    again = _seal(doc, keeper_b, seal_b, station_b, key=key, pin="00000000")  # PIN not asked
    assert again.already and again.files == first.files
    assert SealEvent.objects.filter(seal=seal_b, kind=SealEvent.Kind.USED).count() == 1
    assert AuditEntry.objects.filter(action="document.sealed").count() == 1


def test_sealed_document_is_immutable(approved, keeper_b, seal_b, station_b, clerk_b):
    from django.core.exceptions import ValidationError

    from gongwen.documents import services

    doc = approved()
    _seal(doc, keeper_b, seal_b, station_b)
    with pytest.raises((ValidationError, PermissionError, Exception)):
        services.update_draft(actor=clerk_b, doc_id=doc.pk, title="改过的标题")
    doc.refresh_from_db()
    assert doc.title == "关于推行公文无纸化传输工作的通知"


@pytest.mark.parametrize("factor", ["role", "keeper", "workstation", "pin"])
def test_each_missing_factor_is_refused_and_audited(factor, approved, keeper_b, seal_b,
                                                    station_b, make_user, unit_b):
    doc = approved()
    actor, station, pin = keeper_b, station_b, PIN
    if factor == "role":
        actor = make_user(unit_b, "clerk")
    elif factor == "keeper":
        actor = make_user(unit_b, "seal_keeper")
    elif factor == "workstation":
        station = "gwws-not-enrolled"
    else:
        pin = "11112222"
    with pytest.raises(SealUseRefused):
        _seal(doc, actor, seal_b, station, pin=pin)
    doc.refresh_from_db()
    assert doc.state == State.APPROVED and sealing.seals_applied(doc) == 0
    assert AuditEntry.objects.filter(action="seal.use_refused", detail__why=factor).count() == 1


def test_wrong_pins_are_counted_and_lock_the_key_disk(approved, keeper_b, seal_b, station_b):
    doc = approved()
    for _ in range(5):
        with pytest.raises(SealUseRefused):
            _seal(doc, keeper_b, seal_b, station_b, pin="11112222")
    with pytest.raises(SealUseRefused, match="锁定"):
        _seal(doc, keeper_b, seal_b, station_b)  # even the right PIN: locked
    seal_b.certificate.key_disk.refresh_from_db()
    assert seal_b.certificate.key_disk.locked


def test_another_units_seal_is_refused(approved, keeper_bureau, seal_bureau, station_bureau):
    doc = approved()
    from django.http import Http404

    with pytest.raises((sealing.SealingRefused, Http404)):
        _seal(doc, keeper_bureau, seal_bureau, station_bureau)
    doc.refresh_from_db()
    assert doc.state == State.APPROVED


def test_joint_document_is_sealed_in_order(approved, keeper_b, seal_b, station_b, bureau,
                                           keeper_bureau, seal_bureau, station_bureau):
    doc = approved(co_issuers=[bureau.pk])
    assert [u.pk for u in sealing.sealing_issuers(doc)][1] == bureau.pk
    assert list(sealing.awaiting_seal(keeper_bureau)) == []
    assert [d.pk for d in sealing.awaiting_seal(keeper_b)] == [doc.pk]
    with pytest.raises(sealing.SealingRefused, match="顺序"):
        _seal(doc, keeper_bureau, seal_bureau, station_bureau)
    first = _seal(doc, keeper_b, seal_b, station_b)
    doc.refresh_from_db()
    assert not first.complete and doc.state == State.APPROVED
    assert [d.pk for d in sealing.awaiting_seal(keeper_bureau)] == [doc.pk]
    second = _seal(doc, keeper_bureau, seal_bureau, station_bureau)
    doc.refresh_from_db()
    assert second.complete and doc.state == State.SEALED
    for fmt in ("pdf", "ofd"):
        report = verification.verify_document(doc, file_format=fmt)
        assert report.valid, report.text_zh()
        assert len(report.signatures) == 2
