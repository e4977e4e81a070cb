"""Tampering with sealed OFDs: byte flips in the signed content and in every file of the
package, in the zip container; a replaced seal image, swapped certificates, a signature by
another unit's key or seal. Each is refused, with its own reason."""

from __future__ import annotations

import io
import posixpath

import pytest
from lxml import etree
from PIL import Image

from gongwen.sealing.ofd_verify import check_ofd
from gongwen.seals.ses.ofd_signatures import read_package

from .conftest import VERIFY_AT, rezip, seal_as, unzip
from .tampering import (
    flip,
    replace_cert_list,
    replace_maker_cert,
    replace_picture,
    resign,
    sample_positions,
)

S0 = "Doc_0/Signs/Sign_0"
LIST = "Doc_0/Signs/Signatures.xml"


def _failed(sig) -> set[str]:
    return {c.name for c in sig.failures}


def _check(files: dict[str, bytes]):
    return check_ofd(files, at=VERIFY_AT)


def _signed_files(files: dict[str, bytes]) -> dict[str, int]:
    """Sizes of the signed content: every file a signature covers, plus Signature.xml and
    SignedValue.dat (covered through TBS_Sign)."""
    report = _check(files)
    names: set[str] = set()
    for s in report.signatures:
        names.update(r.path for r in s.references)
        names.update({s.signature_path, s.signed_value_path})
    return {n: len(files[n]) for n in files if n in names}


def _list_meaning(data: bytes):
    """What Signatures.xml says, for verification: its root and each entry's (path, type)."""
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError:
        return None
    entries = []
    for el in root:
        if not isinstance(el.tag, str):
            continue
        if etree.QName(el).localname == "Signature":
            loc = (el.get("BaseLoc") or "").strip()
            entries.append((posixpath.normpath(loc), el.get("Type", "Seal")))
    return root.tag, entries


def test_500_flipped_bytes_in_the_signed_content_are_each_detected(sealed):
    files = unzip(sealed)
    assert _check(files).valid
    sizes = _signed_files(files)
    assert set(files) - set(sizes) == {LIST}  # everything but the signature list is signed
    positions = sample_positions(sizes, 520)
    assert len(positions) >= 500
    missed = []
    for name, pos in positions:
        report = _check({**files, name: flip(files[name], pos)})
        if report.valid:
            missed.append((name, pos))
    assert missed == []


def test_a_flip_in_every_file_of_a_jointly_sealed_package(joint_sealed):
    """Every file, ≥ 12 positions each; both signatures judged. Signatures.xml is outside
    every signature by design (so later seals can be added): a flip there is refused, or
    changes nothing verification reads (an ID label, MaxSignId), or drops the *last*
    signature from the list — which nothing signed can prove (like cutting the last
    incremental update off a PDF) and which the report lists as an unlisted signature."""
    files = unzip(joint_sealed)
    assert _check(files).valid
    positions = sample_positions({n: len(d) for n, d in files.items()}, 400, minimum=12)
    accepted = []
    for name, pos in positions:
        bad = {**files, name: flip(files[name], pos)}
        report = _check(bad)
        if not report.valid:
            continue
        accepted.append((name, pos))
        assert name == LIST, (name, pos)
        before, after = _list_meaning(files[LIST]), _list_meaning(bad[LIST])
        if after != before:
            dropped = {p.lstrip("/") for p, _ in before[1]} - {p.lstrip("/") for p, _ in after[1]}
            assert after[0] == before[0] and dropped == {"Doc_0/Signs/Sign_1/Signature.xml"}
            unlisted = {f.path for f in report.findings if f.code == "ofd.unlisted_signature"}
            assert unlisted == dropped, pos
    assert {n for n, _ in positions} == set(files)
    # most flips in the list are refused too (structure, BaseLoc, Type, namespace)
    in_list = [p for n, p in positions if n == LIST]
    assert len(accepted) < len(in_list)


def test_flips_in_the_zip_container_change_nothing_or_are_refused(sealed):
    original = read_package(sealed)
    positions = sample_positions({"zip": len(sealed)}, 300, seed=33)
    for _, pos in positions:
        bad = flip(sealed, pos)
        report = check_ofd(bad, at=VERIFY_AT)
        if report.valid:
            # a flip in zip metadata (dates, attributes, comments): same files, same bytes
            assert read_package(bad) == original, pos


def test_signature_xml_byte_flips_all_detected(sealed):
    """Every single byte of Signature.xml (its SM3 is the signed dataHash)."""
    files = unzip(sealed)
    name = f"{S0}/Signature.xml"
    for pos in range(len(files[name])):
        report = _check({**files, name: flip(files[name], pos, 0x20)})
        assert not report.valid, pos


# ------------------------------------------------------------------------ replaced pieces


def _png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (64, 64), color).save(buf, format="PNG")
    return buf.getvalue()


def test_a_replaced_seal_image(pki, sealed):
    files = unzip(sealed)
    forged = replace_picture(pki.a.seal, _png((0, 0, 255, 255)))
    # only Seal.esl swapped: the file no longer matches its digest nor the signed seal
    (sig,) = _check({**files, f"{S0}/Seal.esl": forged}).signatures
    assert _failed(sig) == {"references", "seal_file"}
    # an insider with unit A's key re-signs with the altered seal: the maker's signature
    # over the seal (and so its picture) fails
    (sig,) = _check(resign(files, S0, pki.a, seal=forged)).signatures
    assert _failed(sig) == {"seal_signature"}
    assert sig.check("seal_signature").code == "seal.signature"
    assert "制章者签名" in sig.check("seal_signature").reason_zh


def test_a_seal_image_drawn_into_the_page_after_signing(sealed):
    files = unzip(sealed)
    page = next(n for n in files if n.endswith("Page_3/Content.xml"))
    files[page] = files[page].replace(
        b"</ofd:Layer>",
        b'<ofd:ImageObject ID="9999" Boundary="20 20 42 42" ResourceID="1"/></ofd:Layer>',
    )
    (sig,) = _check(files).signatures
    assert _failed(sig) == {"references"}
    assert page in sig.check("references").reason


def test_a_swapped_signer_certificate(pki, sealed):
    files = unzip(sealed)
    # SES_Signature.cert replaced by unit B's certificate, nothing re-signed
    (sig,) = _check(resign(files, S0, pki.a, cert=pki.b.cert, key=pki.a.key)).signatures
    assert _failed(sig) == {"signature", "signer_in_seal"}
    assert sig.check("signature").code == "signature.signature"


def test_a_swapped_certificate_in_the_seal(pki, sealed):
    """Unit B's certificate written into unit A's seal so that B could use it."""
    files = unzip(sealed)
    forged = replace_cert_list(pki.a.seal, [pki.b.cert])
    (sig,) = _check(resign(files, S0, pki.b, seal=forged)).signatures
    assert _failed(sig) == {"seal_signature"}


def test_a_swapped_maker_certificate(pki, sealed):
    """The seal claims another maker (B's certificate as maker): its signature fails, and a
    maker check against the CA refuses the certificate as a seal maker only by signature."""
    files = unzip(sealed)
    forged = replace_maker_cert(pki.a.seal, pki.b.cert)
    (sig,) = _check(resign(files, S0, pki.a, seal=forged)).signatures
    assert _failed(sig) == {"seal_signature"}


def test_a_signature_by_another_units_key_with_this_seal(pki, sealed):
    """Unit B signs with its own key and certificate but unit A's seal."""
    files = unzip(sealed)
    (sig,) = _check(resign(files, S0, pki.b, seal=pki.a.seal)).signatures
    assert _failed(sig) == {"signer_in_seal"}
    assert sig.check("signer_in_seal").code == "signature.signer_not_in_seal"
    assert sig.check("signer_in_seal").reason_zh == "签章者证书不在电子印章的证书列表中"


def test_a_valid_seal_of_another_unit_is_reported_as_that_unit(pki, notice_ofd, notice_layout):
    """Unit B's own, valid seal on unit A's notice: cryptographically valid — the report
    names the seal and the signer, so the caller's "signer is the sending unit" check can
    refuse it."""
    out = seal_as(pki.b, notice_ofd, notice_layout.seals[0])
    (sig,) = check_ofd(out, at=VERIFY_AT).signatures
    assert sig.ok
    assert sig.seal["name"] == pki.b.name != pki.a.name
    assert sig.signer_cert == pki.b.cert


def test_a_signature_moved_from_another_document(pki, sealed, joint_first):
    """Sign_0 of another document, valid there, pasted into this one."""
    files, other = unzip(sealed), unzip(joint_first)
    moved = dict(files)
    for n in other:
        if n.startswith(f"{S0}/"):
            moved[n] = other[n]
    (sig,) = _check(moved).signatures
    assert _failed(sig) == {"references"}


def test_removed_or_extra_files(sealed):
    files = unzip(sealed)
    font = next(n for n in files if n.endswith(".ttf"))
    gone = {n: d for n, d in files.items() if n != font}
    (sig,) = _check(gone).signatures
    assert _failed(sig) == {"references"}
    assert "受保护文件缺失" in sig.check("references").reason_zh
    (sig,) = _check({n: d for n, d in files.items() if n != f"{S0}/Seal.esl"}).signatures
    assert {"references"} <= _failed(sig)


@pytest.mark.parametrize("member", [f"{S0}/SignedValue.dat", f"{S0}/Signature.xml"])
def test_missing_signature_files(sealed, member):
    files = unzip(sealed)
    del files[member]
    report = check_ofd(rezip(files), at=VERIFY_AT)
    assert report.verdict == "invalid"
    (sig,) = report.signatures
    assert not sig.ok
