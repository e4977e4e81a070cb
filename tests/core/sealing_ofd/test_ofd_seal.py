"""seal_ofd: the files it writes, what it protects, several seals in order, refusals."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from lxml import etree

from gongwen.documents.gbt9704 import OFDReader
from gongwen.pki.suites import sm3
from gongwen.sealing.ofd_seal import OFDSealError, SealPlacement, seal_ofd
from gongwen.sealing.ofd_verify import check_ofd
from gongwen.seals.ses.errors import (
    SignatureInvalid,
    SignerNotInSeal,
    SigningTimeOutsideSealValidity,
)
from gongwen.seals.ses.signature import parse_signature

from .conftest import OFDS, SIGNED_AT, VERIFY_AT, needs_vectors, rezip, seal_as, unzip

NS = {"ofd": "http://www.ofdspec.org/2016"}
SIGN0 = "Doc_0/Signs/Sign_0"


def _xml(files, name):
    return etree.fromstring(files[name])


def test_sealed_package_layout(sealed, notice_ofd):
    before, after = unzip(notice_ofd), unzip(sealed)
    added = sorted(set(after) - set(before))
    assert added == [
        "Doc_0/Signs/Sign_0/Seal.esl",
        "Doc_0/Signs/Sign_0/Signature.xml",
        "Doc_0/Signs/Sign_0/SignedValue.dat",
        "Doc_0/Signs/Signatures.xml",
    ]
    # only OFD.xml changed, by the <ofd:Signatures> entry at the end of DocBody
    changed = [n for n in before if before[n] != after[n]]
    assert changed == ["OFD.xml"]
    assert after["OFD.xml"] == before["OFD.xml"].replace(
        b"</ofd:DocBody>",
        b"<ofd:Signatures>/Doc_0/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody>",
    )
    sigs = _xml(after, "Doc_0/Signs/Signatures.xml")
    assert sigs.findtext("ofd:MaxSignId", namespaces=NS) == "s002"
    (entry,) = sigs.findall("ofd:Signature", NS)
    assert dict(entry.attrib) == {
        "ID": "s001",
        "Type": "Seal",
        "BaseLoc": "/Doc_0/Signs/Sign_0/Signature.xml",
    }
    # the document still reads and renders as before
    assert OFDReader(sealed).text() == OFDReader(notice_ofd).text()


def test_signature_xml_content(pki, sealed, notice_layout):
    files = unzip(sealed)
    sig = _xml(files, f"{SIGN0}/Signature.xml")
    info = sig.find("ofd:SignedInfo", NS)
    # child order per the XSD: Provider, SignatureMethod, SignatureDateTime, References,
    # StampAnnot, Seal; then SignedValue
    assert [etree.QName(c).localname for c in info] == [
        "Provider",
        "SignatureMethod",
        "SignatureDateTime",
        "References",
        "StampAnnot",
        "Seal",
    ]
    assert [etree.QName(c).localname for c in sig] == ["SignedInfo", "SignedValue"]
    assert info.find("ofd:Provider", NS).get("ProviderName") == "gongwen"
    assert info.findtext("ofd:SignatureMethod", namespaces=NS) == "1.2.156.10197.1.501"
    assert info.findtext("ofd:SignatureDateTime", namespaces=NS) == "20260302083000Z"
    refs = info.find("ofd:References", NS)
    assert refs.get("CheckMethod") == "SM3"
    listed = {r.get("FileRef"): r.findtext("ofd:CheckValue", namespaces=NS) for r in refs}
    # every file of the package at signing time except Signatures.xml (ContinueSign) and
    # the signature's own Signature.xml / SignedValue.dat
    expected = set(files) - {
        "Doc_0/Signs/Signatures.xml",
        f"{SIGN0}/Signature.xml",
        f"{SIGN0}/SignedValue.dat",
    }
    assert set(listed) == {"/" + n for n in expected}
    for ref, value in listed.items():
        assert base64.b64decode(value) == sm3(files[ref[1:]]), ref
    # the stamp sits in the GB/T 9704 seal box, on that page (PageRef = the page's ID)
    box = notice_layout.seals[0]
    annot = info.find("ofd:StampAnnot", NS)
    page_ids = OFDReader(sealed).page_ids
    assert annot.get("PageRef") == page_ids[box.page]
    x, y, w, h = (float(v) for v in annot.get("Boundary").split())
    assert (x, y, w, h) == pytest.approx((box.x, box.y, box.w, box.h), abs=0.001)
    assert annot.get("ID") == "s002"
    assert info.findtext("ofd:Seal/ofd:BaseLoc", namespaces=NS) == f"/{SIGN0}/Seal.esl"
    assert sig.findtext("ofd:SignedValue", namespaces=NS) == f"/{SIGN0}/SignedValue.dat"
    assert files[f"{SIGN0}/Seal.esl"] == pki.a.seal


def test_signed_value_is_ses_signature_v4(pki, sealed):
    files = unzip(sealed)
    info = parse_signature(files[f"{SIGN0}/SignedValue.dat"])
    assert info.version == 4
    assert info.seal_der == pki.a.seal  # embedded byte for byte
    assert info.signing_time == SIGNED_AT
    assert info.signing_time_text == "20260302083000Z"
    assert info.data_hash == sm3(files[f"{SIGN0}/Signature.xml"])
    assert info.property_info == f"/{SIGN0}/Signature.xml"
    assert info.signer_cert == pki.a.cert
    assert info.algorithm == "1.2.156.10197.1.501"
    assert 70 <= len(info.signature) <= 72  # DER SEQUENCE{r, s}


def test_joint_seals_keep_the_first_signature_intact(pki, joint_layout, joint_first, joint_sealed):
    b_box = max(joint_layout.seals, key=lambda s: s.index)
    f1, f2 = unzip(joint_first), unzip(joint_sealed)
    # every file the first signature protects is byte-identical after the second seal
    sig1 = _xml(f1, f"{SIGN0}/Signature.xml")
    for ref in sig1.iter(f"{{{NS['ofd']}}}Reference"):
        name = ref.get("FileRef")[1:]
        assert f2[name] == f1[name], name
    # the second seal only added its own files and its entry in Signatures.xml
    assert {n for n in f2 if f2[n] != f1.get(n)} == {
        "Doc_0/Signs/Signatures.xml",
        "Doc_0/Signs/Sign_1/Seal.esl",
        "Doc_0/Signs/Sign_1/Signature.xml",
        "Doc_0/Signs/Sign_1/SignedValue.dat",
    }
    sigs = _xml(f2, "Doc_0/Signs/Signatures.xml")
    assert [s.get("ID") for s in sigs.findall("ofd:Signature", NS)] == ["s001", "s003"]
    assert sigs.findtext("ofd:MaxSignId", namespaces=NS) == "s004"
    # the second signature protects the first one's files
    sig2 = _xml(f2, "Doc_0/Signs/Sign_1/Signature.xml")
    refs2 = {r.get("FileRef") for r in sig2.iter(f"{{{NS['ofd']}}}Reference")}
    assert {f"/{SIGN0}/Signature.xml", f"/{SIGN0}/SignedValue.dat", f"/{SIGN0}/Seal.esl"} <= refs2
    assert "/Doc_0/Signs/Signatures.xml" not in refs2
    # each seal in its own box
    annot2 = sig2.find("ofd:SignedInfo/ofd:StampAnnot", NS)
    assert [float(v) for v in annot2.get("Boundary").split()] == pytest.approx(
        [b_box.x, b_box.y, b_box.w, b_box.h], abs=0.001
    )
    r = check_ofd(joint_sealed, at=VERIFY_AT, maker_check=pki.check(), signer_check=pki.check())
    assert r.verdict == "valid", r.as_dict()
    assert [s.seal["name"] for s in r.signatures] == [pki.a.name, pki.b.name]


def test_unchanged_members_are_copied_byte_for_byte(sealed, pki, notice_layout):
    """A second seal copies the zip records of untouched members as they were."""
    again = seal_as(
        pki.b.__class__(pki.a.name, pki.a.key, pki.a.cert, pki.a.seal),
        sealed,
        notice_layout.seals[0],
    )
    for name in ("Doc_0/Res/font_2.ttf", "Doc_0/Signs/Sign_0/SignedValue.dat"):
        i = sealed.find(name.encode())
        assert i > 0 and again.find(sealed[i - 30 : i + 200]) >= 0


def test_external_signer_and_callable(pki, notice_ofd, notice_layout):
    from gongwen.pki.suites import get_suite

    class Token:  # a key held elsewhere: public_key() + sign_der()
        def public_key(self):
            return pki.a.key.public_key()

        def sign_der(self, data: bytes) -> bytes:
            return get_suite("GM").sign(pki.a.key, data)

    box = notice_layout.seals[0]
    for signer in (Token(), lambda m: get_suite("GM").sign(pki.a.key, m)):
        out = seal_ofd(
            notice_ofd,
            signer=signer,
            signer_cert_der=pki.a.cert,
            seal_der=pki.a.seal,
            box=box,
            signing_time=SIGNED_AT,
        )
        assert check_ofd(out, at=VERIFY_AT).verdict == "valid"


def test_box_forms(pki, notice_ofd, notice_layout):
    box = notice_layout.seals[0]
    tup = seal_as(pki.a, notice_ofd, (box.page, box.x, box.y, 42, 42))
    # a seal shown in two places (e.g. 骑缝章 halves) with a Clip
    two = seal_as(
        pki.a,
        notice_ofd,
        [
            SealPlacement(0, 190, 100, 42, 42, clip=(0, 0, 21, 42)),
            SealPlacement(1, -21, 100, 42, 42, clip=(21, 0, 21, 42)),
        ],
    )
    for out in (tup, two):
        assert check_ofd(out, at=VERIFY_AT).verdict == "valid"
    annots = check_ofd(two, at=VERIFY_AT).signatures[0].stamp_annots
    assert [(a.id, a.page_index, a.clip) for a in annots] == [
        ("s002", 0, "0 0 21 42"),
        ("s003", 1, "21 0 21 42"),
    ]


def test_refusals(pki, notice_ofd, notice_layout):
    box = notice_layout.seals[0]
    with pytest.raises(OFDSealError, match="page 99"):
        seal_as(pki.a, notice_ofd, SealPlacement(99, 0, 0, 42, 42))
    with pytest.raises(OFDSealError):
        seal_as(pki.a, notice_ofd, SealPlacement(0, 0, 0, 0, 42))
    with pytest.raises(OFDSealError, match="timezone"):
        seal_as(pki.a, notice_ofd, box, when=datetime(2026, 3, 2))
    with pytest.raises(OFDSealError) as e:
        seal_as(pki.a, b"not a zip", box)
    assert e.value.message_zh
    with pytest.raises(OFDSealError, match=r"OFD\.xml"):
        seal_as(pki.a, rezip({"a.txt": b"x"}), box)
    # signer B with A's seal; a time outside the seal's validity; a key not matching the cert
    with pytest.raises(SignerNotInSeal):
        seal_ofd(
            notice_ofd,
            signer=pki.b.key,
            signer_cert_der=pki.b.cert,
            seal_der=pki.a.seal,
            box=box,
            signing_time=SIGNED_AT,
        )
    with pytest.raises(SigningTimeOutsideSealValidity):
        seal_as(pki.a, notice_ofd, box, when=datetime(2028, 1, 1, tzinfo=UTC))
    with pytest.raises(SignatureInvalid):
        seal_ofd(
            notice_ofd,
            signer=pki.b.key,
            signer_cert_der=pki.a.cert,
            seal_der=pki.a.seal,
            box=box,
            signing_time=SIGNED_AT,
        )
    sealed = seal_as(pki.a, notice_ofd, box)
    with pytest.raises(OFDSealError, match="taken"):
        seal_as(pki.a, sealed, box, sign_id="s001")


def test_a_given_sign_id(pki, notice_ofd, notice_layout):
    out = seal_as(pki.a, notice_ofd, notice_layout.seals[0], sign_id="s002")
    (sig,) = check_ofd(out, at=VERIFY_AT).signatures
    assert sig.id == "s002" and [a.id for a in sig.stamp_annots] == ["s003"]
    assert sig.ok


@needs_vectors
def test_refuses_to_break_a_signature_that_protects_the_list(pki):
    """ofdrw's allprotected.ofd protects Signatures.xml: another seal would invalidate it
    (what happened to ofdrw_two_seals_h.ofd), so sealing is refused."""
    data = (OFDS / "ofdrw_allprotected.ofd").read_bytes()
    with pytest.raises(OFDSealError) as e:
        seal_as(pki.a, data, SealPlacement(0, 100, 100, 42, 42))
    assert "签名列表" in e.value.message_zh


@needs_vectors
def test_seals_after_a_foreign_continue_sign_seal(pki):
    """gomain's invoice does not protect its Signatures.xml: our seal joins it, both valid."""
    data = (OFDS / "gomain_test_invoice_v4signed.ofd").read_bytes()
    out = seal_as(pki.a, data, SealPlacement(0, 100, 60, 42, 42))
    r = check_ofd(out, at=VERIFY_AT)
    assert [(s.id, s.verdict) for s in r.signatures] == [("1", "valid"), ("s002", "valid")]
    files = unzip(out)
    assert "Doc_0/Signs/Sign_1/Signature.xml" in files
    ids = _xml(files, "Doc_0/Signs/Signatures.xml")
    assert ids.findtext("ofd:MaxSignId", namespaces=NS) == "s003"


def test_a_given_seal_sm3_is_seal_esl_reference(pki, notice_ofd, notice_layout):
    """A sealer that seals a stack computes the seal's SM3 once and passes it: the
    Signature.xml is the one written when the digest is computed here; a wrong one gives a
    package that the verifier rejects (the reference does not match Seal.esl)."""
    box = notice_layout.seals[0]
    plain = unzip(seal_as(pki.a, notice_ofd, box))
    given = unzip(seal_as(pki.a, notice_ofd, box, seal_sm3=sm3(pki.a.seal)))
    name = "Doc_0/Signs/Sign_0/Signature.xml"
    assert given[name] == plain[name]
    assert check_ofd(rezip(given), at=VERIFY_AT).verdict == "valid"
    wrong = seal_as(pki.a, notice_ofd, box, seal_sm3=sm3(b"another seal"))
    assert check_ofd(wrong, at=VERIFY_AT).verdict != "valid"
