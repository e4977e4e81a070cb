"""The demo PKI (gongwen demo): CAs, seal-maker certificates of the seal authorities, seal
and receipt key disks of the demo units' seal keepers and clerks. Idempotent."""

from __future__ import annotations

import pytest

from gongwen.authority import services
from gongwen.authority.demo import DEMO_PIN, load_pki_demo
from gongwen.authority.models import CARole, Certificate, CertificateAuthority, KeyDisk
from gongwen.cli import main
from gongwen.units.demo import load_demo


@pytest.fixture
def demo(gm, db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_demo()
    return load_pki_demo()


def test_demo_pki_is_complete_and_idempotent(demo):
    assert demo["cas"] == 3 and demo["certificates"] > 10
    assert load_pki_demo() == {"cas": 0, "certificates": 0, "crls": 0}
    makers = Certificate.objects.filter(profile="seal-maker")
    assert {c.unit.name for c in makers} == {"江苏省人民政府办公厅", "连云港市人民政府办公室"}
    assert {c.issuer.role for c in makers} == {CARole.PROVINCIAL, CARole.CITY}
    dhx = Certificate.objects.get(unit__name="东海县人民政府", profile="unit-seal")
    assert dhx.holder.username == "dhx.seal" and dhx.issuer.role == CARole.PROVINCIAL
    receipt = Certificate.objects.get(unit__name="连云港市财政局", profile="unit-receipt")
    assert receipt.holder.username == "czj.clerk" and receipt.issuer.role == CARole.CITY
    # Units that are not networked get no certificates yet.
    assert not Certificate.objects.filter(unit__name="连云港市海州区人民政府").exists()
    for cert in Certificate.objects.all():
        services.validate_certificate(cert)
    disk = KeyDisk.objects.get(certificate=dhx)
    services.open_key_disk(user=dhx.holder, disk=disk, pin=DEMO_PIN)


def test_demo_command_and_logins(gm, db, settings, capsys):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert main(["demo"]) == 0
    assert "demo PKI: created CAs=3" in capsys.readouterr().out
    assert main(["demo"]) == 0
    assert "demo PKI already present" in capsys.readouterr().out
    assert CertificateAuthority.objects.count() == 3
    assert main(["logins"]) == 0
    assert f"PIN，印章管理员与收发员的密钥盘）：{DEMO_PIN}" in capsys.readouterr().out


def test_demo_renews_crls_that_are_due(demo):
    from datetime import timedelta

    from django.utils import timezone

    CertificateAuthority.objects.filter(slug="jiangsu").update(
        crl_next_update=timezone.now() + timedelta(hours=2))
    assert load_pki_demo() == {"cas": 0, "certificates": 0, "crls": 1}
    assert CertificateAuthority.objects.get(slug="jiangsu").crl_number == 2
