"""Carried files in a PDF (R-FLOW-5): the GB/T 9704 writer embeds uploaded files byte for
byte (EmbeddedFiles name tree, /Filespec with /EF, /AF), the seal covers them, and
``gongwen.sealing.carried`` reads them back. Cross-checked with independent readers:
poppler's ``pdfdetach`` (list and save) and pypdf; the sealed file with pdfsig and pyHanko
(INTL) and our verifier (GM); tampering with a carried file is seen."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zlib

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from gongwen.documents.gbt9704 import render_pdf
from gongwen.documents.gbt9704.carried import ATTACHMENT, BODY, CarriedFile
from gongwen.sealing.carried import carried_files
from gongwen.sealing.pdf_verify import chain_check, check_pdf
from tests.tools import needs_tool, run_tool

from .conftest import AT, BOX, notice_layout_and_pdf, seal, small_pdf_bytes

ORIGINAL = small_pdf_bytes()  # stands for a provincial sealed PDF: any PDF bytes
OFD_LIKE = b"PK\x03\x04" + bytes(range(256)) * 40  # binary, every byte value


def files() -> tuple[CarriedFile, ...]:
    return (CarriedFile("苏政办发〔2006〕12号.pdf", ORIGINAL, "关于做好防汛工作的通知", BODY,
                        dt.date(2006, 7, 24)),
            CarriedFile("附件.ofd", OFD_LIKE, "附件一", ATTACHMENT, dt.date(2006, 7, 24)),
            CarriedFile("附件.ofd", b"%PDF-1.4 second", "附件二", ATTACHMENT))


@pytest.fixture(scope="module")
def carrying() -> bytes:
    layout, _ = notice_layout_and_pdf()
    return render_pdf(layout, files())


def test_without_carried_files_the_pdf_is_unchanged():
    layout, pdf = notice_layout_and_pdf()
    assert render_pdf(layout, ()) == pdf
    assert carried_files(pdf) == []


def test_embedding_is_deterministic_and_reads_back(carrying):
    layout, _ = notice_layout_and_pdf()
    assert render_pdf(layout, files()) == carrying
    got = carried_files(carrying)
    assert [(f.name, f.description, f.relationship) for f in got] == [
        ("苏政办发〔2006〕12号.pdf", "关于做好防汛工作的通知", "Source"),
        ("附件.ofd", "附件一", "Supplement"),
        ("附件(2).ofd", "附件二", "Supplement")]
    assert [f.data for f in got] == [f.data for f in files()]
    assert all(f.covered is None for f in got)  # not sealed yet


def test_pypdf_reads_the_same_files(carrying):
    reader = PdfReader(io.BytesIO(carrying))
    assert {k: v for k, v in reader.attachments.items()} == {
        "苏政办发〔2006〕12号.pdf": [ORIGINAL], "附件.ofd": [OFD_LIKE],
        "附件(2).ofd": [b"%PDF-1.4 second"]}
    root = reader.trailer["/Root"]
    assert root["/PageMode"] == "/UseAttachments"
    af = [spec.get_object() for spec in root["/AF"]]
    assert [s["/AFRelationship"] for s in af] == ["/Source", "/Supplement", "/Supplement"]
    ef = af[0]["/EF"]["/F"].get_object()
    assert ef["/Type"] == "/EmbeddedFile" and ef["/Subtype"] == "/application/pdf"
    assert ef["/Params"]["/Size"] == len(ORIGINAL)
    assert ef["/Params"]["/CheckSum"].original_bytes == hashlib.md5(ORIGINAL).digest()


@needs_tool("pdfdetach")
def test_pdfdetach_lists_and_saves_the_files(carrying, tmp_path):
    src = tmp_path / "carrying.pdf"
    src.write_bytes(carrying)
    listing = run_tool(["pdfdetach", "-list", src]).stdout.decode()
    assert listing.splitlines()[0] == "3 embedded files"
    names = [line.split(": ", 1)[1] for line in listing.splitlines()[1:]]
    assert sorted(names) == sorted(["苏政办发〔2006〕12号.pdf", "附件.ofd", "附件(2).ofd"])
    n = names.index("苏政办发〔2006〕12号.pdf") + 1
    run_tool(["pdfdetach", "-save", str(n), "-o", tmp_path / "out.pdf", src])
    assert (tmp_path / "out.pdf").read_bytes() == ORIGINAL
    n = names.index("附件.ofd") + 1
    run_tool(["pdfdetach", "-save", str(n), "-o", tmp_path / "out.ofd", src])
    assert (tmp_path / "out.ofd").read_bytes() == OFD_LIKE


def test_the_seal_covers_the_carried_files(pki, carrying):
    sealed = seal(carrying, pki.unit, pki, box=BOX)
    report = check_pdf(sealed, at=AT,
                       signer_check=chain_check([pki.root.cert], pki.crls, pki.chain))
    assert report.verdict == "valid"
    (sig,) = report.signatures
    assert sig.covers_whole_file
    got = carried_files(sealed)
    assert [f.covered for f in got] == [True, True, True]
    assert got[0].data == ORIGINAL


@needs_tool("pdfsig")
def test_pdfsig_and_pyhanko_accept_the_sealed_carrying_pdf(intl_pki, carrying, tmp_path):
    from asn1crypto import x509 as a_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    sealed = seal(carrying, intl_pki.unit, intl_pki, box=BOX)
    p = tmp_path / "sealed.pdf"
    p.write_bytes(sealed)
    text = run_tool(["pdfsig", p], check=False).stdout.decode("utf-8", "replace")
    assert "Signature Validation: Signature is Valid." in text
    assert "Total document signed" in text
    vc = ValidationContext(trust_roots=[a_x509.Certificate.load(intl_pki.root.cert)],
                           other_certs=[a_x509.Certificate.load(intl_pki.city.cert)],
                           crls=intl_pki.crls, allow_fetching=False,
                           revocation_mode="hard-fail", moment=AT)
    (status,) = [validate_pdf_signature(s, vc)
                 for s in PdfFileReader(io.BytesIO(sealed)).embedded_signatures]
    assert status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"


def test_rewriting_carried_bytes_in_place_breaks_the_seal(gm_pki, carrying):
    sealed = seal(carrying, gm_pki.unit, gm_pki, box=BOX)
    packed = zlib.compress(OFD_LIKE, 6)
    at = sealed.find(packed)
    assert at > 0
    # Replace the carried file by other bytes of the same compressed length.
    for i in range(len(OFD_LIKE) - 1, 0, -1):
        other = bytearray(OFD_LIKE)
        other[i] ^= 0x01
        repacked = zlib.compress(bytes(other), 6)
        if len(repacked) == len(packed):
            break
    assert len(repacked) == len(packed)
    tampered = sealed[:at] + repacked + sealed[at + len(packed):]
    report = check_pdf(tampered, at=AT)
    assert not report.valid
    assert any(c.name == "data_hash" and c.failed for c in report.signatures[0].checks)
    got = carried_files(tampered)
    assert got[1].data == bytes(other)  # what a careless reader would take out
    assert got[1].covered is False and "校验和" in got[1].problem_zh


def test_a_file_swapped_by_a_later_update_is_not_covered(gm_pki, carrying):
    """An incremental update after the seal replaces the carried original: the seal's
    revision still verifies, but the carried file is not what the seal covers."""
    sealed = seal(carrying, gm_pki.unit, gm_pki, box=BOX)
    writer = PdfWriter(io.BytesIO(sealed), incremental=True)
    root = writer.root_object
    spec = root[NameObject("/AF")][0].get_object()
    stream = spec["/EF"]["/F"].get_object()
    stream.set_data(b"%PDF-1.4 forged original")
    out = io.BytesIO()
    writer.write(out)
    swapped = out.getvalue()
    assert swapped.startswith(sealed)  # an incremental update
    got = carried_files(swapped)
    assert got[0].data == b"%PDF-1.4 forged original"
    assert got[0].covered is False and "签章后" in got[0].problem_zh
    assert [f.covered for f in got[1:]] == [True, True]
    assert check_pdf(swapped, at=AT).later_changes
