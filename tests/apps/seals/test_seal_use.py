"""Seal use (art. 3, 5; R-SEAL-5/6): keeper role + the seal's keeper + an enrolled active
workstation bound to the seal + the key disk PIN. Each missing factor refused and audited."""

from __future__ import annotations

import pytest

from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.seals import services
from gongwen.seals.models import SealEvent
from gongwen.seals.services import SealUseRefused
from gongwen.seals.ses.signature import parse_signature

from .conftest import PIN


@pytest.fixture
def station(seal_b, operator, unit_b):
    return services.enrol_workstation(actor=operator, unit_id=unit_b.pk, name="县府办用印机",
                                      seal_ids=[seal_b.pk])


def _refusals(why: str) -> int:
    return AuditEntry.objects.filter(action="seal.use_refused", detail__why=why).count()


def test_all_factors_open_a_document_sealer_and_log_the_use(seal_b, keeper_b, station):
    sealer = services.authorize_seal_use(user=keeper_b, seal=seal_b,
                                         workstation_credential=station.credential, pin=PIN,
                                         document_ref="东政发〔2025〕1号")
    sv = sealer.seal_document(signature_xml=b"<Signature/>",
                              property_info="/Doc_0/Signs/Sign_0/Signature.xml")
    assert parse_signature(sv).seal.es_id == seal_b.es_id
    use = SealEvent.objects.get(seal=seal_b, kind=SealEvent.Kind.USED)
    assert use.user == keeper_b and use.workstation == station.workstation
    assert use.document_ref == "东政发〔2025〕1号"
    assert AuditEntry.objects.filter(action="seal.used").count() == 1
    # Only document sealing is exposed: an SES_Signature, or a sealed OFD/PDF rendition.
    public = {n for n in dir(sealer) if not n.startswith("_")}
    assert public == {"seal_id", "es_id", "seal_der", "signer_cert_der", "seal_document",
                      "seal_ofd", "seal_pdf"}


def test_refuses_without_keeper_role(seal_b, make_user, unit_b, station):
    clerk = make_user(unit_b, Role.CLERK)
    with pytest.raises(SealUseRefused, match="印章管理员"):
        services.authorize_seal_use(user=clerk, seal=seal_b,
                                    workstation_credential=station.credential, pin=PIN)
    assert _refusals("role") == 1


def test_refuses_another_keeper(seal_b, make_user, unit_b, station):
    other = make_user(unit_b, Role.SEAL_KEEPER)
    with pytest.raises(SealUseRefused, match="指定保管人"):
        services.authorize_seal_use(user=other, seal=seal_b,
                                    workstation_credential=station.credential, pin=PIN)
    assert _refusals("keeper") == 1


def test_refuses_an_unenrolled_or_retired_workstation(seal_b, keeper_b, station, operator):
    with pytest.raises(SealUseRefused, match="专用计算机"):
        services.authorize_seal_use(user=keeper_b, seal=seal_b,
                                    workstation_credential="gwws-forged", pin=PIN)
    services.retire_workstation(actor=operator, workstation_id=station.workstation.pk)
    with pytest.raises(SealUseRefused, match="专用计算机"):
        services.authorize_seal_use(user=keeper_b, seal=seal_b,
                                    workstation_credential=station.credential, pin=PIN)
    assert _refusals("workstation") == 2


def test_refuses_a_workstation_not_bound_to_the_seal(seal_b, keeper_b, operator, unit_b):
    other = services.enrol_workstation(actor=operator, unit_id=unit_b.pk, name="另一台")
    with pytest.raises(SealUseRefused, match="未绑定"):
        services.authorize_seal_use(user=keeper_b, seal=seal_b,
                                    workstation_credential=other.credential, pin=PIN)
    assert _refusals("workstation_not_bound") == 1


def test_wrong_pin_is_counted_by_the_key_disk(seal_b, keeper_b, station):
    with pytest.raises(SealUseRefused, match="口令"):
        services.authorize_seal_use(user=keeper_b, seal=seal_b,
                                    workstation_credential=station.credential, pin="11112222")
    assert _refusals("pin") == 1
    seal_b.certificate.key_disk.refresh_from_db()
    assert seal_b.certificate.key_disk.failed_attempts == 1
    assert AuditEntry.objects.filter(action="keydisk.pin_wrong").count() == 1
    assert not SealEvent.objects.filter(kind=SealEvent.Kind.USED).exists()


def test_refuses_a_key_disk_whose_key_is_not_the_seal_certificates(seal_b, keeper_b, station):
    """The key disk's key is compared with the seal's certificate when the seal is opened
    (the signatures of a stack are then not verified one by one): a disk holding another
    key is refused before anything is signed, and the refusal is audited."""
    from gongwen.pki.keystore import encrypt_private_key
    from gongwen.pki.suites import get_suite

    disk = seal_b.certificate.key_disk
    disk.encrypted_pem = encrypt_private_key(get_suite("GM").generate_key(), PIN,
                                             iterations=1000).decode()
    disk.save(update_fields=["encrypted_pem"])
    with pytest.raises(SealUseRefused, match="不匹配"):
        services.authorize_seal_use(user=keeper_b, seal=seal_b,
                                    workstation_credential=station.credential, pin=PIN)
    assert _refusals("key_mismatch") == 1
    assert not SealEvent.objects.filter(kind=SealEvent.Kind.USED).exists()


def test_refuses_a_revoked_seal(seal_b, keeper_b, station):
    services.fill_application(actor=keeper_b, kind="reissue_lost", reason="遗失",
                              seal_id=seal_b.pk)
    with pytest.raises(SealUseRefused, match="挂失"):
        services.authorize_seal_use(user=keeper_b, seal=seal_b,
                                    workstation_credential=station.credential, pin=PIN)
    assert _refusals("status") == 1


def test_only_the_operator_enrols_workstations(seal_b, head_b, unit_b):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.enrol_workstation(actor=head_b, unit_id=unit_b.pk, name="x")
