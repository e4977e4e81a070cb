"""CRLs and chain validation at a given time (hard-fail on stale or missing CRLs).

OpenSSL 3.0 cannot check SM2 CRL signatures made with the default signer ID
(``openssl crl -verify`` has no distid option), so GM CRL signatures are cross-checked
with ``openssl pkeyutl`` over the tbsCertList, and INTL CRLs with ``openssl crl -verify``
and ``openssl verify -crl_check_all``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from asn1crypto import pem

from gongwen.pki import crl, suites, x509
from gongwen.pki.errors import (
    CertificateExpired,
    CertificateRevoked,
    CRLMissing,
    CRLStale,
    InvalidCertificate,
    InvalidSignature,
    MalformedInput,
    PKIError,
)
from tests.tools import needs_tool, run_tool

from .conftest import AT, CRL_NEXT, CRL_THIS, LEAF_PROFILES, T0, VECTORS, Hierarchy

ATTIME = str(int(AT.timestamp()))


def _validate(h: Hierarchy, cert: bytes, at=AT, crls=None, **kw):
    return crl.validate_chain(
        cert, h.anchors, h.intermediates, h.crls if crls is None else crls, at, **kw
    )


def _revoke(h: Hierarchy, ca, serials_reasons, number=2, this=CRL_THIS, nxt=CRL_NEXT):
    return crl.build_crl(
        issuer_cert=ca.cert,
        issuer_key=ca.key,
        revoked=[crl.RevokedEntry(s, t, r) for s, t, r in serials_reasons],
        this_update=this,
        next_update=nxt,
        crl_number=number,
    )


# ------------------------------------------------------------------------------ success


def test_every_profile_validates(hierarchy):
    for profile in LEAF_PROFILES:
        path = _validate(hierarchy, hierarchy.leaves[profile].cert)
        assert [p.dump() for p in path] == [
            hierarchy.leaves[profile].cert,
            hierarchy.city.cert,
            hierarchy.root.cert,
        ]
    path = _validate(hierarchy, hierarchy.county.cert)
    assert path[1].dump() == hierarchy.province.cert
    assert len(_validate(hierarchy, hierarchy.root.cert)) == 1  # an anchor validates itself


def test_usage_requirements(hierarchy):
    ws = hierarchy.leaves["workstation"].cert
    _validate(hierarchy, ws, key_usage={"digital_signature"}, extended_key_usage={"client_auth"})
    with pytest.raises(InvalidCertificate):
        _validate(hierarchy, ws, key_usage={"non_repudiation"})
    with pytest.raises(InvalidCertificate):
        _validate(hierarchy, ws, extended_key_usage={"server_auth"})
    seal = hierarchy.leaves["unit-seal"].cert
    _validate(hierarchy, seal, key_usage={"digital_signature", "non_repudiation"})


# --------------------------------------------------------------------------- revocation


def test_revoked_certificate_fails_after_the_crl(hierarchy):
    h = hierarchy
    leaf = h.leaves["unit-seal"]
    serial = x509.certificate_info(leaf.cert).serial
    revoked_at = AT - timedelta(hours=1)
    new_city_crl = _revoke(h, h.city, [(serial, revoked_at, "key_compromise")])
    crls = [h.root_crl, h.province_crl, new_city_crl]
    _validate(h, leaf.cert)  # the old CRL does not list it
    with pytest.raises(CertificateRevoked) as e:
        _validate(h, leaf.cert, crls=crls)
    assert e.value.reason == "key_compromise"
    assert e.value.revoked_at == revoked_at
    assert "吊销" in e.value.message_zh and "密钥泄露" in e.value.message_zh
    # Before the revocation time the certificate was still good.
    _validate(h, leaf.cert, at=revoked_at - timedelta(minutes=1), crls=crls)
    # When both CRLs are present, the newer (higher cRLNumber) one counts.
    with pytest.raises(CertificateRevoked):
        _validate(h, leaf.cert, crls=[*h.crls, new_city_crl])
    # Other certificates of the same CA are unaffected.
    _validate(h, h.leaves["workstation"].cert, crls=crls)


def test_revoked_intermediate_fails_every_leaf_below_it(hierarchy):
    h = hierarchy
    serial = x509.certificate_info(h.city.cert).serial
    root_crl = _revoke(h, h.root, [(serial, AT - timedelta(days=2), "ca_compromise")])
    with pytest.raises(CertificateRevoked):
        _validate(h, h.leaves["seal-maker"].cert, crls=[root_crl, h.city_crl])
    _validate(h, h.county.cert, crls=[root_crl, h.province_crl])


def test_stale_crl_fails_hard(hierarchy):
    with pytest.raises(CRLStale) as e:
        _validate(hierarchy, hierarchy.leaves["unit-seal"].cert, at=CRL_NEXT + timedelta(seconds=1))
    assert e.value.message_zh
    # Exactly at nextUpdate it is still current.
    _validate(hierarchy, hierarchy.leaves["unit-seal"].cert, at=CRL_NEXT)


def test_missing_crl_fails_hard(hierarchy):
    h = hierarchy
    leaf = h.leaves["unit-seal"].cert
    with pytest.raises(CRLMissing):
        _validate(h, leaf, crls=[h.root_crl, h.province_crl])  # no city CRL
    with pytest.raises(CRLMissing):
        _validate(h, leaf, crls=[h.city_crl])  # no root CRL for the city CA
    with pytest.raises(CRLMissing) as e:
        _validate(h, leaf, crls=[])
    assert "吊销列表" in e.value.message_zh


def test_crl_signed_by_another_key_is_not_used(hierarchy):
    h = hierarchy
    impostor_key = h.suite.generate_key()
    impostor = x509.create_root_ca(
        key=impostor_key, subject=x509.load_certificate(h.city.cert).subject
    )
    forged = crl.build_crl(
        issuer_cert=impostor,
        issuer_key=impostor_key,
        crl_number=9,
        this_update=CRL_THIS,
        next_update=CRL_NEXT,
    )
    with pytest.raises(CRLMissing):
        _validate(h, h.leaves["unit-seal"].cert, crls=[h.root_crl, forged])
    with pytest.raises(InvalidSignature):
        crl.verify_crl_signature(forged, h.city.cert)


# ------------------------------------------------------------------------ other failures


def test_expired_and_not_yet_valid_certificates_fail(hierarchy):
    leaf = hierarchy.leaves["unit-receipt"].cert
    after = T0 + timedelta(days=3 * 365, seconds=1)
    late_crls = [
        crl.build_crl(
            issuer_cert=ca.cert,
            issuer_key=ca.key,
            crl_number=5,
            this_update=after - timedelta(hours=1),
            next_update=after + timedelta(days=1),
        )
        for ca in (hierarchy.root, hierarchy.city)
    ]
    with pytest.raises(CertificateExpired) as e:
        _validate(hierarchy, leaf, at=after, crls=late_crls)
    assert "过期" in e.value.message_zh
    assert isinstance(e.value, InvalidCertificate)
    with pytest.raises(CertificateExpired):
        _validate(hierarchy, leaf, at=T0 - timedelta(seconds=1))


def test_untrusted_or_incomplete_chains_fail(hierarchy, gm_hierarchy):
    h = hierarchy
    leaf = h.leaves["unit-seal"].cert
    other_root_key = h.suite.generate_key()
    other_root = x509.create_root_ca(key=other_root_key, subject="另一个根CA", not_before=T0)
    with pytest.raises(InvalidCertificate):
        crl.validate_chain(leaf, [other_root], h.intermediates, h.crls, AT)
    with pytest.raises(InvalidCertificate):  # intermediate not supplied
        crl.validate_chain(leaf, h.anchors, [], h.crls, AT)
    with pytest.raises(InvalidCertificate):
        crl.validate_chain(leaf, [], h.intermediates, h.crls, AT)
    with pytest.raises(MalformedInput):
        crl.validate_chain(leaf, h.anchors, h.intermediates, h.crls, AT.replace(tzinfo=None))


def test_end_entity_cannot_act_as_issuer(hierarchy):
    """A certificate signed by a leaf's key under the leaf's name fails: the leaf is not
    a CA (basicConstraints cA=FALSE)."""
    h = hierarchy
    leaf = h.leaves["unit-seal"]
    leaf_cert = x509.load_certificate(leaf.cert)
    fake_ca = x509.create_root_ca(key=leaf.key, subject=leaf_cert.subject, not_before=T0)
    child = x509.issue_certificate(
        profile="unit-seal",
        subject="冒充单位",
        public_key=h.suite.generate_key(),
        issuer_key=leaf.key,
        issuer_cert=fake_ca,
        not_before=T0,
    )
    with pytest.raises(InvalidCertificate) as e:
        crl.validate_chain(child, h.anchors, [leaf.cert, *h.intermediates], h.crls, AT)
    assert "CA" in str(e.value)


def test_path_length_constraint_is_enforced(hierarchy):
    """The city CA has pathLen 0: a sub-CA below it may not issue."""
    h = hierarchy
    sub_key = h.suite.generate_key()
    sub = x509.issue_certificate(
        profile="intermediate-ca",
        subject="区级CA",
        public_key=sub_key,
        issuer_key=h.city.key,
        issuer_cert=h.city.cert,
        not_before=T0,
    )
    leaf = x509.issue_certificate(
        profile="unit-seal",
        subject="某街道",
        public_key=h.suite.generate_key(),
        issuer_key=sub_key,
        issuer_cert=sub,
        not_before=T0,
    )
    sub_crl = crl.build_crl(
        issuer_cert=sub,
        issuer_key=sub_key,
        crl_number=1,
        this_update=CRL_THIS,
        next_update=CRL_NEXT,
    )
    with pytest.raises(InvalidCertificate) as e:
        crl.validate_chain(leaf, h.anchors, [*h.intermediates, sub], [*h.crls, sub_crl], AT)
    assert "path length" in str(e.value)


def test_ofdrw_chain_fails_like_openssl_but_signatures_check():
    """ofdrw's test ROOT lacks keyCertSign: openssl verify rejects the chain, so do we,
    while the SM2 certificate signatures themselves (BouncyCastle, default ID) verify."""
    root = VECTORS / "certs" / "ofdrw_ROOT.crt.pem"
    user = VECTORS / "certs" / "ofdrw_USER.crt.pem"
    if not root.exists():
        pytest.skip("shared/vectors not present")
    x509.verify_certificate_signature(user.read_bytes(), root.read_bytes())
    info = x509.certificate_info(user.read_bytes())
    assert info.key_algorithm == "SM2" and info.signature_algorithm == "SM3withSM2"
    assert info.profile is None
    with pytest.raises(InvalidCertificate):
        crl.validate_chain(
            user.read_bytes(), [root.read_bytes()], [], [], info.not_before + timedelta(days=1)
        )


# ----------------------------------------------------------------------------- contents


def test_crl_info_and_reasons(hierarchy):
    h = hierarchy
    entries = [
        (101, AT - timedelta(days=3), "superseded"),
        (102, AT - timedelta(days=2), "unspecified"),
        (103, AT - timedelta(days=1), "cessation-of-operation"),
    ]
    der = _revoke(h, h.city, entries, number=7)
    info = crl.crl_info(der)
    assert info.crl_number == 7
    assert info.issuer_cn == "连云港市电子公文CA"
    assert info.this_update == CRL_THIS and info.next_update == CRL_NEXT
    assert [(e.serial, e.reason) for e in info.revoked] == [
        (101, "superseded"),
        (102, "unspecified"),
        (103, "cessation_of_operation"),
    ]
    c = crl.load_crl(der)
    assert c["tbs_cert_list"]["version"].native == "v2"
    assert c.authority_key_identifier.hex() == x509.certificate_info(h.city.cert).subject_key_id
    assert crl.load_crl(crl.crl_pem(der)).dump() == der
    with pytest.raises(MalformedInput):
        _revoke(h, h.city, [(1, AT, "because")])
    with pytest.raises(MalformedInput):
        crl.build_crl(issuer_cert=h.city.cert, issuer_key=h.province.key, crl_number=1)


@needs_tool("openssl")
def test_openssl_crl_verify_accepts_intl_crls(tmp_path, intl_hierarchy):
    h = intl_hierarchy
    for ca, der in ((h.root, h.root_crl), (h.city, h.city_crl), (h.province, h.province_crl)):
        (tmp_path / "ca.pem").write_bytes(pem.armor("CERTIFICATE", ca.cert))
        (tmp_path / "x.crl").write_bytes(pem.armor("X509 CRL", der))
        proc = run_tool(
            [
                "openssl",
                "crl",
                "-in",
                tmp_path / "x.crl",
                "-noout",
                "-verify",
                "-CAfile",
                tmp_path / "ca.pem",
            ]
        )
        assert b"verify OK" in proc.stdout + proc.stderr


@needs_tool("openssl")
def test_openssl_verify_with_crls_agrees_on_revocation(tmp_path, intl_hierarchy):
    h = intl_hierarchy
    leaf = h.leaves["unit-seal"]
    serial = x509.certificate_info(leaf.cert).serial
    revoked_crl = _revoke(h, h.city, [(serial, AT - timedelta(hours=1), "key_compromise")])
    files = {"root.pem": h.root.cert, "city.pem": h.city.cert, "leaf.pem": leaf.cert}
    for name, der in files.items():
        (tmp_path / name).write_bytes(pem.armor("CERTIFICATE", der))
    (tmp_path / "root.crl").write_bytes(pem.armor("X509 CRL", h.root_crl))

    def run(city_crl: bytes):
        (tmp_path / "city.crl").write_bytes(pem.armor("X509 CRL", city_crl))
        return run_tool(
            [
                "openssl",
                "verify",
                "-attime",
                ATTIME,
                "-crl_check_all",
                "-CRLfile",
                tmp_path / "root.crl",
                "-CRLfile",
                tmp_path / "city.crl",
                "-CAfile",
                tmp_path / "root.pem",
                "-untrusted",
                tmp_path / "city.pem",
                tmp_path / "leaf.pem",
            ],
            check=False,
        )

    assert run(h.city_crl).returncode == 0
    bad = run(revoked_crl)
    assert bad.returncode != 0 and b"revoked" in bad.stdout + bad.stderr


@needs_tool("openssl")
def test_openssl_pkeyutl_verifies_gm_crl_signatures(tmp_path, gm_hierarchy):
    h = gm_hierarchy
    for ca, der in ((h.root, h.root_crl), (h.city, h.city_crl)):
        c = crl.load_crl(der)
        (tmp_path / "tbs.der").write_bytes(c["tbs_cert_list"].dump())
        (tmp_path / "sig.der").write_bytes(c["signature"].native)
        (tmp_path / "pub.pem").write_bytes(pem.armor("PUBLIC KEY", suites.public_key_der(ca.key)))
        run_tool(
            [
                "openssl",
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                tmp_path / "pub.pem",
                "-rawin",
                "-digest",
                "sm3",
                "-pkeyopt",
                "distid:1234567812345678",
                "-in",
                tmp_path / "tbs.der",
                "-sigfile",
                tmp_path / "sig.der",
            ]
        )
    (tmp_path / "x.crl").write_bytes(pem.armor("X509 CRL", h.city_crl))
    text = run_tool(["openssl", "crl", "-in", tmp_path / "x.crl", "-noout", "-text"]).stdout
    assert b"Signature Algorithm: SM2-with-SM3" in text
    assert b"X509v3 CRL Number" in text and b"X509v3 Authority Key Identifier" in text
    assert b"Next Update" in text


def test_errors_are_pki_errors(hierarchy):
    for exc in (CertificateRevoked, CRLMissing, CRLStale, CertificateExpired):
        assert issubclass(exc, PKIError)
