"""init_pki, issuing, revocation and CRLs, validation at a given time (R-PKI-3, R-PKI-4).

Both suites: every test that takes ``suite`` runs for GM and INTL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from gongwen.audit.models import AuditEntry
from gongwen.authority import services
from gongwen.authority.models import (
    CARole,
    Certificate,
    CertificateAuthority,
    CertStatus,
    KeyDisk,
    PublishedCRL,
)
from gongwen.pki import crl as pki_crl
from gongwen.pki import keystore, x509
from gongwen.pki.errors import (
    CertificateRevoked,
    CRLMissing,
    CRLStale,
    InvalidCertificate,
    PINFormatError,
    UnsupportedAlgorithm,
)

from .conftest import PIN


def test_init_is_idempotent(suite, db):
    first = services.init_pki()
    assert sorted(first.created) == ["jiangsu", "lianyungang", "root"]
    second = services.init_pki()
    assert second.created == []
    assert CertificateAuthority.objects.count() == 3
    assert AuditEntry.objects.filter(action="pki.initialised").count() == 1
    cas = {ca.role: ca for ca in second.cas}
    root = cas[CARole.ROOT]
    assert x509.certificate_info(bytes(root.certificate_der)).profile == "root-ca"
    for role in (CARole.PROVINCIAL, CARole.CITY):
        ca = cas[role]
        assert ca.parent_id == root.pk and ca.suite == suite
        info = x509.certificate_info(bytes(ca.certificate_der))
        assert info.is_ca and info.path_length == 0 and info.issuer == root.subject
        assert info.crl_urls == (services.crl_url(root),)
        # The issuing CA itself validates against the root and the root's CRL.
        services.validate_certificate(bytes(ca.certificate_der))
    for ca in cas.values():
        assert ca.crl_number == 1 and ca.crl_der
        assert ca.key_encrypted_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")


def test_init_refuses_a_different_suite(gm, pki):
    with pytest.raises(UnsupportedAlgorithm) as err:
        services.init_pki(suite="INTL")
    assert "GM" in err.value.message_zh


def test_county_certificates_come_from_the_provincial_ca(suite, seal_cert_b, seal_cert_a):
    """Attachment art. 4: county/district governments by the province, city units by the
    city office."""
    assert seal_cert_b.issuer.role == CARole.PROVINCIAL
    assert seal_cert_a.issuer.role == CARole.CITY


def test_issued_certificate_validates_and_its_key_disk_opens(suite, seal_cert_b, keeper_b):
    path = services.validate_certificate(seal_cert_b, key_usage=["non_repudiation"])
    assert len(path) == 3
    info = x509.certificate_info(bytes(seal_cert_b.der))
    assert info.profile == "unit-seal"
    assert info.key_usage == {"digital_signature", "non_repudiation"}
    assert info.crl_urls == (services.crl_url(seal_cert_b.issuer),)
    assert info.key_algorithm == ("SM2" if suite == "GM" else "EC-P256")
    disk = seal_cert_b.key_disk
    assert disk.holder == keeper_b and disk.unit_id == seal_cert_b.unit_id
    assert disk.encrypted_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    details = keystore.key_disk_info(disk.encrypted_pem)
    assert details.cipher == ("sm4-cbc" if suite == "GM" else "aes-256-cbc")
    key = services.open_key_disk(user=keeper_b, disk=disk, pin=PIN)
    # The key in the disk is the one the certificate certifies: a signature verifies.
    from gongwen.pki.suites import sign_data, verify_with_certificate

    verify_with_certificate(bytes(seal_cert_b.der), b"gongwen", sign_data(key, b"gongwen"))
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"pki.cert.issued", "keydisk.created", "keydisk.pin_ok"} <= actions


def test_issue_refuses_bad_requests(gm, pki, unit_a, unit_b, keeper_b, operator, clerk_b):
    with pytest.raises(ValidationError):  # holder of another unit
        services.issue_certificate(unit=unit_a, profile="unit-seal", holder=keeper_b, pin=PIN)
    with pytest.raises(ValidationError):  # a county is no seal authority
        services.issue_certificate(unit=unit_b, profile="seal-maker", holder=keeper_b, pin=PIN)
    with pytest.raises(PINFormatError):
        services.issue_certificate(unit=unit_b, profile="unit-seal", holder=keeper_b, pin="12ab")
    with pytest.raises(PermissionDenied):
        services.issue_certificate(actor=clerk_b, unit=unit_b, profile="unit-seal",
                                   holder=keeper_b, pin=PIN)
    assert not Certificate.objects.exists() and not KeyDisk.objects.exists()
    cert = services.issue_certificate(actor=operator, unit=unit_b, profile="unit-receipt",
                                      holder=clerk_b, pin=PIN)
    assert cert.issued_by == operator


def test_issue_needs_an_initialised_pki(db, unit_b, keeper_b):
    with pytest.raises(services.PKINotInitialised):
        services.issue_certificate(unit=unit_b, profile="unit-seal", holder=keeper_b, pin=PIN)


def test_revoked_certificate_fails_validation_after_the_next_crl(suite, seal_cert_b, operator):
    ca = seal_cert_b.issuer
    old_crl = bytes(ca.crl_der)
    services.validate_certificate(seal_cert_b)
    services.revoke_certificate(actor=operator, cert_id=seal_cert_b.pk, reason="superseded",
                                note="换发")
    seal_cert_b.refresh_from_db()
    ca.refresh_from_db()
    assert seal_cert_b.status == CertStatus.REVOKED and seal_cert_b.revoked_by == operator
    assert ca.crl_number == 2
    info = pki_crl.crl_info(bytes(ca.crl_der))
    assert [(e.serial, e.reason) for e in info.revoked] == [(int(seal_cert_b.serial, 16),
                                                            "superseded")]
    with pytest.raises(CertificateRevoked) as err:
        services.validate_certificate(seal_cert_b)
    assert "吊销" in err.value.message_zh
    # With only the CRL published before the revocation the certificate still passed:
    # revocation takes effect through the next CRL.
    anchors, intermediates, _ = services.trust_material()
    other_crls = [bytes(c.crl_der) for c in CertificateAuthority.objects.exclude(pk=ca.pk)]
    pki_crl.validate_chain(bytes(seal_cert_b.der), anchors, intermediates,
                           [*other_crls, old_crl])
    # Validation at a time before the revocation still succeeds (signatures made then).
    services.validate_certificate(seal_cert_b, at=seal_cert_b.revoked_at - timedelta(minutes=1))
    assert PublishedCRL.objects.filter(ca=ca).count() == 2
    assert AuditEntry.objects.filter(action="pki.cert.revoked").count() == 1
    with pytest.raises(ValidationError):
        services.revoke_certificate(cert_id=seal_cert_b.pk, reason="superseded")


def test_key_compromise_destroys_the_key_disk(gm, seal_cert_b):
    services.revoke_certificate(cert_id=seal_cert_b.pk, reason="keyCompromise")
    disk = KeyDisk.objects.get(certificate=seal_cert_b)
    assert disk.is_destroyed and disk.encrypted_pem == ""
    assert AuditEntry.objects.filter(action="keydisk.destroyed").exists()


def test_unknown_revocation_reason_is_refused(gm, seal_cert_b):
    with pytest.raises(ValidationError):
        services.revoke_certificate(cert_id=seal_cert_b.pk, reason="because")
    with pytest.raises(ValidationError):
        services.revoke_certificate(cert_id=seal_cert_b.pk, reason="ca_compromise")


def test_stale_crl_hard_fails(suite, seal_cert_b):
    ca = seal_cert_b.issuer
    ca.refresh_from_db()
    later = ca.crl_next_update + timedelta(seconds=1)
    with pytest.raises(CRLStale) as err:
        services.validate_certificate(seal_cert_b, at=later)
    assert "过期" in err.value.message_zh
    # A CRL published with a longer nextUpdate covers that time again.
    services.publish_all_crls(validity_days=30)
    services.validate_certificate(seal_cert_b, at=later)


def test_missing_crl_hard_fails(gm, seal_cert_b):
    CertificateAuthority.objects.filter(pk=seal_cert_b.issuer_id).update(crl_der=None)
    with pytest.raises(CRLMissing):
        services.validate_certificate(seal_cert_b)


def test_crl_next_update_is_configurable(gm, pki, settings):
    settings.GONGWEN = {**settings.GONGWEN, "CRL_VALIDITY_DAYS": 3}
    published = services.publish_crl(ca="lianyungang")
    assert published.next_update - published.this_update == timedelta(days=3)
    published = services.publish_crl(ca="lianyungang", validity_days=10)
    assert published.number == 3
    assert published.next_update - published.this_update == timedelta(days=10)
    assert pki_crl.crl_info(bytes(published.der)).crl_number == 3


def test_expired_certificate_is_invalid(gm, seal_cert_b):
    with pytest.raises(InvalidCertificate):
        services.validate_certificate(seal_cert_b, at=seal_cert_b.not_after + timedelta(days=1))


def test_certificate_of_another_hierarchy_is_not_trusted(gm, pki):
    from gongwen.pki.suites import get_suite

    key = get_suite("GM").generate_key()
    stranger = x509.create_root_ca(key=key, subject="伪造CA")
    result = services.check_certificate(stranger)
    assert result.status == "invalid" and "不受信任" in result.message_zh


def test_check_certificate_reports_unreadable_input(gm, pki):
    for data in (b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n"
                                             b"-----END CERTIFICATE-----\n",
                 bytes(CertificateAuthority.objects.first().crl_der)):
        result = services.check_certificate(data)
        assert result.status == "unreadable" and result.message_zh


def test_wrong_ca_passphrase_is_a_clear_error(gm, pki, settings, unit_b, keeper_b):
    settings.GONGWEN = {**settings.GONGWEN, "CA_PASSPHRASE": "another-passphrase"}
    with pytest.raises(services.ImproperPKIConfig) as err:
        services.issue_certificate(unit=unit_b, profile="unit-seal", holder=keeper_b, pin=PIN)
    assert "GONGWEN_CA_PASSPHRASE" in err.value.message_zh


def test_certificate_does_not_outlive_its_ca(gm, pki, unit_b, keeper_b):
    cert = services.issue_certificate(unit=unit_b, profile="unit-seal", holder=keeper_b,
                                      pin=PIN, validity_days=3650 * 3)
    assert cert.not_after <= cert.issuer.not_after
    assert cert.not_after - timezone.now() > timedelta(days=3000)
