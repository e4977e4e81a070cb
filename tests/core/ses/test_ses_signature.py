"""SES_Signature v4 build / parse / verify, and the SES layer of the sealed OFD vectors."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

import pytest
from asn1crypto import core

from gongwen.pki.errors import KeyMismatch, PKIError
from gongwen.pki.suites import sm3
from gongwen.seals.ses import asn1
from gongwen.seals.ses.errors import (
    DataHashMismatch,
    MalformedSES,
    SealFileMismatch,
    SignatureInvalid,
    SignerCertificateInvalid,
    SignerNotInSeal,
    SigningTimeOutsideSealValidity,
)
from gongwen.seals.ses.seal import ExtDataValue, issued_by, matched_signer, signer_from_key
from gongwen.seals.ses.signature import (
    CheckStatus,
    build_signature,
    check_signature,
    parse_signature,
    verify_signature,
)
from tests.tools import gmssl_sm2

from .conftest import OFDS, flip_positions, needs_openssl, needs_vectors, openssl_sm2_verify

SIGNATURE_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Signature xmlns:ofd="http://www.ofdspec.org/2016">'
    b"<ofd:SignedInfo/></ofd:Signature>"
)
SIGNED_AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
PROPERTY = "/Doc_0/Signs/Sign_0/Signature.xml"


@pytest.fixture(scope="module")
def our_signature(gm_pki, our_seal) -> bytes:
    return build_signature(
        seal_der=our_seal,
        data_hash=sm3(SIGNATURE_XML),
        property_info=PROPERTY,
        signer_cert=gm_pki.holder_cert,
        sign=signer_from_key(gm_pki.holder_key),
        signing_time=SIGNED_AT,
    )


def test_roundtrip(gm_pki, our_seal, our_signature):
    info = verify_signature(
        our_signature,
        SIGNATURE_XML,
        maker_check=issued_by(gm_pki.root_cert),
        signer_check=issued_by(gm_pki.root_cert),
        seal_file=our_seal,
    )
    assert info.version == 4
    assert info.seal_der == our_seal
    assert info.signing_time == SIGNED_AT
    assert info.signing_time_text == "20260105093000Z"
    assert info.data_hash == sm3(SIGNATURE_XML)
    assert info.property_info == PROPERTY
    assert info.signer_cert == gm_pki.holder_cert
    assert info.algorithm == "1.2.156.10197.1.501"
    assert info.timestamp is None and info.warnings == ()
    report = check_signature(our_signature, SIGNATURE_XML, seal_file=our_seal)
    assert report.valid
    assert [c.name for c in report.checks] == [
        "format", "signature", "signer_in_seal", "seal_signature", "maker_certificate",
        "seal_validity", "signer_certificate", "data_hash", "seal_file",
    ]  # fmt: skip
    assert report.check("maker_certificate").status is CheckStatus.SKIPPED
    assert report.as_dict()["valid"] is True


def test_written_signature_is_strict_der(our_signature, our_seal):
    sig = asn1.SES_Signature.load(our_signature, strict=True)
    native = sig.native
    assert native["toSign"]["version"] == 4
    assert native["toSign"]["propertyInfo"] == PROPERTY
    assert sig.dump(force=True) == our_signature
    tbs = asn1.split_sequence(asn1.split_sequence(our_signature)[0])
    assert tbs[1] == our_seal  # the seal is embedded byte for byte
    assert tbs[2] == b"\x18\x0f20260105093000Z"


@needs_openssl
def test_signature_verifies_in_openssl(tmp_path, gm_pki, our_signature):
    info = parse_signature(our_signature)
    assert openssl_sm2_verify(tmp_path, gm_pki.holder_key, info.signed_bytes, info.signature)


def test_ext_datas_and_timestamp_are_explicit_context_tags(gm_pki, our_seal):
    der = build_signature(
        seal_der=our_seal,
        data_hash=sm3(b"x"),
        property_info=PROPERTY,
        signer_cert=gm_pki.holder_cert,
        sign=signer_from_key(gm_pki.holder_key),
        signing_time=SIGNED_AT,
        ext_datas=[ExtDataValue("1.2.3", b"ext")],
        timestamp=b"\x30\x03\x02\x01\x01",
    )
    strict = asn1.SES_Signature.load(der, strict=True).native
    assert strict["toSign"]["extDatas"][0]["extnValue"] == b"ext"
    assert asn1.split_sequence(der)[4][0] == 0xA0
    info = verify_signature(der, b"x")
    assert info.ext_datas == (ExtDataValue("1.2.3", b"ext"),)
    assert info.timestamp is not None
    assert check_signature(der, b"x").check("timestamp").status is CheckStatus.SKIPPED


# ------------------------------------------------------------------------ build refusals


def test_build_refuses_a_signer_outside_the_seal(gm_pki, our_seal):
    with pytest.raises(SignerNotInSeal):
        build_signature(
            seal_der=our_seal,
            data_hash=sm3(b"x"),
            property_info=PROPERTY,
            signer_cert=gm_pki.other_cert,
            sign=signer_from_key(gm_pki.other_key),
            signing_time=SIGNED_AT,
        )


def test_build_refuses_an_expired_seal(gm_pki, our_seal):
    with pytest.raises(SigningTimeOutsideSealValidity):
        build_signature(
            seal_der=our_seal,
            data_hash=sm3(b"x"),
            property_info=PROPERTY,
            signer_cert=gm_pki.holder_cert,
            sign=signer_from_key(gm_pki.holder_key),
            signing_time=datetime(2028, 1, 1, tzinfo=UTC),
        )


def test_build_refuses_a_key_that_is_not_the_signers(gm_pki, our_seal):
    with pytest.raises(SignatureInvalid):
        build_signature(
            seal_der=our_seal,
            data_hash=sm3(b"x"),
            property_info=PROPERTY,
            signer_cert=gm_pki.holder_cert,
            sign=signer_from_key(gm_pki.other_key),
            signing_time=SIGNED_AT,
        )


def test_a_matched_signer_is_compared_once_not_verified_per_signature(gm_pki, our_seal,
                                                                      monkeypatch):
    """matched_signer compares the key with the certificate when it is made; the
    signatures it then makes are not verified again by build_signature, and verify."""
    from gongwen.seals.ses import signature as signature_module

    signer = matched_signer(gm_pki.holder_key, gm_pki.holder_cert)
    checked = []
    real = signature_module.verify_with_cert_key
    monkeypatch.setattr(signature_module, "verify_with_cert_key",
                        lambda *a: checked.append(a) or real(*a))
    built = build_signature(seal_der=our_seal, data_hash=sm3(SIGNATURE_XML),
                            property_info=PROPERTY, signer_cert=gm_pki.holder_cert,
                            sign=signer, signing_time=SIGNED_AT)
    assert checked == []
    assert check_signature(built, SIGNATURE_XML,
                           signer_check=issued_by(gm_pki.root_cert)).valid
    # A plain signer is still checked after signing.
    build_signature(seal_der=our_seal, data_hash=sm3(SIGNATURE_XML), property_info=PROPERTY,
                    signer_cert=gm_pki.holder_cert, sign=signer_from_key(gm_pki.holder_key),
                    signing_time=SIGNED_AT)
    assert len(checked) == 1


def test_a_matched_signer_refuses_a_key_of_another_certificate(gm_pki):
    with pytest.raises(KeyMismatch):
        matched_signer(gm_pki.other_key, gm_pki.holder_cert)


def test_a_matched_signer_used_with_another_certificate_is_verified(gm_pki, our_seal):
    """Matched to one certificate, named with another: checked after signing, refused."""
    with pytest.raises(SignatureInvalid):
        build_signature(seal_der=our_seal, data_hash=sm3(b"x"), property_info=PROPERTY,
                        signer_cert=gm_pki.holder_cert,
                        sign=matched_signer(gm_pki.other_key, gm_pki.other_cert),
                        signing_time=SIGNED_AT)


def test_only_matched_signer_makes_a_matched_signer(gm_pki):
    """The skipped verification rests on matched_signer's key comparison: nobody else can
    make a signer that build_signature trusts."""
    from gongwen.seals.ses.seal import MatchedSigner

    with pytest.raises(TypeError):
        MatchedSigner(signer_from_key(gm_pki.other_key), gm_pki.holder_cert)


def test_an_external_signer_is_not_trusted_on_its_word(gm_pki, our_seal):
    """A token reports its public key itself: matched_signer compares it, but its
    signatures are still verified after signing. One whose reported key is the
    certificate's but whose signing key is another is refused by build_signature."""

    class Token:
        def public_key(self):
            return gm_pki.holder_key.public_key()  # claims the holder's key

        def sign_der(self, data):
            from gongwen.pki.suites import sign_data

            return sign_data(gm_pki.other_key, data)  # signs with another

    signer = matched_signer(Token(), gm_pki.holder_cert)
    with pytest.raises(SignatureInvalid):
        build_signature(seal_der=our_seal, data_hash=sm3(b"x"), property_info=PROPERTY,
                        signer_cert=gm_pki.holder_cert, sign=signer, signing_time=SIGNED_AT)


# ------------------------------------------------------------------------ verify failures


def test_changed_data_is_detected(our_signature):
    with pytest.raises(DataHashMismatch) as e:
        verify_signature(our_signature, SIGNATURE_XML + b" ")
    assert "原文摘要" in e.value.message_zh


def test_other_seal_file_is_detected(our_signature, gm_pki, small_png):
    from gongwen.seals.ses.seal import build_seal

    other = build_seal(
        es_id="x1",
        name="另一个印章",
        holder_certs=[gm_pki.holder_cert],
        valid_start=datetime(2025, 3, 1, tzinfo=UTC),
        valid_end=datetime(2027, 3, 1, tzinfo=UTC),
        picture_type="png",
        picture_data=small_png,
        picture_width_mm=42,
        picture_height_mm=42,
        maker_cert=gm_pki.maker_cert,
        sign=signer_from_key(gm_pki.maker_key),
    )
    with pytest.raises(SealFileMismatch):
        verify_signature(our_signature, SIGNATURE_XML, seal_file=other)


def test_swapped_signer_certificate_is_detected(gm_pki, our_signature):
    parts = asn1.split_sequence(our_signature)
    forged = asn1.encode_sequence(
        parts[0], core.OctetString(gm_pki.other_cert).dump(), parts[2], parts[3]
    )
    report = check_signature(forged, SIGNATURE_XML)
    assert not report.valid
    assert {c.name for c in report.failures} == {"signature", "signer_in_seal"}
    with pytest.raises(SignatureInvalid):
        report.raise_for_failure()


def test_signature_by_another_units_key_over_our_seal_is_detected(gm_pki, our_seal):
    """Another unit signs a TBS_Sign that embeds our seal, with its own certificate."""
    tbs = asn1.encode_sequence(
        core.Integer(4).dump(),
        our_seal,
        core.GeneralizedTime(SIGNED_AT).dump(),
        asn1.bit_string(sm3(SIGNATURE_XML)).dump(),
        core.IA5String(PROPERTY).dump(),
    )
    sig = signer_from_key(gm_pki.other_key)(tbs)
    der = asn1.encode_sequence(
        tbs,
        core.OctetString(gm_pki.other_cert).dump(),
        core.ObjectIdentifier(asn1.OID_SM3_WITH_SM2).dump(),
        asn1.bit_string(sig).dump(),
    )
    with pytest.raises(SignerNotInSeal):
        verify_signature(der, SIGNATURE_XML)


def test_signer_check_failure_is_reported(our_signature):
    from gongwen.pki.errors import CertificateRevoked

    def revoked(cert, at):
        raise CertificateRevoked(message_zh="证书已被吊销")

    report = check_signature(our_signature, SIGNATURE_XML, signer_check=revoked)
    failed = report.failures
    assert [c.name for c in failed] == ["signer_certificate"]
    assert isinstance(failed[0].error, SignerCertificateInvalid)
    assert "吊销" in failed[0].error.message_zh


def test_garbage_gives_a_format_failure():
    report = check_signature(b"\x30\x03\x02\x01\x04", b"")
    assert not report.valid and report.checks[0].name == "format"
    with pytest.raises(MalformedSES):
        report.raise_for_failure()


def test_flipped_bytes_never_verify(gm_pki, our_seal, our_signature):
    check = issued_by(gm_pki.root_cert)
    verify_signature(our_signature, SIGNATURE_XML, maker_check=check, signer_check=check)
    for i in flip_positions(len(our_signature)):
        bad = bytearray(our_signature)
        bad[i] ^= 0x04
        with pytest.raises(PKIError):
            verify_signature(bytes(bad), SIGNATURE_XML, maker_check=check, signer_check=check)


def test_flipped_bytes_in_the_signed_data_never_verify(our_signature):
    for i in range(len(SIGNATURE_XML)):
        bad = bytearray(SIGNATURE_XML)
        bad[i] ^= 0x01
        with pytest.raises(DataHashMismatch):
            verify_signature(our_signature, bytes(bad))


# ------------------------------------------------------------------- vectors (SES layer)


def _sign_files(
    ofd: str, sign_dir: str = "Doc_0/Signs/Sign_0"
) -> tuple[bytes, bytes, bytes | None]:
    with zipfile.ZipFile(OFDS / ofd) as z:
        names = set(z.namelist())
        seal = z.read(f"{sign_dir}/Seal.esl") if f"{sign_dir}/Seal.esl" in names else None
        return z.read(f"{sign_dir}/SignedValue.dat"), z.read(f"{sign_dir}/Signature.xml"), seal


@needs_vectors
@pytest.mark.parametrize(
    ("ofd", "sign_dir"),
    [
        ("gomain_test_invoice_v4signed.ofd", "Doc_0/Signs/Sign_0"),
        ("ofdrw_allprotected.ofd", "Doc_0/Signs/Sign_0"),
        ("ofdrw_riding_seal_V4RideRight.ofd", "Doc_0/Signs/Sign_0"),
        ("ofdrw_two_seals_h.ofd", "Doc_0/Signs/Sign_0"),
        ("ofdrw_two_seals_h.ofd", "Doc_0/Signs/Sign_1"),
    ],
)
def test_valid_vector_signatures(ofd, sign_dir):
    sv, xml, seal = _sign_files(ofd, sign_dir)
    report = check_signature(sv, xml, seal_file=seal)
    assert report.valid, report.as_dict()
    info = report.info
    assert info.version == 4
    assert info.property_info == f"/{sign_dir}/Signature.xml"


@needs_vectors
def test_expired_seal_vector_fails_only_on_seal_validity():
    sv, xml, seal = _sign_files("ofdrw_expired_seal_SESV4SignDoc.ofd")
    report = check_signature(sv, xml, seal_file=seal)
    assert [c.name for c in report.failures] == ["seal_validity"]
    assert report.info.signing_time == datetime(2026, 8, 4, 2, 8, 9, tzinfo=UTC)
    with pytest.raises(SigningTimeOutsideSealValidity):
        report.raise_for_failure()


@needs_vectors
def test_dms360_v1_vector_is_invalid_for_the_reasons_listed():
    sv, xml, seal = _sign_files("dms360_v1_gongwen_n.ofd")
    report = check_signature(sv, xml, seal_file=seal)
    info = report.info
    assert info.version == 1 and info.seal.version == 1
    assert info.signing_time == datetime(2020, 1, 25, 7, 31, 56, 377000, tzinfo=UTC)
    assert info.seal.cert_entries == (b"1",)  # IA5String "1" instead of a certificate
    failed = {c.name for c in report.failures}
    # TBS_Sign signature is not over DER(TBS_Sign); certList holds no certificate;
    # dataHash != SM3(Signature.xml) (the XML was re-saved after signing)
    assert failed == {"signature", "signer_in_seal", "data_hash"}
    assert report.check("seal_signature").passed  # the v1 maker signature itself is fine
    assert report.check("seal_file").passed


@needs_vectors
def test_dms360_signature_is_over_the_raw_data_hash():
    """Documents *why* dms360's signature fails: it is SM2 with e = dataHash (no Z, no SM3
    over the TBS). Checked with gmssl's low-level verify (test only)."""
    pytest.importorskip("gmssl.sm2")
    from asn1crypto import x509
    from asn1crypto.algos import DSASignature

    sv, _, _ = _sign_files("dms360_v1_gongwen_n.ofd")
    info = parse_signature(sv)
    pub = x509.Certificate.load(info.signer_cert)["tbs_certificate"]["subject_public_key_info"]
    rs = DSASignature.load(info.signature).native
    crypt = gmssl_sm2(pub["public_key"].native.hex()[2:])
    assert crypt.verify(f"{rs['r']:064x}{rs['s']:064x}", info.data_hash)


@needs_vectors
def test_flipped_bytes_in_a_vector_signature_never_verify():
    sv, xml, seal = _sign_files("ofdrw_allprotected.ofd")
    assert check_signature(sv, xml, seal_file=seal).valid
    for i in flip_positions(len(sv), samples=300):
        bad = bytearray(sv)
        bad[i] ^= 0x10
        report = check_signature(bytes(bad), xml, seal_file=seal)
        assert not report.valid, i


def test_a_replaced_seal_image_is_detected(gm_pki, our_seal, our_signature, small_png):
    """Swap the picture inside the embedded seal (same length, so the DER stays valid)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 255, 255)).save(buf, format="PNG")
    other = buf.getvalue()
    assert len(other) == len(small_png) and other != small_png
    forged = our_signature.replace(small_png, other)
    assert forged != our_signature
    report = check_signature(forged, SIGNATURE_XML, seal_file=our_seal)
    assert {c.name for c in report.failures} == {"signature", "seal_signature", "seal_file"}
