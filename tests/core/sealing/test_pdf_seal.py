"""Sealing PDFs: INTL seals validate in pdfsig and pyHanko, GM seals in our verifier and in
independent SM2 checks (openssl pkeyutl, gmssl), joint seals keep earlier ones valid, the
seal image lands in the GB/T 9704 seal box."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from asn1crypto import cms as a_cms
from asn1crypto import pem as a_pem
from asn1crypto import x509 as a_x509

from gongwen.pki import suites
from gongwen.sealing.cos import PDFReader
from gongwen.sealing.pdf import SealBox, Sealer, seal_pdf
from gongwen.sealing.pdf_verify import chain_check, check_pdf
from tests.tools import gmssl_sm2, has_tool, needs_tool, run_tool

from .conftest import AT, BOX, BOX2, SIGNED_AT, seal, seal_png

DISTID = "distid:1234567812345678"


# --------------------------------------------------------------------- independent helpers


def _pypdf_signatures(pdf: bytes) -> list[tuple[str, bytes, list[int]]]:
    """(field name, CMS DER, ByteRange) of every signature, read with pypdf (not ours)."""
    from pypdf import PdfReader

    r = PdfReader(io.BytesIO(pdf))
    out = []
    for f in r.trailer["/Root"]["/AcroForm"]["/Fields"]:
        f = f.get_object()
        if f.get("/FT") != "/Sig":
            continue
        v = f["/V"].get_object()
        out.append((str(f["/T"]), bytes(v["/Contents"]), [int(x) for x in v["/ByteRange"]]))
    return out


def _cms_parts(cms_der: bytes) -> tuple[bytes, bytes, bytes, a_x509.Certificate, a_cms.SignerInfo]:
    """(signed attributes as DER SET OF, signature, message digest, signer cert, SignerInfo)
    straight from asn1crypto."""
    ci = a_cms.ContentInfo.load(cms_der)
    sd = ci["content"]
    si = sd["signer_infos"][0]
    raw = si["signed_attrs"].dump()
    attrs_set = b"\x31" + raw[1:]  # [0] IMPLICIT → SET OF (tag 0x31), same contents
    md = next(a for a in si["signed_attrs"] if a["type"].dotted == "1.2.840.113549.1.9.4")
    sid = si["sid"].chosen
    cert = next(
        c.chosen
        for c in sd["certificates"]
        if c.chosen.serial_number == sid["serial_number"].native
    )
    return attrs_set, si["signature"].native, md["values"][0].native, cert, si


def _strip(cms_padded: bytes) -> bytes:
    return a_cms.ContentInfo.load(cms_padded, strict=False).dump()


def _signed_bytes(pdf: bytes, br: list[int]) -> bytes:
    return pdf[br[0] : br[0] + br[1]] + pdf[br[2] : br[2] + br[3]]


def _pdfsig(tmp_path: Path, pdf: bytes) -> str:
    p = tmp_path / "sealed.pdf"
    p.write_bytes(pdf)
    return run_tool(["pdfsig", p], check=False).stdout.decode("utf-8", "replace")


def _pdfsig_blocks(text: str) -> list[str]:
    return re.split(r"\nSignature #\d+:", text)[1:]


def _pyhanko_validate(pdf: bytes, pki, *, crls: bool = True):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    vc = ValidationContext(
        trust_roots=[a_x509.Certificate.load(pki.root.cert)],
        other_certs=[a_x509.Certificate.load(pki.city.cert)],
        crls=pki.crls if crls else [],
        allow_fetching=False,
        revocation_mode="hard-fail" if crls else "soft-fail",
        moment=AT,
    )
    r = PdfFileReader(io.BytesIO(pdf))
    return [validate_pdf_signature(s, vc) for s in r.embedded_signatures]


# ------------------------------------------------------------------------------- INTL


@needs_tool("pdfsig")
def test_intl_seal_is_valid_in_pdfsig(tmp_path, intl_pki, small_pdf):
    out = seal(small_pdf, intl_pki.unit, intl_pki, reason="发文", location="连云港")
    text = _pdfsig(tmp_path, out)
    assert "Signature Field Name: Seal1" in text
    assert "Signature Type: ETSI.CAdES.detached" in text
    assert "Signing Hash Algorithm: SHA-256" in text
    assert "Total document signed" in text
    assert "Signature Validation: Signature is Valid." in text
    # our test root is not in poppler's trust store: the certificate part says so
    assert "Certificate Validation:" in text


def test_intl_seal_is_accepted_by_pyhanko_validator(intl_pki, small_pdf):
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    out = seal(small_pdf, intl_pki.unit, intl_pki)
    (st,) = _pyhanko_validate(out, intl_pki)
    assert st.intact and st.valid and st.trusted
    assert st.bottom_line
    assert st.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert st.md_algorithm == "sha256"
    assert st.pkcs7_signature_mechanism in ("sha256_ecdsa", "ecdsa")


def test_intl_rsa_key_seal(intl_pki, small_pdf):
    """An RSA-3072 unit-seal certificate (the other INTL key kind) works as well."""
    from gongwen.pki import x509

    key = suites.INTL.generate_key("rsa-3072")
    cert = x509.issue_certificate(
        profile="unit-seal",
        subject=x509.make_name("连云港市民政局"),
        public_key=key,
        issuer_key=intl_pki.city.key,
        issuer_cert=intl_pki.city.cert,
        not_before=SIGNED_AT.replace(month=1),
        validity_days=365,
    )
    out = seal_pdf(
        small_pdf,
        signer=key,
        cert_der=cert,
        chain=intl_pki.chain,
        box=BOX,
        seal_image_png=seal_png(),
        signing_time=SIGNED_AT,
    )
    (res,) = check_pdf(out, at=AT).signatures
    assert res.ok, res.failures
    assert res.signature_algorithm == "1.2.840.113549.1.1.11"
    (st,) = _pyhanko_validate(out, intl_pki, crls=False)
    assert st.intact and st.valid


# --------------------------------------------------------------------------------- GM


def test_gm_seal_is_valid_in_our_verifier(gm_pki, small_pdf):
    out = seal(small_pdf, gm_pki.unit, gm_pki, reason="发文", location="连云港")
    report = check_pdf(
        out, at=AT, signer_check=chain_check([gm_pki.root.cert], gm_pki.crls, gm_pki.chain)
    )
    assert report.verdict == "valid", [c.as_dict() for c in report.signatures[0].failures]
    (res,) = report.signatures
    assert res.suite == "GM"
    assert res.sub_filter == "adbe.pkcs7.detached"
    assert res.digest_algorithm == "sm3"
    assert res.signature_algorithm == "1.2.156.10197.1.301.1"
    assert res.signing_time == SIGNED_AT and res.signing_time_source == "signing-time"
    assert res.signer_cert == gm_pki.unit.cert
    assert res.reason == "发文" and res.location == "连云港"
    assert res.covers_whole_file
    assert {c.name for c in res.checks if c.status == "passed"} >= {
        "format",
        "byte_range",
        "data_hash",
        "signature",
        "signing_certificate",
        "signer_certificate",
        "signing_time",
        "modifications",
    }


def test_gm_cms_uses_gbt35275_identifiers(gm_pki, small_pdf):
    out = seal(small_pdf, gm_pki.unit, gm_pki)
    ((_name, contents, _br),) = _pypdf_signatures(out)
    ci = a_cms.ContentInfo.load(_strip(contents))
    assert ci["content_type"].dotted == "1.2.840.113549.1.7.2"
    sd = ci["content"]
    assert [a["algorithm"].dotted for a in sd["digest_algorithms"]] == ["1.2.156.10197.1.401"]
    assert sd["encap_content_info"]["content_type"].dotted == "1.2.840.113549.1.7.1"
    si = sd["signer_infos"][0]
    assert si["digest_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.401"
    assert si["signature_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.301.1"
    attrs = {a["type"].dotted for a in si["signed_attrs"]}
    assert attrs == {
        "1.2.840.113549.1.9.3",  # content-type
        "1.2.840.113549.1.9.4",  # message-digest
        "1.2.840.113549.1.9.5",  # signing-time
        "1.2.840.113549.1.9.16.2.47",  # signingCertificateV2
    }
    certs = [c.chosen.dump() for c in sd["certificates"]]
    assert certs == [gm_pki.unit.cert, gm_pki.city.cert]


@needs_tool("openssl")
def test_gm_signature_verifies_in_openssl_pkeyutl(tmp_path, gm_pki, small_pdf):
    """Independent of our code: pypdf finds the signature, asn1crypto takes the CMS apart,
    ``openssl dgst -sm3`` recomputes the document digest and ``openssl pkeyutl`` verifies
    the SM2 signature over the DER SET OF signed attributes."""
    out = seal(small_pdf, gm_pki.unit, gm_pki)
    ((_name, contents, br),) = _pypdf_signatures(out)
    attrs, sig, md, cert, _si = _cms_parts(_strip(contents))
    signed = tmp_path / "signed.bin"
    signed.write_bytes(_signed_bytes(out, br))
    dg = run_tool(["openssl", "dgst", "-sm3", "-binary", signed]).stdout
    assert dg == md
    pub = tmp_path / "pub.pem"
    pub.write_bytes(a_pem.armor("PUBLIC KEY", cert.public_key.dump()))
    (tmp_path / "attrs.der").write_bytes(attrs)
    (tmp_path / "sig.der").write_bytes(sig)
    args = [
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        pub,
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        DISTID,
        "-in",
        tmp_path / "attrs.der",
        "-sigfile",
        tmp_path / "sig.der",
    ]
    res = run_tool(args, check=False)
    assert res.returncode == 0 and b"Signature Verified Successfully" in res.stdout
    (tmp_path / "attrs.der").write_bytes(attrs[:-1] + bytes([attrs[-1] ^ 1]))
    assert run_tool(args, check=False).returncode != 0


def test_gm_signature_verifies_in_gmssl(gm_pki, small_pdf):
    from gmssl import sm3 as g_sm3

    out = seal(small_pdf, gm_pki.unit, gm_pki)
    ((_name, contents, br),) = _pypdf_signatures(out)
    attrs, sig, md, cert, _si = _cms_parts(_strip(contents))
    assert bytes.fromhex(g_sm3.sm3_hash(list(_signed_bytes(out, br)))) == md
    point = cert.public_key["public_key"].native  # 04 || x || y
    crypt = gmssl_sm2(point[1:].hex())
    raw = suites.sm2_signature_to_raw(sig)
    assert crypt.verify_with_sm3(raw.hex(), attrs)
    assert not crypt.verify_with_sm3(raw.hex(), attrs + b"\x00")


# ------------------------------------------------------------------------ joint seals


def test_second_seal_keeps_the_first_valid(pki, small_pdf):
    """GIVEN a document sealed by one unit WHEN a second unit seals it (联合行文)
    THEN both signatures are valid and the first lists the second seal as allowed."""
    once = seal(small_pdf, pki.unit, pki, box=BOX)
    twice = seal(once, pki.other, pki, box=BOX2)
    assert twice.startswith(once)  # an incremental update
    report = check_pdf(twice, at=AT, signer_check=chain_check([pki.root.cert], pki.crls, pki.chain))
    assert report.verdict == "valid", [s.as_dict() for s in report.signatures]
    first, second = report.signatures
    assert (first.field_name, second.field_name) == ("Seal1", "Seal2")
    assert not first.covers_whole_file and second.covers_whole_file
    assert first.changes_after and all(c.allowed for c in first.changes_after)
    assert {c.type for c in first.changes_after} >= {"Sig", "SigWidget", "XObject/Image"}
    assert not second.changes_after and not report.later_changes
    assert second.signer_cert == pki.other.cert


@needs_tool("pdfsig")
def test_second_seal_both_valid_in_pdfsig_and_pyhanko(tmp_path, intl_pki, small_pdf):
    from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel

    twice = seal(
        seal(small_pdf, intl_pki.unit, intl_pki, box=BOX), intl_pki.other, intl_pki, box=BOX2
    )
    blocks = _pdfsig_blocks(_pdfsig(tmp_path, twice))
    assert len(blocks) == 2
    assert all("Signature is Valid." in b for b in blocks)
    assert "Not total document signed" in blocks[0] and "Total document signed" in blocks[1]
    first, second = _pyhanko_validate(twice, intl_pki)
    assert first.bottom_line and second.bottom_line
    assert first.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert first.modification_level == ModificationLevel.FORM_FILLING
    assert second.coverage == SignatureCoverageLevel.ENTIRE_FILE


def test_three_seals_mixing_engines(pki, small_pdf):
    """Direct and pyHanko engines append to each other's output."""
    a = seal(small_pdf, pki.unit, pki, box=BOX, engine="pyhanko")
    b = seal(a, pki.other, pki, box=BOX2)
    c = seal(b, pki.unit, pki, box=(0, 120, 200, 42, 42), engine="pyhanko")
    report = check_pdf(c, at=AT)
    assert [s.field_name for s in report.signatures] == ["Seal1", "Seal2", "Seal3"]
    assert report.verdict == "valid", [s.as_dict() for s in report.signatures]


# ------------------------------------------------------------------ the visible seal


def test_seal_box_is_reported_in_mm(pki, small_pdf):
    out = seal(small_pdf, pki.unit, pki, box=BOX)
    (res,) = check_pdf(out, at=AT).signatures
    assert res.page == BOX[0]
    assert res.rect_mm == pytest.approx(BOX[1:], abs=0.01)


@needs_tool("pdftoppm")
def test_seal_image_is_drawn_in_the_box(tmp_path, gm_pki, small_pdf):
    from PIL import Image

    out = seal(small_pdf, gm_pki.unit, gm_pki, box=BOX2)  # over the body text
    p = tmp_path / "s.pdf"
    p.write_bytes(out)
    dpi = 50
    run_tool(["pdftoppm", "-f", "2", "-l", "2", "-r", str(dpi), "-png", p, tmp_path / "pg"])
    img = Image.open(next(tmp_path.glob("pg*.png"))).convert("RGB")
    px = dpi / 25.4
    _page, x, y, w, h = BOX2
    inside = outside = 0
    for j in range(img.height):
        for i in range(img.width):
            r, g, b = img.getpixel((i, j))
            if r > 150 and g < 100 and b < 100:  # seal red
                if x * px - 2 <= i <= (x + w) * px + 2 and y * px - 2 <= j <= (y + h) * px + 2:
                    inside += 1
                else:
                    outside += 1
    assert inside > 200 and outside == 0
    # transparency: the body text under the seal still shows through
    assert any(
        img.getpixel((i, j))[0] < 100
        for j in range(int(y * px), int((y + h) * px))
        for i in range(int(x * px), int((x + w) * px))
    )


def test_invisible_signature_without_box(pki, small_pdf):
    out = seal(small_pdf, pki.unit, pki, box=None, seal_image_png=None)
    (res,) = check_pdf(out, at=AT).signatures
    assert res.ok and res.rect_mm is None


def test_gbt9704_notice_sealed_at_its_seal_box(pki, notice, tmp_path):
    layout, pdf = notice
    (box,) = layout.seals
    out = seal(pdf, pki.unit, pki, box=box)
    report = check_pdf(out, at=AT)
    assert report.verdict == "valid"
    (res,) = report.signatures
    assert res.page == box.page
    assert res.rect_mm == pytest.approx((box.x, box.y, box.w, box.h), abs=0.01)
    if pki.suite.name == "INTL" and has_tool("pdfsig"):
        assert "Signature is Valid." in _pdfsig(tmp_path, out)


# ------------------------------------------------------------- structure and options


def test_update_matches_the_files_xref_kind(pki, small_pdf):
    out = seal(small_pdf, pki.unit, pki)
    r = PDFReader(out)
    assert [s.kind for s in r.sections] == ["table", "table"]
    assert len(r.revisions) == 2 and r.revisions[-1].end == len(out)


def test_xref_stream_document(pki, tmp_path):
    """A PDF 1.5 file with an object stream and a predictor-coded xref stream gets an
    xref-stream update that our verifier (and pdfsig for INTL) accept."""
    from .test_cos import xref_stream_pdf

    src = xref_stream_pdf()
    once = seal(src, pki.unit, pki, box=(0, 20, 20, 42, 42))
    twice = seal(once, pki.other, pki, box=(0, 80, 20, 42, 42))
    assert [s.kind for s in PDFReader(twice).sections] == ["stream", "stream", "stream"]
    report = check_pdf(twice, at=AT)
    assert report.verdict == "valid", [s.as_dict() for s in report.signatures]
    if pki.suite.name == "INTL":
        blocks = _pdfsig_blocks(_pdfsig(tmp_path, twice))
        assert len(blocks) == 2 and all("Signature is Valid." in b for b in blocks)
        assert all(st.intact and st.valid for st in _pyhanko_validate(twice, pki))


def test_sealer_reuse_and_field_names(pki, small_pdf):
    sealer = Sealer(
        signer=pki.unit.key, cert_der=pki.unit.cert, chain=pki.chain, seal_image_png=seal_png()
    )
    a = sealer.seal(small_pdf, box=SealBox(*BOX), signing_time=SIGNED_AT)
    b = sealer.seal(a, box=BOX2, signing_time=SIGNED_AT, field_name="会签")
    assert [s.field_name for s in check_pdf(b, at=AT).signatures] == ["Seal1", "会签"]
    from gongwen.sealing.errors import SealingError

    with pytest.raises(SealingError):
        sealer.seal(b, box=BOX, field_name="会签")


def test_refuses_key_that_does_not_match_the_certificate(pki, small_pdf):
    from gongwen.pki.errors import MalformedInput

    with pytest.raises(MalformedInput):
        seal_pdf(small_pdf, signer=pki.other.key, cert_der=pki.unit.cert)


def test_refuses_page_out_of_range_and_naive_time(pki, small_pdf):
    from datetime import datetime

    from gongwen.sealing.errors import SealingError

    with pytest.raises(SealingError):
        seal(small_pdf, pki.unit, pki, box=(5, 10, 10, 42, 42))
    with pytest.raises(SealingError):
        seal(small_pdf, pki.unit, pki, signing_time=datetime(2025, 6, 1))


def test_external_signer(pki, small_pdf):
    """A key held elsewhere (suites.ExternalSigner: public_key + sign_der) seals too."""

    class Token:
        def __init__(self, key):
            self._key = key

        def public_key(self):
            return self._key.public_key()

        def sign_der(self, data: bytes) -> bytes:
            return pki.suite.sign(self._key, data)

    out = seal_pdf(
        small_pdf,
        signer=Token(pki.unit.key),
        cert_der=pki.unit.cert,
        chain=pki.chain,
        box=BOX,
        seal_image_png=seal_png(),
        signing_time=SIGNED_AT,
    )
    assert check_pdf(out, at=AT).verdict == "valid"


def _rotated_pdf() -> bytes:
    """Four A4 pages with /Rotate 0, 90, 180, 270 (reportlab: MediaBox turned with it)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for rot in (0, 90, 180, 270):
        c.setPageRotation(rot)
        c.drawString(72, 500, f"rotation {rot}")
        c.showPage()
    c.save()
    return buf.getvalue()


@needs_tool("pdftoppm")
def test_rotated_pages_keep_the_seal_upright_at_the_box(tmp_path, pki):
    """The box is measured on the page as displayed; the seal is drawn upright there on
    every rotation (its red pixels match the unrotated page's, not a turned copy)."""
    from PIL import Image

    out = _rotated_pdf()
    box = (30.0, 40.0, 42.0, 42.0)
    for i in range(4):
        out = seal(out, pki.unit if i % 2 == 0 else pki.other, pki, box=(i, *box))
    report = check_pdf(out, at=AT)
    assert report.verdict == "valid"
    for i, res in enumerate(report.signatures):
        assert res.page == i and res.rect_mm == pytest.approx(box, abs=0.01)
    p = tmp_path / "rot.pdf"
    p.write_bytes(out)
    dpi = 60
    run_tool(["pdftoppm", "-r", str(dpi), "-png", p, tmp_path / "rot"])
    px = dpi / 25.4
    x, y, w, h = (v * px for v in box)

    def red(img: Image.Image) -> set[tuple[int, int]]:
        return {
            (a, b)
            for a in range(img.width)
            for b in range(img.height)
            if (lambda q: q[0] > 150 and q[1] < 100 and q[2] < 100)(img.getpixel((a, b)))
        }

    pages = sorted(tmp_path.glob("rot-*.png"))
    crops = [
        Image.open(f).convert("RGB").crop((int(x), int(y), int(x + w) + 1, int(y + h) + 1))
        for f in pages
    ]
    upright = red(crops[0])
    assert len(upright) > 500

    def iou(a: set, b: set) -> float:
        return len(a & b) / len(a | b)

    for crop in crops[1:]:
        assert iou(upright, red(crop)) > 0.9
    assert iou(upright, red(crops[0].rotate(90))) < 0.7  # the test can tell a turned seal
    if pki.suite.name == "INTL":
        assert _pdfsig(tmp_path, out).count("Signature is Valid.") == 4


def test_pyhanko_engine_refuses_rotated_pages(pki):
    from gongwen.sealing.errors import UnsupportedPDF

    with pytest.raises(UnsupportedPDF):
        seal(_rotated_pdf(), pki.unit, pki, box=(1, 30, 40, 42, 42), engine="pyhanko")


def _independent_digest(algorithm: str, data: bytes) -> str:
    """The file's digest by another implementation: gmssl's pure-Python SM3, hashlib's
    SHA-256."""
    if algorithm == "sm3":
        from gmssl import sm3 as gm_sm3

        return "sm3:" + gm_sm3.sm3_hash(list(data))
    import hashlib

    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def test_seal_result_carries_the_digest_of_the_whole_sealed_file(pki, small_pdf):
    """The sealer's file digest continues its signature's hashing; it must be the digest of
    every byte of the result (the blob store names the file by it), for a first and a
    second seal alike."""
    sealer = Sealer(
        signer=pki.unit.key, cert_der=pki.unit.cert, chain=pki.chain, seal_image_png=seal_png()
    )
    first = sealer.seal_with_info(small_pdf, box=SealBox(*BOX), signing_time=SIGNED_AT)
    second = sealer.seal_with_info(first.pdf, box=BOX2, signing_time=SIGNED_AT)
    algorithm = "sm3" if pki.suite.name == "GM" else "sha256"
    for result in (first, second):
        assert result.digest == _independent_digest(algorithm, result.pdf)
    assert first.digest != second.digest
