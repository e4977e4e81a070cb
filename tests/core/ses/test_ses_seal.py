"""SESeal build / parse / verify (GB/T 38540-2020 v4; GM/T 0031-2014 v1 decode)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from asn1crypto import core

from gongwen.pki.errors import PKIError
from gongwen.pki.x509 import load_certificate
from gongwen.seals.ses import asn1
from gongwen.seals.ses.errors import (
    HolderCertificateMissing,
    MakerCertificateInvalid,
    MalformedSES,
    SealExpired,
    SealNotYetValid,
    SealSignatureInvalid,
    UnsupportedSESAlgorithm,
)
from gongwen.seals.ses.seal import (
    ExtDataValue,
    build_seal,
    chain_check,
    issued_by,
    parse_seal,
    signer_from_key,
    verify_seal,
)
from tests.tools import gmssl_sm2

from .conftest import (
    CERTS,
    IN_VALIDITY,
    flip_positions,
    needs_openssl,
    needs_vectors,
    openssl_sm2_verify,
    pem_cert,
    vector_seal,
)


def _build(gm_pki, png, **over):
    kw = dict(
        es_id="320700000000000002",
        name="连云港市人力资源和社会保障局",
        holder_certs=[gm_pki.holder_cert],
        valid_start=datetime(2025, 3, 1, tzinfo=UTC),
        valid_end=datetime(2027, 3, 1, tzinfo=UTC),
        picture_type="png",
        picture_data=png,
        picture_width_mm=42,
        picture_height_mm=42,
        maker_cert=gm_pki.maker_cert,
        sign=signer_from_key(gm_pki.maker_key),
    )
    kw.update(over)
    return build_seal(**kw)


# ---------------------------------------------------------------------------- roundtrip


def test_roundtrip_build_parse_verify(gm_pki, our_seal, small_png):
    info = verify_seal(our_seal, IN_VALIDITY, maker_check=issued_by(gm_pki.root_cert))
    assert info.version == 4
    assert info.header_version == 4
    assert info.vid == "GONGWEN"
    assert info.es_id == "320700000000000001"
    assert info.name == "连云港市人力资源和社会保障局"
    assert info.type == 1
    assert info.cert_list_type == 1
    assert info.certs == (gm_pki.holder_cert,)
    assert info.create_date == datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    assert info.valid_start == datetime(2025, 3, 1, tzinfo=UTC)
    assert info.valid_end == datetime(2027, 3, 1, tzinfo=UTC)
    assert (info.picture.type, info.picture.data) == ("png", small_png)
    assert (info.picture.width_mm, info.picture.height_mm) == (42, 42)
    assert info.maker_cert == gm_pki.maker_cert
    assert info.algorithm == "1.2.156.10197.1.501"
    assert info.warnings == ()
    assert info.holds_certificate(gm_pki.holder_cert)
    assert not info.holds_certificate(gm_pki.other_cert)
    described = info.describe()
    assert described["name"] == info.name and described["picture"]["width_mm"] == 42


def test_written_seal_is_strict_der_with_the_normative_field_types(our_seal):
    seal = asn1.SESeal.load(our_seal, strict=True)
    native = seal.native  # parses every field with the strict classes
    assert native["eSealInfo"]["header"] == {"ID": "ES", "version": 4, "Vid": "GONGWEN"}
    # re-encoding from the parsed values reproduces the bytes: the output is DER
    assert seal.dump(force=True) == our_seal
    prop = asn1.split_sequence(asn1.split_sequence(asn1.split_sequence(our_seal)[0])[2])
    tags = [p[0] for p in prop]
    # INTEGER, UTF8String, INTEGER, SEQUENCE, 3 × GeneralizedTime
    assert tags == [0x02, 0x0C, 0x02, 0x30, 0x18, 0x18, 0x18]
    assert prop[4][2:] == b"20250301083000Z"
    # BIT STRING with 0 unused bits
    sv = asn1.split_sequence(our_seal)[3]
    assert sv[0] == 0x03 and sv[2 if sv[1] < 0x80 else 3] == 0


def test_maker_signature_covers_der_of_seal_info(our_seal):
    info = parse_seal(our_seal)
    assert info.signed_bytes == asn1.split_sequence(our_seal)[0]


@needs_openssl
def test_maker_signature_verifies_in_openssl(tmp_path, gm_pki, our_seal):
    info = parse_seal(our_seal)
    assert openssl_sm2_verify(tmp_path, gm_pki.maker_key, info.signed_bytes, info.signature)
    # and the check really checks: a different message fails
    assert not openssl_sm2_verify(
        tmp_path, gm_pki.maker_key, info.signed_bytes + b"x", info.signature
    )


def test_ext_datas_roundtrip(gm_pki, small_png):
    der = _build(gm_pki, small_png, ext_datas=[ExtDataValue("1.2.3.4", b"v", critical=True)])
    info = verify_seal(der, IN_VALIDITY)
    assert info.ext_datas == (ExtDataValue("1.2.3.4", b"v", True),)


def test_microseconds_and_offsets_are_normalised_to_utc_seconds(gm_pki, small_png):
    from datetime import timedelta, timezone

    cst = timezone(timedelta(hours=8))
    der = _build(
        gm_pki,
        small_png,
        valid_start=datetime(2025, 3, 1, 8, 0, 0, 123456, tzinfo=cst),
        create_date=datetime(2025, 3, 1, 8, 0, 0, 999, tzinfo=cst),
    )
    info = parse_seal(der)
    assert info.valid_start == datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    assert b"20250301000000Z" in der


# ----------------------------------------------------------------------- build refusals


def test_build_refuses_a_key_that_does_not_match_the_maker_certificate(gm_pki, small_png):
    with pytest.raises(SealSignatureInvalid):
        _build(gm_pki, small_png, sign=signer_from_key(gm_pki.holder_key))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("es_id", "印章"),
        ("es_id", ""),
        ("name", " "),
        ("picture_type", "tiff"),
        ("picture_width_mm", 0),
        ("holder_certs", []),
        ("valid_end", datetime(2024, 1, 1, tzinfo=UTC)),
        ("valid_start", datetime(2025, 3, 1)),  # naive
        ("holder_certs", [b"not a certificate"]),
    ],
)
def test_build_refuses_bad_input(gm_pki, small_png, field, value):
    with pytest.raises(PKIError):
        _build(gm_pki, small_png, **{field: value})


# ---------------------------------------------------------------------- verify failures


def test_validity_period(our_seal):
    with pytest.raises(SealNotYetValid) as e:
        verify_seal(our_seal, datetime(2025, 2, 28, tzinfo=UTC))
    assert "尚未生效" in e.value.message_zh
    with pytest.raises(SealExpired):
        verify_seal(our_seal, datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC))
    verify_seal(our_seal, datetime(2025, 3, 1, tzinfo=UTC))  # bounds are inclusive
    verify_seal(our_seal, datetime(2027, 3, 1, tzinfo=UTC))


def test_maker_check_refuses_a_maker_from_another_ca(gm_pki, our_seal):
    other_root = pem_cert(CERTS / "ofdrw_ROOT.crt.pem")
    with pytest.raises(MakerCertificateInvalid):
        verify_seal(our_seal, IN_VALIDITY, maker_check=issued_by(other_root))


def test_maker_check_refuses_an_expired_maker_certificate(gm_pki, our_seal):
    check = issued_by(gm_pki.root_cert)
    with pytest.raises(MakerCertificateInvalid):
        check(gm_pki.maker_cert, datetime(2031, 1, 1, tzinfo=UTC))


def test_maker_check_errors_are_wrapped(our_seal):
    from gongwen.pki.errors import CertificateRevoked

    def revoked(cert_der, at):
        raise CertificateRevoked(message_zh="证书已被吊销")

    with pytest.raises(MakerCertificateInvalid) as e:
        verify_seal(our_seal, IN_VALIDITY, maker_check=revoked)
    assert "吊销" in e.value.message_zh


def test_chain_check_with_crl(gm_pki, our_seal):
    from gongwen.pki.crl import RevokedEntry, build_crl
    from gongwen.pki.x509 import load_certificate

    this_update = datetime(2025, 12, 31, tzinfo=UTC)
    good = build_crl(
        issuer_cert=gm_pki.root_cert,
        issuer_key=gm_pki.root_key,
        this_update=this_update,
        next_update=datetime(2026, 1, 31, tzinfo=UTC),
        crl_number=1,
    )
    verify_seal(our_seal, IN_VALIDITY, maker_check=chain_check([gm_pki.root_cert], crls=[good]))
    serial = load_certificate(gm_pki.maker_cert)["tbs_certificate"]["serial_number"].native
    revoked = build_crl(
        issuer_cert=gm_pki.root_cert,
        issuer_key=gm_pki.root_key,
        revoked=[RevokedEntry(serial, this_update, "key_compromise")],
        this_update=this_update,
        next_update=datetime(2026, 1, 31, tzinfo=UTC),
        crl_number=2,
    )
    with pytest.raises(MakerCertificateInvalid) as e:
        verify_seal(
            our_seal, IN_VALIDITY, maker_check=chain_check([gm_pki.root_cert], crls=[revoked])
        )
    assert "吊销" in e.value.message_zh
    # no CRL at all: the revocation status is unknown, so the maker is not trusted
    with pytest.raises(MakerCertificateInvalid):
        verify_seal(our_seal, IN_VALIDITY, maker_check=chain_check([gm_pki.root_cert]))


def test_holder_certificate_membership(gm_pki, our_seal):
    verify_seal(our_seal, IN_VALIDITY, holder_cert=gm_pki.holder_cert)
    with pytest.raises(HolderCertificateMissing):
        verify_seal(our_seal, IN_VALIDITY, holder_cert=gm_pki.other_cert)


def test_swapped_maker_certificate_fails(gm_pki, our_seal):
    """Replace SESeal.cert by another certificate: the maker signature no longer verifies."""
    parts = asn1.split_sequence(our_seal)
    cert = core.OctetString(gm_pki.other_cert).dump()
    forged = asn1.encode_sequence(parts[0], cert, parts[2], parts[3])
    with pytest.raises(SealSignatureInvalid):
        verify_seal(forged, IN_VALIDITY)


def test_other_signature_algorithm_is_refused(our_seal):
    parts = asn1.split_sequence(our_seal)
    oid = core.ObjectIdentifier("1.2.156.10197.1.502").dump()  # SHA1withSM2
    with pytest.raises(UnsupportedSESAlgorithm):
        verify_seal(asn1.encode_sequence(parts[0], parts[1], oid, parts[3]), IN_VALIDITY)


def test_nonzero_unused_bits_in_signed_value_is_refused(our_seal):
    parts = asn1.split_sequence(our_seal)
    sv = bytearray(parts[3])
    sv[2] = 1  # unused-bits octet
    with pytest.raises(MalformedSES):
        parse_seal(asn1.encode_sequence(parts[0], parts[1], parts[2], bytes(sv)))


def test_v5_shape_is_detected(our_seal):
    """GM/T 0031-2025 appends timeStamp [0] to SESeal; otherwise the v4 shape."""
    parts = asn1.split_sequence(our_seal)
    ts = asn1.bit_string(b"\x30\x00").dump()
    v5 = asn1.encode_sequence(*parts, b"\xa0" + bytes([len(ts)]) + ts)
    info = parse_seal(v5)
    assert info.version == 5 and info.signed_bytes == parts[0]


def test_odd_header_version_is_a_warning(gm_pki, small_png):
    der = _build(gm_pki, small_png)
    info_der = asn1.split_sequence(der)[0]
    assert b"\x02\x01\x04" in info_der[:20]
    info = parse_seal(der.replace(b"\x16\x02ES\x02\x01\x04", b"\x16\x02ES\x02\x01\x03", 1))
    assert info.warnings == ("header version 3 in a v4-shaped seal",)


def test_trailing_bytes_are_refused(our_seal):
    with pytest.raises(MalformedSES):
        parse_seal(our_seal + b"\x00")


@pytest.mark.parametrize("blob", [b"", b"\x30", b"\x30\x00", b"\x04\x01a", b"\x30\x80\x00\x00"])
def test_garbage_is_malformed(blob):
    with pytest.raises(MalformedSES):
        parse_seal(blob)


def test_flipped_bytes_never_verify(gm_pki, our_seal):
    """Flip one byte at many positions (dense at the start and end, spread elsewhere):
    every variant fails to parse or to verify — none passes."""
    check = issued_by(gm_pki.root_cert)
    verify_seal(our_seal, IN_VALIDITY, maker_check=check)
    positions = flip_positions(len(our_seal))
    assert len(positions) > 500
    for i in positions:
        bad = bytearray(our_seal)
        bad[i] ^= 0x01 if i % 2 else 0xFF
        with pytest.raises(PKIError):
            verify_seal(bytes(bad), IN_VALIDITY, maker_check=check)


# ------------------------------------------------------------------------------ vectors


@needs_vectors
def test_ofdrw_v4_seal_parses_and_verifies():
    der = vector_seal("ofdrw_UserV4.esl")
    root = pem_cert(CERTS / "ofdrw_ROOT.crt.pem")
    info = verify_seal(der, datetime(2021, 4, 22, tzinfo=UTC), maker_check=issued_by(root))
    assert (info.version, info.header_version, info.vid) == (4, 4, "OFDR&WTest")
    assert info.es_id == "51f044b76510434e9bc67a1185c2fba5"
    assert info.name == "OFD R&W 测试用印章"
    assert (info.type, info.cert_list_type, len(info.certs)) == (3, 1, 1)
    assert info.picture.type == "PNG" and info.picture.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (info.picture.width_mm, info.picture.height_mm) == (40, 40)
    assert info.valid_start == datetime(2020, 4, 22, 2, 9, tzinfo=UTC)
    assert info.valid_end == datetime(2022, 4, 22, 2, 9, tzinfo=UTC)
    # the seal's maker certificate is ofdrw's SealBuilder or USER test certificate
    makers = {pem_cert(CERTS / f) for f in ("ofdrw_SealBuilder.crt.pem", "ofdrw_USER.crt.pem")}
    assert info.maker_cert in makers
    assert info.certs[0] in makers


@needs_vectors
def test_ofdrw_v1_seal_decodes_and_verifies_with_the_v1_scope():
    der = vector_seal("ofdrw_UserV1.esl")
    root = pem_cert(CERTS / "ofdrw_ROOT.crt.pem")
    info = verify_seal(der, datetime(2021, 4, 22, tzinfo=UTC), maker_check=issued_by(root))
    assert (info.version, info.header_version) == (1, 1)
    assert info.name == "OFDRW测试用印章"
    assert info.valid_end == datetime(2022, 4, 22, 2, 18, 7, tzinfo=UTC)  # from UTCTime
    parts = asn1.split_sequence(der)
    sign_info = asn1.split_sequence(parts[1])
    assert info.signed_bytes == asn1.encode_sequence(parts[0], sign_info[0], sign_info[1])
    # the strict v1 classes read it too, and it is DER
    strict = asn1.SESealV1.load(der, strict=True)
    assert strict.native["esealInfo"]["property"]["name"] == "OFDRW测试用印章"
    assert strict.dump(force=True) == der


@needs_vectors
def test_gomain_v4_seal_parses_and_verifies():
    der = vector_seal("gomain_test_tax_seal_v4.esl")
    pinned = parse_seal(der).maker_cert

    def pin(cert_der, at):  # no CA for GOMAIN's maker: pin its certificate
        if cert_der != pinned:
            raise MakerCertificateInvalid()

    info = verify_seal(der, datetime(2021, 1, 1, tzinfo=UTC), maker_check=pin)
    assert info.vid == "GOMAIN" and info.es_id == "50011200000399"
    assert info.name == "测试全国统一发票监制章国家税务总局重庆市税务局"
    assert info.picture.type == "ofd" and info.picture.data[:2] == b"PK"
    assert (info.picture.width_mm, info.picture.height_mm) == (30, 20)
    assert info.ext_datas[0].oid == "1.2.156.10197.6.7.2.2.1"
    assert info.ext_datas[0].critical is False


@needs_vectors
@pytest.mark.parametrize("name", ["ofdrw_UserV4.esl", "ofdrw_UserV1.esl"])
def test_ofdrw_seals_reencode_byte_exactly(name):
    der = vector_seal(name)
    cls = asn1.SESealV1 if name.endswith("V1.esl") else asn1.SESeal
    seal = cls.load(der, strict=True)
    seal.native  # noqa: B018
    assert seal.dump(force=True) == der


@needs_vectors
def test_ofdrw_v4_seal_rebuilt_from_values_is_identical():
    der = vector_seal("ofdrw_UserV4.esl")
    n = asn1.SESeal.load(der).native
    prop = n["eSealInfo"]["property"]
    rebuilt = asn1.SESeal(
        {
            "eSealInfo": {
                "header": n["eSealInfo"]["header"],
                "esID": n["eSealInfo"]["esID"],
                "property": asn1.SES_ESPropertyInfo(
                    {**prop, "certList": asn1.CertInfoList(prop["certList"])}
                ),
                "picture": n["eSealInfo"]["picture"],
            },
            "cert": n["cert"],
            "signAlgID": n["signAlgID"],
            "signedValue": asn1.bit_string(asn1.split_sequence(der)[3][3:]),
        }
    ).dump()
    assert rebuilt == der


@needs_vectors
def test_gomain_seal_is_not_der_canonical_but_is_read_as_received():
    """GOMAIN writes ExtData.critical FALSE explicitly (DER omits a DEFAULT): a re-encoding
    differs, and the signature is still verified over the bytes as received."""
    der = vector_seal("gomain_test_tax_seal_v4.esl")
    assert asn1.SESeal.load(der).dump(force=True) != der
    info = parse_seal(der)
    assert info.signed_bytes == der[4 : 4 + 4 + 3874]


@needs_vectors
@needs_openssl
def test_vector_maker_signature_verifies_in_openssl(tmp_path):
    from gongwen.pki.suites import load_public_key

    info = parse_seal(vector_seal("ofdrw_UserV4.esl"))
    spki = load_certificate(info.maker_cert)["tbs_certificate"]["subject_public_key_info"].dump()
    assert openssl_sm2_verify(tmp_path, load_public_key(spki), info.signed_bytes, info.signature)


@needs_vectors
@pytest.mark.parametrize(
    "name", ["ofdrw_UserV4.esl", "ofdrw_UserV1.esl", "gomain_test_tax_seal_v4.esl"]
)
def test_flipped_bytes_in_vector_seals_never_verify(name):
    der = vector_seal(name)
    info = parse_seal(der)
    at = datetime(2021, 5, 1, tzinfo=UTC)
    if name.startswith("ofdrw"):
        check = issued_by(pem_cert(CERTS / "ofdrw_ROOT.crt.pem"))
    else:
        pinned = info.maker_cert

        def check(cert_der, when):
            if cert_der != pinned:
                raise MakerCertificateInvalid()

    verify_seal(der, at, maker_check=check)
    for i in flip_positions(len(der), samples=300):
        bad = bytearray(der)
        bad[i] ^= 0x20
        with pytest.raises(PKIError):
            verify_seal(bytes(bad), at, maker_check=check)


# ------------------------------------------------------------- independent implementations


@needs_openssl
def test_our_seal_parses_field_by_field_in_openssl_asn1parse(tmp_path, our_seal):
    import subprocess

    f = tmp_path / "seal.esl"
    f.write_bytes(our_seal)
    out = subprocess.run(
        ["openssl", "asn1parse", "-inform", "DER", "-in", str(f)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    import re

    fields = []
    for ln in out.splitlines():
        m = re.search(r"prim:\s+([A-Z0-9 ]+?)\s*(?:\[HEX DUMP\])?(?::(.*))?$", ln)
        if m:
            fields.append((m.group(1), (m.group(2) or "").strip()))
    assert fields[:6] == [
        ("IA5STRING", "ES"),
        ("INTEGER", "04"),
        ("IA5STRING", "GONGWEN"),
        ("IA5STRING", "320700000000000001"),
        ("INTEGER", "01"),
        ("UTF8STRING", "连云港市人力资源和社会保障局"),
    ]
    assert fields[6] == ("INTEGER", "01")  # certListType
    assert fields[7][0] == "OCTET STRING"  # the holder certificate
    assert fields[8:11] == [
        ("GENERALIZEDTIME", "20250301083000Z"),
        ("GENERALIZEDTIME", "20250301000000Z"),
        ("GENERALIZEDTIME", "20270301000000Z"),
    ]
    assert fields[11] == ("IA5STRING", "png")
    assert fields[13:15] == [("INTEGER", "2A"), ("INTEGER", "2A")]  # 42 mm
    assert fields[-2] == ("OBJECT", "SM2-with-SM3")
    assert fields[-1][0] == "BIT STRING"


def test_our_maker_signature_verifies_in_gmssl(gm_pki, our_seal):
    """py-gmssl is an independent pure-Python SM2 (signer ID 1234567812345678)."""
    pytest.importorskip("gmssl.sm2")
    from asn1crypto.algos import DSASignature

    info = parse_seal(our_seal)
    spki = load_certificate(gm_pki.maker_cert)["tbs_certificate"]["subject_public_key_info"]
    crypt = gmssl_sm2(spki["public_key"].native.hex()[2:])
    rs = DSASignature.load(info.signature).native
    raw = f"{rs['r']:064x}{rs['s']:064x}"
    assert crypt.verify_with_sm3(raw, info.signed_bytes)
    assert not crypt.verify_with_sm3(raw, info.signed_bytes[:-1] + b"\x00")
