"""pyHanko's own validator, given an SM2 signature-validator plug-in, accepts our GM seals:
its CMS parsing, byte-range and SM3 digest computation, SM3withSM2 chain and CRLs and its
difference analysis are an independent check of what the direct engine writes."""

from __future__ import annotations

import io

from asn1crypto import x509 as a_x509

from gongwen.sealing.pyhanko_engine import SM2SignatureValidator

from .conftest import AT, BOX, BOX2, seal


def _validate(pdf: bytes, pki):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    vc = ValidationContext(
        trust_roots=[a_x509.Certificate.load(pki.root.cert)],
        other_certs=[a_x509.Certificate.load(pki.city.cert)],
        crls=pki.crls,
        allow_fetching=False,
        revocation_mode="hard-fail",
        moment=AT,
        signature_validator=SM2SignatureValidator(),
    )
    r = PdfFileReader(io.BytesIO(pdf))
    return [validate_pdf_signature(s, vc) for s in r.embedded_signatures]


def test_pyhanko_validates_gm_seals(gm_pki, small_pdf):
    from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel

    twice = seal(seal(small_pdf, gm_pki.unit, gm_pki, box=BOX), gm_pki.other, gm_pki, box=BOX2)
    first, second = _validate(twice, gm_pki)
    for st in (first, second):
        assert st.intact and st.valid and st.trusted and st.bottom_line
        assert st.md_algorithm == "sm3"
        assert st.pkcs7_signature_mechanism == "sm2"
    assert first.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert first.modification_level == ModificationLevel.FORM_FILLING
    assert second.coverage == SignatureCoverageLevel.ENTIRE_FILE


def test_pyhanko_refuses_tampered_gm_seal(gm_pki, small_pdf):
    sealed = seal(small_pdf, gm_pki.unit, gm_pki)
    at = sealed.find(b"stream\n") + 20
    tampered = sealed[:at] + bytes([sealed[at] ^ 0xFF]) + sealed[at + 1 :]
    (st,) = _validate(tampered, gm_pki)
    assert not st.intact and not st.bottom_line


def test_pyhanko_refuses_revoked_gm_signer(gm_pki, small_pdf):
    (st,) = _validate(seal(small_pdf, gm_pki.revoked, gm_pki), gm_pki)
    assert st.intact and st.valid and not st.trusted and not st.bottom_line
