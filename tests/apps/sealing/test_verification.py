"""The verification report fails with the specific reason: revoked seal, revoked
certificate, stale CRL, a seal of another unit, tampering (R-FLOW-2)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from gongwen.documents import rendering, sealing, verification
from gongwen.documents.models import FileFormat
from gongwen.seals import services as seal_services
from gongwen.seals.models import SealStatus

from .conftest import PIN


@pytest.fixture
def sealed(approved, keeper_b, seal_b, station_b):
    doc = approved()
    sealing.seal_document(actor=keeper_b, doc_id=doc.pk, seal_id=seal_b.pk,
                          workstation_credential=station_b, pin=PIN,
                          idempotency_key=uuid.uuid4())
    return doc


@pytest.mark.parametrize("fmt", ["pdf", "ofd"])
def test_revoked_seal_in_the_register_at_signing_time_fails(sealed, seal_b, fmt):
    seal_b.status = SealStatus.LOST
    seal_b.status_changed_at = timezone.now() - timedelta(days=1)  # reported lost before
    seal_b.save()
    report = verification.verify_document(sealed, file_format=fmt)
    assert not report.valid and report.register.ok is False
    assert "挂失" in report.register.reason_zh


@pytest.mark.parametrize("fmt", ["pdf", "ofd"])
def test_seal_revoked_after_signing_still_verifies_register(sealed, seal_b, fmt):
    seal_b.status = SealStatus.REVOKED
    seal_b.status_changed_at = timezone.now() + timedelta(minutes=1)
    seal_b.save()
    report = verification.verify_document(sealed, file_format=fmt)
    assert report.register.ok is True


@pytest.mark.parametrize("fmt", ["pdf", "ofd"])
def test_stale_crl_fails_the_certificate_check(sealed, fmt):
    report = verification.verify_document(sealed, file_format=fmt,
                                          at=timezone.now() + timedelta(days=30))
    assert not report.valid and report.certificate.ok is False
    assert "吊销列表已过期" in report.certificate.reason_zh


def _forge(doc, sealer, seal, when):
    """A stolen key used outside the platform: seal the rendered files directly."""
    lay = rendering.layout(doc)
    pdf, _ = rendering.rendition(doc, FileFormat.PDF)
    ofd, _ = rendering.rendition(doc, FileFormat.OFD)
    sealed = sealing.seal_files(sealer, pdf=pdf, ofd=ofd, box=lay.seals[0],
                                seal_image_png=bytes(seal.image_png), signing_time=when)
    return sealed.pdf, sealed.ofd


def test_revoked_certificate_fails(approved, keeper_b, seal_b, station_b, operator):
    from gongwen.authority import services as authority

    doc = approved()
    sealer = seal_services.authorize_seal_use(user=keeper_b, seal=seal_b,
                                              workstation_credential=station_b, pin=PIN)
    authority.revoke_certificate(actor=operator, cert_id=seal_b.certificate_id,
                                 reason="key_compromise")
    pdf, ofd = _forge(doc, sealer, seal_b, timezone.now() + timedelta(seconds=2))
    for data in (pdf, ofd):
        report = verification.verify_file(data, document=doc, claimed_units=[doc.unit],
                                          at=timezone.now() + timedelta(seconds=5))
        assert not report.valid and report.certificate.ok is False
        assert "吊销" in report.certificate.reason_zh
        assert report.signature.ok is True  # the cryptography itself is fine


def test_seal_of_another_unit_claiming_to_be_the_sender_fails(approved, keeper_bureau,
                                                              seal_bureau, station_bureau,
                                                              unit_b):
    doc = approved()  # a document of unit_b ...
    sealer = seal_services.authorize_seal_use(user=keeper_bureau, seal=seal_bureau,
                                              workstation_credential=station_bureau, pin=PIN)
    pdf, ofd = _forge(doc, sealer, seal_bureau, timezone.now())  # ... sealed by the bureau
    for data in (pdf, ofd):
        report = verification.verify_file(data, document=doc, claimed_units=[unit_b])
        assert not report.valid and report.signer_unit.ok is False
        assert "签章单位不是发文单位" in report.signer_unit.reason_zh
        # Without a claim, the text names unit_b as issuer, not the bureau.
        report = verification.verify_file(data)
        assert report.signer_unit.ok is False


@pytest.mark.parametrize("fmt", ["pdf", "ofd"])
def test_tampered_file_fails_integrity(sealed, fmt):
    data = bytearray(sealing.sealed_bytes(sealed, fmt))
    if fmt == "pdf":
        i = data.index(b"stream", 2000) + 40  # inside the first content stream
        data[i] ^= 0x01
        report = verification.verify_file(bytes(data), document=sealed)
        assert not report.valid
        assert report.integrity.ok is False or report.readable.ok is False
    else:
        import io
        import zipfile

        src = zipfile.ZipFile(io.BytesIO(bytes(data)))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for name in src.namelist():
                body = src.read(name)
                if name.endswith("Content.xml"):
                    body = body.replace("通知".encode(), "通告".encode(), 1)
                z.writestr(name, body)
        report = verification.verify_file(out.getvalue(), document=sealed)
        assert not report.valid and report.integrity.ok is False


def test_file_digest_is_given_for_a_pdf_when_asked(sealed):
    """``verify_file(…, digest=…)``: the PDF's digest computed on the way equals the
    blob store's name of the file; an OFD (not computed on the way) gives None."""
    import hashlib

    pdf = sealing.sealed_bytes(sealed, "pdf")
    report = verification.verify_file(pdf, document=sealed, digest="sm3")
    assert report.valid and report.file_digest == ("sm3", hashlib.new("sm3", pdf).digest())
    assert verification.verify_file(pdf, document=sealed).file_digest is None
    ofd = sealing.sealed_bytes(sealed, "ofd")
    assert verification.verify_file(ofd, document=sealed, digest="sm3").file_digest is None


def test_unsigned_and_unreadable_files(sealed):
    pdf, _ = rendering.rendition(sealed, FileFormat.PDF)
    report = verification.verify_file(pdf)
    assert not report.valid and report.signature.ok is False
    report = verification.verify_file(b"hello")
    assert report.unreadable and not report.valid


def test_elements_present(sealed):
    report = verification.verify_document(sealed, file_format="ofd")
    assert report.elements.ok is True, report.elements.reason_zh
    report = verification.verify_file(sealing.sealed_bytes(sealed, "ofd"))
    assert report.valid, report.text_zh()
