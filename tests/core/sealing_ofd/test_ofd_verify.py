"""verify_ofd / check_ofd: the report on our sealed notice, the vectors' verdicts, the
document-level checks and findings, certificate hooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gongwen.pki.crl import build_crl
from gongwen.sealing.ofd_verify import OFDUnreadable, check_ofd, verify_ofd
from gongwen.seals.ses.seal import issued_by

from .conftest import (
    CERTS,
    NB,
    OFDS,
    SIGNED_AT,
    VERIFY_AT,
    Unit,
    make_seal,
    needs_vectors,
    rezip,
    seal_as,
    unit_cert,
    unzip,
)
from .tampering import resign


def _failed(sig) -> set[str]:
    return {c.name for c in sig.failures}


def test_our_sealed_notice_is_valid(pki, sealed):
    (sig,) = verify_ofd(sealed, at=VERIFY_AT, maker_check=pki.check(), signer_check=pki.check())
    assert sig.ok and sig.verdict == "valid"
    assert [c.name for c in sig.checks] == [
        "references",
        "format",
        "signature",
        "signer_in_seal",
        "seal_signature",
        "maker_certificate",
        "seal_validity",
        "signer_certificate",
        "data_hash",
        "seal_file",
        "stamp_annot",
        "signing_time",
        "signature_list",
    ]
    assert all(c.ok is True and c.reason and c.reason_zh for c in sig.checks)
    # the certificates for the caller's own CA/CRL validation
    assert sig.signer_cert == pki.a.cert and sig.maker_cert == pki.maker
    assert sig.signing_time == SIGNED_AT
    assert (
        sig.seal["name"] == "连云港市人民政府办公室" and sig.seal["es_id"] == "320700000000000001"
    )
    assert sig.findings == [] and sig.warnings == []
    (annot,) = sig.stamp_annots
    assert annot.page_index == 3  # the page with 署名 and 成文日期


def test_without_hooks_the_certificate_checks_are_skipped(sealed):
    (sig,) = verify_ofd(sealed, at=VERIFY_AT)
    skipped = {c.name: c for c in sig.checks if c.ok is None}
    assert set(skipped) == {"maker_certificate", "signer_certificate"}
    assert "CRL" in skipped["signer_certificate"].reason_zh
    assert sig.verdict == "valid"


def test_joint_seals_are_both_valid(pki, joint_sealed):
    report = check_ofd(
        joint_sealed, at=VERIFY_AT, maker_check=pki.check(), signer_check=pki.check()
    )
    assert report.verdict == "valid" and report.valid
    first, second = report.signatures
    assert (first.id, first.seal["name"], first.signer_cert) == ("s001", pki.a.name, pki.a.cert)
    assert (second.id, second.seal["name"], second.signer_cert) == ("s003", pki.b.name, pki.b.cert)
    # the second seal's own files are not "added after signing" for the first
    assert first.findings == [] and second.findings == []
    assert second.check("signature_list").reason == "1 earlier signature(s) protected and listed"
    assert report.unprotected == [] and report.findings == []


def test_report_is_json_with_chinese_reasons(pki, joint_sealed):
    data = json.loads(
        json.dumps(check_ofd(joint_sealed, at=VERIFY_AT).as_dict(), ensure_ascii=False)
    )
    assert data["format"] == "ofd" and data["verdict"] == "valid"
    sig = data["signatures"][1]
    assert (
        sig["signer"]["subject"].endswith("CN")
        and "中共连云港市委办公室" in sig["signer"]["subject"]
    )
    check = next(c for c in sig["checks"] if c["check"] == "stamp_annot")
    assert check == {
        "check": "stamp_annot",
        "label_zh": "印章外观位置",
        "ok": True,
        "status": "passed",
        "code": None,
        "reason": "the seal is shown on page 4",
        "reason_zh": "印章显示在第 4 页",
    }


def test_unsigned_and_unreadable(notice_ofd):
    assert verify_ofd(notice_ofd) == []
    assert check_ofd(notice_ofd).verdict == "unsigned"
    for bad in (b"not a zip", rezip({"a.txt": b"x"})):
        with pytest.raises(OFDUnreadable) as e:
            verify_ofd(bad)
        assert e.value.message_zh and e.value.report.verdict == "invalid"


def test_signing_time_after_the_verification_time_fails(sealed):
    (sig,) = verify_ofd(sealed, at=datetime(2026, 3, 1, tzinfo=UTC))
    assert _failed(sig) == {"signing_time"}
    assert "晚于验证时间" in sig.check("signing_time").reason_zh


def test_a_file_added_after_signing_is_a_finding(sealed):
    files = unzip(sealed)
    files["Doc_0/Res/extra.png"] = b"\x89PNG\r\n\x1a\n"
    report = check_ofd(rezip(files), at=VERIFY_AT)
    assert report.verdict == "valid"  # nothing signed changed …
    (sig,) = report.signatures
    assert [(f.code, f.path) for f in sig.findings] == [
        ("ofd.added_after_signing", "Doc_0/Res/extra.png")
    ]
    assert [(f.code, f.path) for f in report.findings] == [
        ("ofd.unprotected", "Doc_0/Res/extra.png")
    ]
    assert "未受任何签章保护" in report.findings[0].message_zh


def test_a_signature_dropped_from_the_list_is_detected(joint_sealed):
    """Signatures.xml is not protected (so that seals can follow); a later signature that
    protects an earlier one notices when that one is taken off the list."""
    files = unzip(joint_sealed)
    name = "Doc_0/Signs/Signatures.xml"
    xml = files[name].decode()
    start = xml.index('<ofd:Signature ID="s001"')
    files[name] = (xml[:start] + xml[xml.index("/>", start) + 2 :]).encode()
    report = check_ofd(rezip(files), at=VERIFY_AT)
    (sig,) = report.signatures
    assert sig.id == "s003" and _failed(sig) == {"signature_list"}
    assert "Doc_0/Signs/Sign_0/Signature.xml" in sig.check("signature_list").reason
    assert ("ofd.unlisted_signature", "Doc_0/Signs/Sign_0/Signature.xml") in {
        (f.code, f.path) for f in report.findings
    }


def test_a_signature_list_in_another_namespace_fails(sealed):
    files = unzip(sealed)
    name = "Doc_0/Signs/Signatures.xml"
    files[name] = files[name].replace(
        b"http://www.ofdspec.org/2016", b"http://www.ofdspec.org/2017"
    )
    (sig,) = check_ofd(rezip(files), at=VERIFY_AT).signatures
    assert _failed(sig) == {"signature_list"}


def test_stamp_annot_missing_or_on_a_missing_page(pki, sealed):
    files = unzip(sealed)
    xml = files["Doc_0/Signs/Sign_0/Signature.xml"].decode()
    start = xml.index("<ofd:StampAnnot")
    end = xml.index("/>", start) + 2
    no_annot = resign(files, "Doc_0/Signs/Sign_0", pki.a, edit=lambda x: x[:start] + x[end:])
    (sig,) = check_ofd(rezip(no_annot), at=VERIFY_AT).signatures
    assert _failed(sig) == {"stamp_annot"}
    assert "缺少 StampAnnot" in sig.check("stamp_annot").reason_zh

    def other_page(x: str) -> str:
        i = x.index('PageRef="', start) + len('PageRef="')
        return x[:i] + "99999" + x[x.index('"', i) :]

    bad_page = resign(files, "Doc_0/Signs/Sign_0", pki.a, edit=other_page)
    (sig,) = check_ofd(rezip(bad_page), at=VERIFY_AT).signatures
    assert _failed(sig) == {"stamp_annot"}
    assert "99999" in sig.check("stamp_annot").reason


# ---------------------------------------------------------------- certificates via hooks


def test_a_revoked_signer_certificate(pki, sealed):
    crl = build_crl(
        issuer_cert=pki.city,
        issuer_key=pki.city_key,
        crl_number=2,
        this_update=NB,
        next_update=datetime(2030, 1, 1, tzinfo=UTC),
        revoked=[(_serial(pki.a.cert), datetime(2026, 2, 1, tzinfo=UTC), "key_compromise")],
    )
    hook = pki.check([pki.crls[0], crl])
    (sig,) = verify_ofd(sealed, at=VERIFY_AT, maker_check=hook, signer_check=hook)
    assert _failed(sig) == {"signer_certificate"}
    assert "吊销" in sig.check("signer_certificate").reason_zh


def test_a_stale_crl(pki, sealed):
    crl = build_crl(
        issuer_cert=pki.city,
        issuer_key=pki.city_key,
        crl_number=2,
        this_update=NB,
        next_update=datetime(2025, 6, 1, tzinfo=UTC),
    )
    hook = pki.check([pki.crls[0], crl])
    (sig,) = verify_ofd(sealed, at=VERIFY_AT, maker_check=hook, signer_check=hook)
    assert _failed(sig) == {"maker_certificate", "signer_certificate"}
    assert sig.check("signer_certificate").code == "signature.signer_certificate"


def test_an_expired_signer_certificate(pki, notice_ofd, notice_layout):
    key, cert = unit_cert(pki.city_key, pki.city, pki.a.name, validity_days=365)  # ends 2026-01
    unit = Unit(pki.a.name, key, cert, make_seal(pki.maker_key, pki.maker, pki.a.name, [cert], "9"))
    out = seal_as(unit, notice_ofd, notice_layout.seals[0])
    (sig,) = verify_ofd(out, at=VERIFY_AT, maker_check=pki.check(), signer_check=pki.check())
    assert _failed(sig) == {"signer_certificate"}
    assert "已过期" in sig.check("signer_certificate").reason_zh


def _serial(cert: bytes) -> int:
    from asn1crypto import x509

    return x509.Certificate.load(cert).serial_number


# ----------------------------------------------------------------------- shared vectors


@needs_vectors
@pytest.mark.parametrize(
    ("name", "verdict", "per_signature"),
    [
        ("gomain_test_invoice_v4signed.ofd", "valid", [("1", "valid", set())]),
        ("ofdrw_allprotected.ofd", "valid", [("001", "valid", set())]),
        ("ofdrw_riding_seal_V4RideRight.ofd", "valid", [("s001", "valid", set())]),
        (
            "ofdrw_bare_sm2_DigitalSign.ofd",
            "unverifiable",
            [("s001", "unverifiable", {"signature"})],
        ),
        (
            "dms360_v1_gongwen_n.ofd",
            "invalid",
            [("0", "invalid", {"references", "signature", "signer_in_seal", "data_hash"})],
        ),
        (
            "ofdrw_two_seals_h.ofd",
            "invalid",
            [("s001", "invalid", {"references"}), ("s007", "valid", set())],
        ),
        ("ofdrw_expired_seal_SESV4SignDoc.ofd", "invalid", [("1", "invalid", {"seal_validity"})]),
    ],
)
def test_vector_verdicts(name, verdict, per_signature):
    report = check_ofd((OFDS / name).read_bytes())  # verified now
    assert report.verdict == verdict
    assert [(s.id, s.verdict, _failed(s)) for s in report.signatures] == per_signature


@needs_vectors
def test_vector_details():
    from .conftest import pem_cert

    root = pem_cert(CERTS / "ofdrw_ROOT.crt.pem")
    (sig,) = verify_ofd(
        (OFDS / "ofdrw_allprotected.ofd").read_bytes(),
        maker_check=issued_by(root),
        signer_check=issued_by(root),
    )
    assert sig.verdict == "valid" and all(c.ok for c in sig.checks)
    riding = check_ofd((OFDS / "ofdrw_riding_seal_V4RideRight.ofd").read_bytes())
    assert any("PublicRes.xml" in w for w in riding.warnings)  # valid with a warning
    assert [a.page_index for a in riding.signatures[0].stamp_annots] == [0, 1, 2, 3, 4]
    h = check_ofd((OFDS / "ofdrw_two_seals_h.ofd").read_bytes())
    bad = h.signatures[0].check("references")
    assert bad.reason == "1 of 9 references fail: /Doc_0/Signs/Signatures.xml"
    assert bad.reason_zh == "文件在签章后被修改：/Doc_0/Signs/Signatures.xml"
    expired = check_ofd((OFDS / "ofdrw_expired_seal_SESV4SignDoc.ofd").read_bytes())
    assert "不在印章有效期" in expired.signatures[0].check("seal_validity").reason_zh
    user = pem_cert(CERTS / "ofdrw_USER.crt.pem")
    bare = check_ofd((OFDS / "ofdrw_bare_sm2_DigitalSign.ofd").read_bytes(), external_certs=[user])
    assert bare.verdict == "valid"
