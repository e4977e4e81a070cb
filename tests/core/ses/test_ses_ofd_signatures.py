"""OFD signature verification: every verdict of shared/vectors/SOURCES.md, and tampering."""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import UTC, datetime

import pytest
from asn1crypto import x509

from gongwen.pki.suites import sm2_za, sm3
from gongwen.seals.ses.ofd_signatures import read_package, verify_ofd_signatures
from gongwen.seals.ses.seal import issued_by, signer_from_key
from gongwen.seals.ses.signature import build_signature

from .conftest import CERTS, OFDS, needs_vectors, pem_cert

pytestmark = needs_vectors


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _failed(sig) -> set[str]:
    return {c.name for c in sig.checks if c.failed}


# -------------------------------------------------------------------- SOURCES.md verdicts


def test_gomain_invoice_is_valid():
    r = verify_ofd_signatures(OFDS / "gomain_test_invoice_v4signed.ofd")
    assert r.verdict == "valid" and r.valid
    (sig,) = r.signatures
    assert sig.type == "Seal" and sig.info.seal.vid == "GOMAIN"
    assert len(sig.references) == 13 and all(ref.ok for ref in sig.references)
    assert sig.stamp_annots == [{"ID": "1", "PageRef": "1", "Boundary": "90.00 8.00 30.00 20.00"}]
    # Document.xml says TPLS/ while the zip has Tpls/: a warning, not a failure
    assert any("case differs" in w for w in r.warnings)


def test_ofdrw_allprotected_is_valid_with_the_ofdrw_ca():
    root = pem_cert(CERTS / "ofdrw_ROOT.crt.pem")
    r = verify_ofd_signatures(
        OFDS / "ofdrw_allprotected.ofd",
        maker_check=issued_by(root),
        signer_check=issued_by(root),
    )
    assert r.verdict == "valid"
    (sig,) = r.signatures
    assert sig.id == "001"
    assert {ref.path for ref in sig.references} == {
        "OFD.xml", "Doc_0/Document.xml", "Doc_0/Pages/Page_0/Content.xml",
        "Doc_0/PublicRes.xml", "Doc_0/Signs/Signatures.xml", "Doc_0/Signs/Sign_0/Seal.esl",
    }  # fmt: skip
    assert sig.checks and all(c.passed for c in sig.checks)
    assert r.unprotected == []


def test_ofdrw_riding_seal_is_valid_with_a_warning():
    r = verify_ofd_signatures(OFDS / "ofdrw_riding_seal_V4RideRight.ofd")
    assert r.verdict == "valid"
    assert any("PublicRes.xml" in w and "not in the package" in w for w in r.warnings)
    (sig,) = r.signatures
    assert [a["PageRef"] for a in sig.stamp_annots] == ["1", "21", "43", "63", "83"]
    assert sig.stamp_annots[0]["Clip"] == "0 0 8 40"


def test_bare_digital_sign_is_unverifiable_without_the_certificate():
    r = verify_ofd_signatures(OFDS / "ofdrw_bare_sm2_DigitalSign.ofd")
    assert r.verdict == "unverifiable" and not r.valid
    (sig,) = r.signatures
    assert sig.type == "Sign" and sig.verdict == "unverifiable"
    assert all(ref.ok for ref in sig.references)


def test_bare_digital_sign_is_valid_with_the_external_certificate():
    user = pem_cert(CERTS / "ofdrw_USER.crt.pem")
    r = verify_ofd_signatures(OFDS / "ofdrw_bare_sm2_DigitalSign.ofd", external_certs=[user])
    assert r.verdict == "valid"
    # and a wrong certificate does not make it valid
    maker = pem_cert(CERTS / "ofdrw_SealBuilder.crt.pem")
    r = verify_ofd_signatures(OFDS / "ofdrw_bare_sm2_DigitalSign.ofd", external_certs=[maker])
    assert r.verdict == "invalid"


def test_dms360_v1_is_invalid():
    r = verify_ofd_signatures(OFDS / "dms360_v1_gongwen_n.ofd")
    assert r.verdict == "invalid"
    (sig,) = r.signatures
    assert sig.info.version == 1
    # 5 of 6 reference digests fail: the XML files were re-saved after signing
    failed_refs = [ref.file_ref for ref in sig.references if not ref.ok]
    assert len(sig.references) == 6 and len(failed_refs) == 5
    assert "/Doc_0/Signs/Sign_0/Seal.esl" not in failed_refs
    # dataHash != SM3(Signature.xml); certList holds IA5String "1"; the TBS_Sign signature
    # is over the raw dataHash (non-standard)
    assert _failed(sig) == {"references", "signature", "signer_in_seal", "data_hash"}
    assert "seal: certList holds a ia5, not a certificate" in sig.warnings


def test_dms360_check_method_is_sm3_with_the_signers_z():
    """CheckMethod 1.2.156.10197.1.401.2 ("SM3 with key") = SM3(Z_A ‖ file) with the
    signer's key: the untouched Seal.esl matches that, not plain SM3."""
    files = read_package(OFDS / "dms360_v1_gongwen_n.ofd")
    r = verify_ofd_signatures(files)
    cert = x509.Certificate.load(r.signatures[0].info.signer_cert)
    point = bytes(cert["tbs_certificate"]["subject_public_key_info"]["public_key"].native)
    seal = files["Doc_0/Signs/Sign_0/Seal.esl"]
    expected = base64.b64decode("rgEI7OHgno1tFxHU3TdWtFiFICkIc5MzUDIKVogCv3E=")
    assert sm3(sm2_za(point) + seal) == expected
    assert sm3(seal) != expected


def test_two_seals_first_invalid_second_valid():
    r = verify_ofd_signatures(OFDS / "ofdrw_two_seals_h.ofd")
    assert r.verdict == "invalid"
    first, second = r.signatures
    assert (first.id, first.verdict) == ("s001", "invalid")
    assert _failed(first) == {"references"}
    assert [ref.file_ref for ref in first.references if not ref.ok] == [
        "/Doc_0/Signs/Signatures.xml"
    ]
    assert (second.id, second.verdict) == ("s007", "valid")


def test_expired_seal_is_invalid_for_the_seal_validity_only():
    r = verify_ofd_signatures(OFDS / "ofdrw_expired_seal_SESV4SignDoc.ofd")
    assert r.verdict == "invalid"
    (sig,) = r.signatures
    assert _failed(sig) == {"seal_validity"}
    failed = next(c for c in sig.checks if c.failed)
    assert "不在印章有效期" in failed.error.message_zh


def test_report_is_json_friendly():
    import json

    r = verify_ofd_signatures(OFDS / "ofdrw_two_seals_h.ofd")
    data = json.loads(json.dumps(r.as_dict(), ensure_ascii=False))
    assert data["verdict"] == "invalid"
    first = data["signatures"][0]
    assert first["checks"][0] == {
        "check": "references",
        "label_zh": "受保护文件摘要",
        "status": "failed",
        "code": "ofd.reference",
        "reason": "1 of 9 references fail: /Doc_0/Signs/Signatures.xml",
        "reason_zh": "文件在签章后被修改：/Doc_0/Signs/Signatures.xml",
    }


# ------------------------------------------------------------------------------ tampering


def test_a_flipped_byte_in_any_file_of_the_package_is_detected():
    files = read_package(OFDS / "ofdrw_allprotected.ofd")
    assert verify_ofd_signatures(files).valid
    for name, data in files.items():
        for pos in sorted({0, len(data) // 3, len(data) // 2, len(data) - 1}):
            bad = dict(files)
            b = bytearray(data)
            b[pos] ^= 0x01
            bad[name] = bytes(b)
            r = verify_ofd_signatures(bad)
            assert not r.valid, (name, pos)


def test_many_flipped_bytes_in_signature_xml_are_detected():
    files = read_package(OFDS / "gomain_test_invoice_v4signed.ofd")
    name = "Doc_0/Signs/Sign_0/Signature.xml"
    data = files[name]
    for pos in range(0, len(data), 7):
        b = bytearray(data)
        b[pos] ^= 0x02
        r = verify_ofd_signatures({**files, name: bytes(b)})
        assert not r.valid, pos


def test_a_file_added_after_signing_is_listed_as_unprotected():
    files = read_package(OFDS / "ofdrw_allprotected.ofd")
    files["Doc_0/Res/added.png"] = b"\x89PNG"
    r = verify_ofd_signatures(files)
    assert r.valid  # the signature itself still holds …
    assert r.unprotected == ["Doc_0/Res/added.png"]  # … and the addition is reported


def test_a_removed_protected_file_is_detected():
    files = read_package(OFDS / "ofdrw_allprotected.ofd")
    del files["Doc_0/PublicRes.xml"]
    r = verify_ofd_signatures(files)
    (sig,) = r.signatures
    missing = [ref for ref in sig.references if not ref.ok]
    assert [m.reason for m in missing] == ["file is missing"]


def test_package_errors():
    assert verify_ofd_signatures(b"not a zip").verdict == "invalid"
    assert verify_ofd_signatures(_zip({"a.txt": b"x"})).errors[0].error.message_zh == "缺少 OFD.xml"
    # a zip with the same name twice
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, pytest.warns(UserWarning):
        z.writestr("OFD.xml", b"<a/>")
        z.writestr("OFD.xml", b"<b/>")
    r = verify_ofd_signatures(buf.getvalue())
    assert r.verdict == "invalid" and "重复" in r.errors[0].error.message_zh
    unsigned = _zip({"OFD.xml": b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>'})
    assert verify_ofd_signatures(unsigned).verdict == "unsigned"


# --------------------------------------------------------------- our own seal on an OFD


def test_our_seal_signature_on_an_ofd_verifies(gm_pki, our_seal):
    """Re-seal ofdrw's test document with our seal the way the OFD writer will."""
    files = read_package(OFDS / "ofdrw_allprotected.ofd")
    for n in list(files):
        if n.startswith("Doc_0/Signs/"):
            del files[n]
    files["Doc_0/Signs/Signatures.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<ofd:Signatures xmlns:ofd="http://www.ofdspec.org/2016"><ofd:MaxSignId>s002'
        b'</ofd:MaxSignId><ofd:Signature ID="s001" Type="Seal" '
        b'BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"/></ofd:Signatures>'
    )
    files["Doc_0/Signs/Sign_0/Seal.esl"] = our_seal
    refs = "".join(
        f'<ofd:Reference FileRef="/{n}"><ofd:CheckValue>'
        f"{base64.b64encode(sm3(files[n])).decode()}</ofd:CheckValue></ofd:Reference>"
        for n in sorted(files)
    )
    sig_xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ofd:Signature xmlns:ofd="http://www.ofdspec.org/2016"><ofd:SignedInfo>'
        '<ofd:Provider ProviderName="gongwen" Version="0.1" Company="gongwen"/>'
        "<ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>"
        "<ofd:SignatureDateTime>20260105093000Z</ofd:SignatureDateTime>"
        f'<ofd:References CheckMethod="1.2.156.10197.1.401">{refs}</ofd:References>'
        '<ofd:StampAnnot ID="s002" PageRef="1" Boundary="120 200 42 42"/>'
        "<ofd:Seal><ofd:BaseLoc>/Doc_0/Signs/Sign_0/Seal.esl</ofd:BaseLoc></ofd:Seal>"
        "</ofd:SignedInfo><ofd:SignedValue>/Doc_0/Signs/Sign_0/SignedValue.dat"
        "</ofd:SignedValue></ofd:Signature>"
    ).encode()
    files["Doc_0/Signs/Sign_0/Signature.xml"] = sig_xml
    files["Doc_0/Signs/Sign_0/SignedValue.dat"] = build_signature(
        seal_der=our_seal,
        data_hash=sm3(sig_xml),
        property_info="/Doc_0/Signs/Sign_0/Signature.xml",
        signer_cert=gm_pki.holder_cert,
        sign=signer_from_key(gm_pki.holder_key),
        signing_time=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
    )
    check = issued_by(gm_pki.root_cert)
    r = verify_ofd_signatures(_zip(files), maker_check=check, signer_check=check)
    assert r.verdict == "valid", r.as_dict()
    assert r.unprotected == []
