"""转发 (R-FLOW-5) on really sealed files: 东海县 (unit_b) seals a notice and sends it to the
人社局 (bureau); the bureau signs for it, forwards it (a new 通知 with the received sealed
file as its first attachment, byte for byte), seals and sends that to the city office
(unit_a), whose report shows the original's own seal — 东海县's, not the bureau's — and
whose download of the carried file gives the original's bytes."""

from __future__ import annotations

import uuid
import zlib

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.documents import blobs, forwarding, sealing, verification
from gongwen.documents import services as docs
from gongwen.documents.models import OfficialDocument
from gongwen.exchange import hooks, services
from gongwen.exchange.models import DeliveryState
from gongwen.pki.suites import sm3
from tests.conftest import PASSWORD

from .conftest import SEAL_PIN

pytestmark = pytest.mark.django_db
RECEIPT_PIN = "80417326"


@pytest.fixture
def world(real_sealing, approved, keeper_b, seal_b, station_b, unit_a, unit_b, bureau,
          make_user):
    from gongwen.authority import services as authority

    for unit in (unit_a, bureau):
        unit.networked = True
        unit.save()
    people = {
        "sender_b": make_user(unit_b, Role.CLERK, username="dhx_sender"),
        "clerk_bureau": make_user(bureau, Role.CLERK, username="rsj_clerk"),
        "head_bureau": make_user(bureau, Role.HEAD, username="rsj_head_fw"),
        "clerk_a": make_user(unit_a, Role.CLERK, username="sfb_receiver"),
        "clerk_b_other": make_user(unit_b, Role.CLERK, username="dhx_other"),
    }
    for name in ("clerk_bureau", "clerk_a"):
        authority.issue_certificate(unit=people[name].unit, profile="unit-receipt",
                                    holder=people[name], pin=RECEIPT_PIN)
    return people


@pytest.fixture
def received(world, approved, keeper_b, seal_b, station_b, bureau):
    """The original: 东海县's sealed notice, delivered to the bureau (not yet signed)."""
    doc = approved(main_units=[bureau.pk], title="关于做好2006年防汛工作的通知")
    sealing.seal_document(actor=keeper_b, doc_id=doc.pk, seal_id=seal_b.pk,
                          workstation_credential=station_b, pin=SEAL_PIN,
                          idempotency_key=uuid.uuid4())
    sent = services.dispatch(actor=world["sender_b"], doc_id=doc.pk, key=uuid.uuid4())
    d = sent.deliveries.get(recipient_unit=bureau)
    return services.open_delivery(actor=world["clerk_bureau"], delivery_id=d.pk)


@pytest.fixture
def signed(world, received):
    services.sign_receipt(actor=world["clerk_bureau"], delivery_id=received.pk,
                          pin=RECEIPT_PIN, key=uuid.uuid4())
    received.refresh_from_db()
    assert received.state == DeliveryState.SIGNED
    return received


def _seal_and_send(world, doc, unit_a, keeper_bureau, seal_bureau, station_bureau):
    docs.update_draft(actor=world["clerk_bureau"], doc_id=doc.pk, main_units=[unit_a.pk])
    docs.submit(actor=world["clerk_bureau"], doc_id=doc.pk)
    docs.approve(actor=world["head_bureau"], doc_id=doc.pk)
    result = sealing.seal_document(actor=keeper_bureau, doc_id=doc.pk,
                                   seal_id=seal_bureau.pk,
                                   workstation_credential=station_bureau, pin=SEAL_PIN,
                                   idempotency_key=uuid.uuid4())
    assert result.complete
    sent = services.dispatch(actor=world["clerk_bureau"], doc_id=doc.pk, key=uuid.uuid4())
    d = sent.deliveries.get(recipient_unit=unit_a)
    return services.open_delivery(actor=world["clerk_a"], delivery_id=d.pk)


def test_forward_carries_the_original_and_its_seal_verifies_at_the_next_recipient(
        world, signed, unit_a, unit_b, bureau, keeper_bureau, seal_bureau, station_bureau,
        seal_b, client, tmp_path, capsys):
    """GIVEN 东海县's sealed notice signed for by the bureau
    WHEN the bureau forwards it, seals and sends the 转发 notice to the city office
    THEN the city office's report shows the carried original with 东海县's seal valid, and
    the carried file downloaded from the page is the original's bytes."""
    original = blobs.read(signed.dispatch.fingerprint)
    key = uuid.uuid4()
    doc = forwarding.forward_delivery(actor=world["clerk_bureau"], delivery_id=signed.pk,
                                      idempotency_key=key)
    assert doc.unit == bureau and doc.state == "draft" and doc.doc_type == "notice"
    assert doc.title == "关于转发《关于做好2006年防汛工作的通知》的通知"
    number = signed.dispatch.document.doc_number
    assert doc.body[0]["text"] == (f"现将东海县人民政府《关于做好2006年防汛工作的通知》（{number}）"
                                   "转发给你们，请结合实际认真贯彻执行。")
    assert doc.forwards_id == signed.pk
    [att] = doc.attachments.all()
    assert att.title == "关于做好2006年防汛工作的通知"
    assert blobs.read(att.blob) == original
    assert AuditEntry.objects.filter(action="document.forward_started").count() == 1

    d = _seal_and_send(world, doc, unit_a, keeper_bureau, seal_bureau, station_bureau)
    report = hooks.Report.from_dict(d.verification)
    assert report.ok, report.reason_zh()
    assert any(c.name == "carried" and c.ok for c in report.checks)
    [carried] = report.carried
    assert carried.covered is True and carried.size == len(original)
    assert carried.sm3 == sm3(original).hex()
    assert carried.original["valid"] is True, carried.original
    [sig] = carried.original["signatures"]
    assert sig["unit"] == unit_b.name and sig["seal_name"] == seal_b.name
    assert not report.warnings()
    # The JSON keeps its old keys and adds the carried files.
    assert {"ok", "checks", "carried"} <= set(d.verification)

    client.login(username="sfb_receiver", password=PASSWORD)
    page = client.get(f"/inbox/{d.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "随文原件" in html and "原件印章核验通过" in html and unit_b.name in html
    got = client.get(f"/inbox/{d.pk}/carried/0/")
    assert got.status_code == 200 and got.content == original
    doc_page = client.get(f"/documents/{doc.pk}/")
    assert "转发自：东海县人民政府《关于做好2006年防汛工作的通知》" in doc_page.content.decode()
    assert client.get(f"/documents/{doc.pk}/carried/0/").content == original
    report_page = client.get(f"/documents/{doc.pk}/verification/").content.decode()
    assert 'id="carried-files"' in report_page and "原件印章核验通过" in report_page
    assert client.get(f"/inbox/{d.pk}/carried/5/").status_code == 404

    # The page's placeholder line names the carried file's SM3 prefix.
    sealed_pdf = sealing.sealed_bytes(OfficialDocument.objects.get(pk=doc.pk), "pdf")
    text = verification.document_text(sealed_pdf, "pdf")
    assert sm3(original).hex()[:16] in text.replace(" ", "")

    # Offline: gongwen verify lists the carried file and takes it out (--extract).
    from gongwen.cli import main

    sent = d.dispatch
    stored = blobs.read(sent.fingerprint)
    (tmp_path / "forward.pdf").write_bytes(stored)
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "forward.pdf"), "--extract",
                 str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "随文文件（1 个）" in out and sm3(original).hex() in out
    assert "原件印章核验通过" in out and unit_b.name in out
    [extracted] = (tmp_path / "out").iterdir()
    assert extracted.read_bytes() == original

    # Someone rewrites the carried original inside the stored sealed file.
    packed = zlib.compress(original, 6)
    at = stored.find(packed)
    assert at > 0
    for i in range(len(original) - 1, 0, -1):
        forged = bytearray(original)
        forged[i] ^= 0x01
        repacked = zlib.compress(bytes(forged), 6)
        if len(repacked) == len(packed):
            break
    assert len(repacked) == len(packed)
    blobs.path_for(sent.fingerprint).write_bytes(stored[:at] + repacked
                                                 + stored[at + len(packed):])
    bad = hooks.verify_dispatched(sent.document, sent)
    assert not bad.ok
    failed = {c.name for c in bad.failures()}
    assert {"integrity", "carried"} <= failed, bad.reason_zh()
    assert bad.carried[0].covered is False
    (tmp_path / "forged.pdf").write_bytes(blobs.read(sent.fingerprint))
    assert main(["verify", str(tmp_path / "forged.pdf"), "--json"]) == 1


def test_forward_is_idempotent(world, signed):
    key = uuid.uuid4()
    first = forwarding.forward_delivery(actor=world["clerk_bureau"], delivery_id=signed.pk,
                                        idempotency_key=key)
    again = forwarding.forward_delivery(actor=world["clerk_bureau"], delivery_id=signed.pk,
                                        idempotency_key=key)
    assert again.pk == first.pk
    assert OfficialDocument.objects.filter(forwards=signed).count() == 1


def test_forward_of_an_unsigned_delivery_is_refused(world, received):
    with pytest.raises(PermissionDenied) as exc:
        forwarding.forward_delivery(actor=world["clerk_bureau"], delivery_id=received.pk,
                                    idempotency_key=uuid.uuid4())
    assert "签收后才能转发" in exc.value.message_zh
    assert not OfficialDocument.objects.filter(forwards=received).exists()
    assert AuditEntry.objects.filter(action="document.forward_refused").exists()


def test_forward_by_another_unit_is_not_found(world, signed, client):
    for user in (world["clerk_b_other"], world["clerk_a"]):  # the sender, an outsider
        with pytest.raises(Http404):
            forwarding.forward_delivery(actor=user, delivery_id=signed.pk,
                                        idempotency_key=uuid.uuid4())
    assert not OfficialDocument.objects.filter(forwards=signed).exists()
    client.login(username="sfb_receiver", password=PASSWORD)
    assert client.post(f"/inbox/{signed.pk}/forward/",
                       {"key": str(uuid.uuid4())}).status_code == 404
    assert client.get(f"/inbox/{signed.pk}/carried/0/").status_code == 404


def test_forward_button_on_the_signed_delivery_page(world, signed, client):
    client.login(username="rsj_clerk", password=PASSWORD)
    html = client.get(f"/inbox/{signed.pk}/").content.decode()
    assert 'id="forward-form"' in html
    resp = client.post(f"/inbox/{signed.pk}/forward/", {"key": str(uuid.uuid4())})
    assert resp.status_code == 302
    doc = OfficialDocument.objects.get(forwards=signed)
    assert resp["Location"] == f"/drafts/{doc.pk}/"
