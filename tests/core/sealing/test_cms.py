"""CMS SignedData: structure per suite, DER rules, independent verification, parsing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from asn1crypto import algos as a_algos
from asn1crypto import cms as a_cms
from cryptography import x509 as c_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from gongwen.pki.errors import InvalidSignature, MalformedInput, UnsupportedAlgorithm
from gongwen.sealing import cms

from .conftest import SIGNED_AT

DIGEST = bytes(range(32))


def _build(pki, **kw):
    return cms.CMSBuilder(signer=pki.unit.key, cert_der=pki.unit.cert, chain=pki.chain, **kw)


def _signer_info(der: bytes) -> a_cms.SignerInfo:
    return a_cms.ContentInfo.load(der)["content"]["signer_infos"][0]


def _set_elements(set_der: bytes) -> list[bytes]:
    from gongwen.seals.ses.asn1 import split_sequence

    return split_sequence(set_der, expect_tag=0x31)


def test_intl_pades_attributes(intl_pki):
    b = _build(intl_pki)
    der = b.sign(DIGEST, SIGNED_AT)
    si = _signer_info(der)
    types = [a["type"].dotted for a in si["signed_attrs"]]
    assert set(types) == {
        cms.OID.CONTENT_TYPE,
        cms.OID.MESSAGE_DIGEST,
        cms.OID.SIGNING_CERTIFICATE_V2,
    }
    assert si["digest_algorithm"]["algorithm"].dotted == cms.OID.SHA256
    assert si["signature_algorithm"]["algorithm"].dotted == cms.OID.ECDSA_SHA256
    ess = next(a for a in si["signed_attrs"] if a["type"].dotted == cms.OID.SIGNING_CERTIFICATE_V2)
    cert_id = ess["values"][0]["certs"][0]
    assert cert_id["cert_hash"].native == hashlib.sha256(intl_pki.unit.cert).digest()
    # SHA-256 is ESSCertIDv2's DEFAULT hash: DER leaves it out, the first element is the hash
    assert cert_id.contents[0] == 0x04


def test_gm_attributes_and_ess_hash(gm_pki):
    der = _build(gm_pki).sign(DIGEST, SIGNED_AT)
    si = _signer_info(der)
    st = next(a for a in si["signed_attrs"] if a["type"].dotted == cms.OID.SIGNING_TIME)
    assert st["values"][0].native == SIGNED_AT
    assert st["values"][0].name == "utc_time"
    ess = next(a for a in si["signed_attrs"] if a["type"].dotted == cms.OID.SIGNING_CERTIFICATE_V2)
    cert_id = ess["values"][0]["certs"][0]
    assert cert_id["hash_algorithm"]["algorithm"].dotted == cms.OID.SM3
    from gongwen.pki.suites import sm3

    assert cert_id["cert_hash"].native == sm3(gm_pki.unit.cert)


def test_signed_attributes_are_a_sorted_der_set(pki):
    b = _build(pki)
    attrs = b.signed_attributes(DIGEST, SIGNED_AT)
    assert attrs[0] == 0x31
    elements = _set_elements(attrs)
    assert elements == sorted(elements)
    der = b.sign(DIGEST, SIGNED_AT)
    assert cms.parse_cms(der).signed_attrs_der == b.signed_attributes(DIGEST, SIGNED_AT)


def test_intl_signature_verifies_with_cryptography(intl_pki):
    """Independent of gongwen.pki: cryptography verifies ECDSA over the signed attributes."""
    der = _build(intl_pki).sign(DIGEST, SIGNED_AT)
    si = _signer_info(der)
    attrs = b"\x31" + si["signed_attrs"].dump()[1:]
    pub = c_x509.load_der_x509_certificate(intl_pki.unit.cert).public_key()
    pub.verify(si["signature"].native, attrs, ec.ECDSA(hashes.SHA256()))


def test_max_size_bounds_the_signature(pki):
    b = _build(pki)
    limit = b.max_size()
    for _ in range(20):
        assert len(b.sign(DIGEST, datetime.now(UTC))) <= limit


def test_parse_and_verify_round_trip(pki):
    der = _build(pki).sign(DIGEST, SIGNED_AT)
    p = cms.parse_cms(der)
    assert p.message_digest == DIGEST
    assert p.signer_cert_der == pki.unit.cert
    assert p.certificates == [pki.unit.cert, pki.city.cert]
    assert p.suite_name == pki.suite.name
    cms.verify_cms_signature(p)
    assert cms.check_signing_certificate(p)[0] is True
    p.signed_attrs_der = p.signed_attrs_der[:-1] + bytes([p.signed_attrs_der[-1] ^ 1])
    with pytest.raises(InvalidSignature):
        cms.verify_cms_signature(p)


def test_sm3_with_sm2_oid_and_gbt35275_content_type_accepted(gm_pki):
    """Other GM signers write SM3withSM2 (1.2.156.10197.1.501) as signatureAlgorithm or
    GB/T 35275's own signedData type (1.2.156.10197.6.1.4.2.2): both verify."""
    b = _build(gm_pki)
    b._sig_alg = cms._alg_id(cms.OID.SM3_WITH_SM2)
    p = cms.parse_cms(b.sign(DIGEST, SIGNED_AT))
    assert p.signature_algorithm_oid == cms.OID.SM3_WITH_SM2
    cms.verify_cms_signature(p)
    sd = a_cms.ContentInfo.load(_build(gm_pki).sign(DIGEST, SIGNED_AT))["content"].dump()
    gm_ci = cms._seq(cms._oid(cms.OID.GM_SIGNED_DATA), cms._tlv(0xA0, sd))
    p = cms.parse_cms(gm_ci)
    assert p.content_type == cms.OID.GM_SIGNED_DATA
    cms.verify_cms_signature(p)


def test_algorithm_must_fit_the_key(gm_pki):
    b = _build(gm_pki)
    b._sig_alg = cms._alg_id(cms.OID.ECDSA_SHA256)
    p = cms.parse_cms(b.sign(DIGEST, SIGNED_AT))
    with pytest.raises(UnsupportedAlgorithm):
        cms.verify_cms_signature(p)


@pytest.mark.parametrize("bad", [b"", b"\x30\x00", b"\x30\x03\x06\x01\x00", bytes(100)])
def test_parse_refuses_garbage(bad):
    with pytest.raises(MalformedInput):
        cms.parse_cms(bad)


def test_builder_refuses_suite_mismatch(gm_pki, intl_pki):
    with pytest.raises(UnsupportedAlgorithm):
        cms.CMSBuilder(signer=gm_pki.unit.key, cert_der=gm_pki.unit.cert, suite="INTL")
    with pytest.raises(MalformedInput):
        cms.CMSBuilder(signer=intl_pki.unit.key, cert_der=intl_pki.other.cert)


def test_register_sm_oids_is_idempotent_and_names_them():
    cms.register_sm_oids()
    cms.register_sm_oids()
    assert a_algos.DigestAlgorithmId("sm3").dotted == cms.OID.SM3
    assert a_algos.SignedDigestAlgorithmId("sm2").dotted == cms.OID.SM2_SIGN
    assert a_algos.SignedDigestAlgorithmId(cms.OID.SM3_WITH_SM2).native == "sm3_sm2"
    assert a_algos.DigestAlgorithmId("sha256").dotted == cms.OID.SHA256


def test_sm3_fallback_hash_copies():
    h = cms._TongsuoSM3()
    h.update(b"ab")
    c = h.copy()
    h.update(b"c")
    c.update(b"c")
    assert h.digest() == c.digest() == hashlib.new("sm3", b"abc").digest()
