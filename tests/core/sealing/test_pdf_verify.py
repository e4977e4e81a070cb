"""Verification: tampering anywhere in the signed bytes is detected, changes after sealing
are listed, a wrong key, a revoked certificate or a stale CRL fail with their reason."""

from __future__ import annotations

import io
import json
import random
from datetime import timedelta

import pytest

from gongwen.sealing import cms as _cms
from gongwen.sealing.pdf import Sealer
from gongwen.sealing.pdf_verify import (
    PDFUnreadable,
    chain_check,
    check_pdf,
    verify_pdf,
)

from .conftest import AT, BOX, BOX2, SIGNED_AT, seal, seal_png

SAMPLES = 520


def _signed_positions(pdf: bytes, report) -> list[int]:
    ranges = []
    for s in report.signatures:
        o1, l1, o2, l2 = s.byte_range
        ranges += [range(o1, o1 + l1), range(o2, o2 + l2)]
    return sorted({p for r in ranges for p in r})


def test_flipping_any_signed_byte_is_detected(pki, small_pdf):
    """≥ 500 sampled positions across the signed ranges of a twice-sealed document (both
    revisions, header to %%EOF): every flipped copy is refused."""
    sealed = seal(seal(small_pdf, pki.unit, pki, box=BOX), pki.other, pki, box=BOX2)
    clean = check_pdf(sealed, at=AT)
    assert clean.verdict == "valid"
    positions = _signed_positions(sealed, clean)
    rng = random.Random(20250601)
    sample = rng.sample(positions, SAMPLES)
    # always include the structurally interesting spots
    for marker in (b"/ByteRange", b"startxref", b"%%EOF", b"/Annots", b"trailer", b"%PDF"):
        at = sealed.find(marker)
        sample += [at, at + len(marker) - 1]
    missed = []
    for pos in sample:
        tampered = bytearray(sealed)
        tampered[pos] ^= 0x01 if tampered[pos] not in (0x20,) else 0x21
        report = check_pdf(bytes(tampered), at=AT)
        if report.valid:
            missed.append(pos)
    assert not missed, f"undetected flips at {missed[:20]}"


@pytest.mark.parametrize("alg", ["sm3", "sha256"])
def test_digest_of_the_whole_file_comes_with_the_report(pki, small_pdf, alg):
    """``digest_whole``: the file's digest, continued from the signed prefix (or computed
    anew in another algorithm), equals hashlib's over the whole file: once sealed, twice
    sealed, bytes appended after the last %%EOF, unsigned; None for an unreadable file and
    when not asked for."""
    import hashlib

    once = seal(small_pdf, pki.unit, pki, box=BOX)
    twice = seal(once, pki.other, pki, box=BOX2)
    for data in (once, twice, twice + b"\n% appended", small_pdf):
        report = check_pdf(data, at=AT, digest_whole=alg)
        assert report.file_digest == (alg, hashlib.new(alg, data).digest())
    assert check_pdf(once, at=AT).file_digest is None
    assert check_pdf(b"%PDF-1.7 nothing else", at=AT, digest_whole=alg).file_digest is None


def test_flip_in_content_reports_digest_mismatch(pki, small_pdf):
    sealed = seal(small_pdf, pki.unit, pki)
    at = sealed.find(b"stream\n") + 20  # inside the first page content stream
    tampered = sealed[:at] + bytes([sealed[at] ^ 0xFF]) + sealed[at + 1 :]
    (res,) = check_pdf(tampered, at=AT).signatures
    assert res.check("data_hash").failed
    assert res.check("signature").ok  # the CMS itself is intact
    assert "摘要不一致" in res.check("data_hash").reason_zh


def _add_annotation_after_signing(pdf: bytes) -> bytes:
    """A FreeText annotation on page 1 in a new incremental update (pyHanko writer)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    annot = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
            generic.NameObject("/Rect"): generic.ArrayObject(
                [generic.FloatObject(v) for v in (100, 100, 300, 150)]
            ),
            generic.NameObject("/Contents"): generic.TextStringObject("已作废"),
            generic.NameObject("/DA"): generic.TextStringObject("/Helv 12 Tf 1 0 0 rg"),
        }
    )
    ref = w.add_object(annot)
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    annots = page.get("/Annots", generic.ArrayObject())
    annots = generic.ArrayObject([*list(annots.get_object()), ref])
    page["/Annots"] = annots
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _replace_page_content_after_signing(pdf: bytes) -> bytes:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 500 Td (forged) Tj ET")
    ref = w.add_object(stream)
    page = w.root["/Pages"]["/Kids"][1].get_object()
    page["/Contents"] = ref
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_annotation_added_after_sealing_is_listed(pki, small_pdf):
    sealed = seal(small_pdf, pki.unit, pki)
    changed = _add_annotation_after_signing(sealed)
    report = check_pdf(changed, at=AT)
    (res,) = report.signatures
    assert res.check("data_hash").ok and res.check("signature").ok  # its revision is intact
    assert res.check("modifications").failed
    assert not res.covers_whole_file
    kinds = {(c.action, c.type) for c in report.later_changes}
    assert ("added", "Annot/FreeText") in kinds
    assert any(
        c.action == "modified" and c.type == "Page" and "Annots" in c.keys and not c.allowed
        for c in report.later_changes
    )
    assert report.verdict == "invalid"
    d = report.as_dict()
    json.dumps(d, ensure_ascii=False)
    assert d["later_changes"] and d["signatures"][0]["checks"]


def test_content_replaced_after_sealing_is_listed(pki, small_pdf):
    sealed = seal(small_pdf, pki.unit, pki)
    changed = _replace_page_content_after_signing(sealed)
    (res,) = verify_pdf(changed, at=AT)
    assert res.check("modifications").failed
    page_change = next(c for c in res.changes_after if c.type == "Page")
    assert page_change.keys == ("Contents",) and not page_change.allowed
    assert "签章后文件被修改" in res.check("modifications").reason_zh


def test_content_changed_between_two_seals_fails_the_first(pki, small_pdf):
    """The second signer edits the page before sealing: the first seal says so."""
    first = seal(small_pdf, pki.unit, pki, box=BOX)
    edited = _replace_page_content_after_signing(first)
    second = seal(edited, pki.other, pki, box=BOX2)
    r1, r2 = check_pdf(second, at=AT).signatures
    assert r1.check("modifications").failed and r2.ok


def test_bytes_appended_after_the_last_eof_are_listed(pki, small_pdf):
    sealed = seal(small_pdf, pki.unit, pki)
    report = check_pdf(sealed + b"1 0 obj\n<</Type/Catalog>>\nendobj\n", at=AT)
    (res,) = report.signatures
    assert res.check("modifications").failed
    assert report.later_changes[0].action == "appended-bytes"
    # trailing end-of-line bytes are harmless
    assert check_pdf(sealed + b"\r\n", at=AT).verdict == "valid"


def test_signature_by_a_different_key_fails(pki, small_pdf):
    sealer = Sealer(
        signer=pki.unit.key, cert_der=pki.unit.cert, chain=pki.chain, seal_image_png=seal_png()
    )
    sealer.builder.signer = pki.other.key  # signs with another unit's key, claims unit's cert
    out = sealer.seal(small_pdf, box=BOX, signing_time=SIGNED_AT)
    (res,) = check_pdf(out, at=AT).signatures
    assert res.check("signature").failed
    assert res.check("data_hash").ok
    assert not res.ok


def _swap_certificate(sealed: bytes, new_cert: bytes, *, sid_too: bool) -> bytes:
    from asn1crypto import cms as a_cms
    from asn1crypto import x509 as a_x509

    ci = a_cms.ContentInfo.load(res_cms(sealed))
    sd = ci["content"]
    certs = [c.chosen.dump() for c in sd["certificates"]]
    certs[0] = new_cert
    sd["certificates"] = a_cms.CertificateSet([a_cms.CertificateChoices.load(c) for c in certs])
    if sid_too:
        cert = a_x509.Certificate.load(new_cert)
        si = sd["signer_infos"][0]
        si["sid"] = a_cms.SignerIdentifier(
            name="issuer_and_serial_number",
            value={"issuer": cert.issuer, "serial_number": cert.serial_number},
        )
    swapped = a_cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump(force=True)
    gap_start = sealed.find(b"/Contents<") + len(b"/Contents")
    gap_end = sealed.find(b">", gap_start) + 1
    width = gap_end - gap_start - 2
    assert len(swapped) * 2 <= width
    hex_new = swapped.hex().encode().ljust(width, b"0")
    return sealed[: gap_start + 1] + hex_new + sealed[gap_end - 1 :]


def test_swapped_certificate_fails(pki, small_pdf):
    """The signer certificate in the CMS replaced by another unit's (same issuer)."""
    sealed = seal(small_pdf, pki.unit, pki)
    # certificate only: the signer identifier now names no certificate in the CMS
    (res,) = check_pdf(_swap_certificate(sealed, pki.other.cert, sid_too=False), at=AT).signatures
    assert res.check("data_hash").ok and res.check("signature").failed
    assert res.signer_cert is None
    # certificate and signer identifier: the signature does not verify with that key and
    # the ESS signing-certificate attribute names the original certificate
    (res,) = check_pdf(_swap_certificate(sealed, pki.other.cert, sid_too=True), at=AT).signatures
    assert res.signer_cert == pki.other.cert
    assert res.check("data_hash").ok
    assert res.check("signature").failed
    assert res.check("signing_certificate").failed


def res_cms(pdf: bytes) -> bytes:
    from gongwen.sealing.cos import PDFReader
    from gongwen.sealing.pdf_verify import _signature_fields, _strip_padding

    r = PDFReader(pdf)
    (s,) = _signature_fields(r)
    return _strip_padding(bytes(s.sig["Contents"]))


def test_revoked_certificate_fails_the_chain_check(pki, small_pdf):
    sealed = seal(small_pdf, pki.revoked, pki)
    check = chain_check([pki.root.cert], pki.crls, pki.chain)
    (res,) = check_pdf(sealed, at=AT, signer_check=check).signatures
    c = res.check("signer_certificate")
    assert c.failed and "revoked" in c.reason
    assert res.check("signature").ok


def test_stale_crl_fails_the_chain_check(pki, small_pdf):
    from gongwen.sealing.pdf import seal_pdf

    late = AT + timedelta(days=30)  # after the CRLs' nextUpdate
    sealed = seal_pdf(
        small_pdf,
        signer=pki.unit.key,
        cert_der=pki.unit.cert,
        chain=pki.chain,
        box=BOX,
        seal_image_png=seal_png(),
        signing_time=late,
    )
    check = chain_check([pki.root.cert], pki.crls, pki.chain)
    (res,) = check_pdf(sealed, at=late, signer_check=check).signatures
    c = res.check("signer_certificate")
    assert c.failed and "CRL" in c.reason


def test_untrusted_root_fails_the_chain_check(pki, small_pdf):
    from .conftest import build_pki

    other = build_pki("INTL" if pki.suite.name == "GM" else "GM")
    sealed = seal(small_pdf, pki.unit, pki)
    check = chain_check([other.root.cert], other.crls, other.chain)
    (res,) = check_pdf(sealed, at=AT, signer_check=check).signatures
    assert res.check("signer_certificate").failed


def test_signing_time_in_the_future_fails(pki, small_pdf):
    sealed = seal(small_pdf, pki.unit, pki)
    (res,) = check_pdf(sealed, at=SIGNED_AT - timedelta(days=1)).signatures
    assert res.check("signing_time").failed


def test_unsigned_and_unreadable(small_pdf):
    assert check_pdf(small_pdf).verdict == "unsigned"
    assert verify_pdf(small_pdf) == []
    report = check_pdf(b"not a pdf at all")
    assert report.verdict == "invalid" and report.errors
    with pytest.raises(PDFUnreadable) as exc:
        verify_pdf(b"%PDF-1.7\ngarbage")
    assert exc.value.report is not None and exc.value.message_zh


def test_byte_range_not_covering_the_revision_fails(pki, small_pdf):
    """A signature whose ByteRange stops short of its revision's %%EOF."""
    sealer = Sealer(signer=pki.unit.key, cert_der=pki.unit.cert, chain=pki.chain)
    res0 = sealer.seal_with_info(small_pdf, box=BOX, signing_time=SIGNED_AT)
    o1, l1, o2, l2 = res0.byte_range
    pdf = res0.pdf
    old = b"[%d %d %d %d]" % (o1, l1, o2, l2)
    at = pdf.find(old)
    new = (b"[%d %d %d %d]" % (o1, l1, o2, l2 - 10)).ljust(len(old) - 1) + b"]"
    forged = pdf[:at] + new + pdf[at + len(old) :]
    (res,) = check_pdf(forged, at=AT).signatures
    assert res.check("byte_range").failed


def test_report_as_dict_is_json(pki, small_pdf):
    sealed = seal(seal(small_pdf, pki.unit, pki, box=BOX), pki.other, pki, box=BOX2)
    d = check_pdf(sealed, at=AT).as_dict()
    text = json.dumps(d, ensure_ascii=False)
    assert d["format"] == "pdf" and d["verdict"] == "valid"
    assert len(d["signatures"]) == 2 and d["signatures"][0]["changes_after"]
    assert "签章签名值" in text and d["signatures"][0]["signer"]["subject"]


def test_cms_of_other_implementations_verifies(pki, small_pdf):
    """pyHanko's CMS (its own signed attributes, incl. CMSAlgorithmProtection) verifies in
    ours; ours parses in asn1crypto without our OID registration affecting names."""
    sealed = seal(small_pdf, pki.unit, pki, engine="pyhanko")
    (res,) = check_pdf(sealed, at=AT).signatures
    assert res.ok, [c.as_dict() for c in res.failures]
    parsed = _cms.parse_cms(res_cms(sealed))
    assert parsed.signer_cert_der == pki.unit.cert


def test_chain_check_cache_respects_revocation_time(pki):
    """The cached checker gives the uncached answer on both sides of a revocation date and
    of a CRL's nextUpdate."""
    from gongwen.pki.errors import CertificateRevoked, CRLStale

    from .conftest import REVOKED_AT

    cached = chain_check([pki.root.cert], pki.crls, pki.chain)
    plain = chain_check([pki.root.cert], pki.crls, pki.chain, cache=False)
    before = REVOKED_AT - timedelta(days=1)
    for check in (plain, cached, cached):
        check(pki.revoked.cert, before)
        check(pki.revoked.cert, before - timedelta(days=1))
        with pytest.raises(CertificateRevoked):
            check(pki.revoked.cert, REVOKED_AT)
        with pytest.raises(CertificateRevoked):
            check(pki.revoked.cert, AT)
        check(pki.unit.cert, AT)
        with pytest.raises(CRLStale):
            check(pki.unit.cert, AT + timedelta(days=7))


def test_mutated_files_never_raise_and_never_pass(pki, small_pdf):
    """Truncations, deletions, insertions (which break every offset) and random bytes:
    check_pdf reports, never raises, and never calls the result valid."""
    sealed = seal(seal(small_pdf, pki.unit, pki, box=BOX), pki.other, pki, box=BOX2)
    rng = random.Random(38540)
    for _ in range(300):
        b = bytearray(sealed)
        kind, p = rng.randrange(4), rng.randrange(len(b))
        if kind == 0:
            del b[p:]
        elif kind == 1:
            del b[p : p + rng.randrange(1, 200)]
        elif kind == 2:
            b[p:p] = rng.randbytes(rng.randrange(1, 50))
        else:
            for _ in range(rng.randrange(1, 20)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        if bytes(b) == sealed:
            continue
        assert not check_pdf(bytes(b), at=AT).valid


def test_xref_entry_pointing_past_the_signed_bytes_fails(pki, small_pdf):
    """A signed revision whose cross-reference table sends an object to bytes appended
    later (outside every signed range) is refused, although the digest still matches."""
    from gongwen.sealing.cos import PDFReader

    reader = PDFReader(small_pdf)
    num, (_k, off, _g) = next(
        (n, e) for n, e in sorted(reader.xref.items()) if e[0] == "n" and n > 1
    )
    forged_entry = b"%010d 00000 n" % (len(small_pdf) + 400000)
    original_entry = b"%010d 00000 n" % off
    assert small_pdf.count(original_entry) == 1
    shadowed = small_pdf.replace(original_entry, forged_entry)
    sealed = seal(shadowed, pki.unit, pki, box=None, seal_image_png=None)
    (res,) = check_pdf(sealed, at=AT).signatures
    assert "digest matches" in res.check("data_hash").reason and res.check("signature").ok
    c = res.check("byte_range")
    assert c.failed and f"object {num}" in c.reason
