"""Lifecycle applications (art. 4, 7-9; R-SEAL-3/4): make, reject, revoke, replace, reissue
after loss, return on merge. Each transition audited and idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from gongwen.audit.models import AuditEntry
from gongwen.authority.models import CertStatus, KeyDisk
from gongwen.pki import crl as pki_crl
from gongwen.policy.permissions import NotVisible
from gongwen.seals import services
from gongwen.seals.models import (
    ApplicationKind,
    ApplicationState,
    SealApplication,
    SealEvent,
    SealStatus,
)
from gongwen.seals.ses.image import Emblem
from gongwen.seals.ses.seal import issued_by, parse_seal, verify_seal

from .conftest import MAKER_PIN, PIN, run_make


def _revoked_serials(ca) -> set[int]:
    ca.refresh_from_db()
    return {e.serial for e in pki_crl.crl_info(bytes(ca.crl_der)).revoked}


def test_county_government_seal_is_made_by_the_province(pki, unit_b, province, keeper_b,
                                                        head_b, head_a, province_operator):
    """GIVEN a county government's keeper WHEN the form is filled, signed by the county head,
    approved by 市政府办公室 and executed by 省政府办公厅 THEN the seal carries the national
    emblem at 45 mm, its certificate comes from the provincial CA, and the maker signature
    verifies against the provincial CA."""
    app = run_make(filler=keeper_b, head=head_b, approver=head_a, executor=province_operator,
                   keeper=keeper_b)
    assert app.state == ApplicationState.EXECUTED
    assert app.head_signer == head_b and app.approver == head_a
    assert app.executor == province_operator and app.executed_at
    seal = app.result_seal
    assert seal.status == SealStatus.ACTIVE and seal.keeper == keeper_b
    assert seal.authority == province
    assert seal.emblem == Emblem.NATIONAL_EMBLEM and seal.diameter_mm == 45
    assert seal.certificate.issuer.role == "provincial"
    info = verify_seal(bytes(seal.der), at=datetime.now(UTC),
                       maker_check=issued_by(bytes(pki["provincial"].certificate_der)))
    assert info.name == "东海县人民政府" and info.es_id == seal.es_id
    assert bytes(seal.image_png).startswith(b"\x89PNG")
    assert seal.events.filter(kind=SealEvent.Kind.ISSUED).count() == 1
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"seal.application.filled", "seal.application.signed", "seal.application.approved",
            "seal.application.executed", "seal.issued", "pki.cert.issued"} <= actions
    # Idempotent: executing again returns the same seal.
    again = services.execute_application(actor=province_operator, application_id=app.pk,
                                         keeper_pin=PIN, maker_pin=MAKER_PIN)
    assert again.result_seal_id == seal.pk
    assert AuditEntry.objects.filter(action="seal.issued").count() == 1


def test_city_bureau_seal_is_made_by_the_city_office(pki, unit_a, bureau, clerk_bureau,
                                                     keeper_bureau, head_bureau, head_a,
                                                     operator):
    app = run_make(filler=clerk_bureau, head=head_bureau, approver=head_a, executor=operator,
                   keeper=keeper_bureau)
    seal = app.result_seal
    assert seal.authority == unit_a and seal.certificate.issuer.role == "city"
    assert seal.emblem == Emblem.STAR and seal.diameter_mm == 42
    verify_seal(bytes(seal.der), at=datetime.now(UTC),
                maker_check=issued_by(bytes(pki["city"].certificate_der)))
    assert parse_seal(bytes(seal.der)).name == "连云港市人力资源和社会保障局"


def test_city_office_cannot_make_a_county_seal(pki, keeper_b, head_b, head_a, operator):
    app = services.fill_application(actor=keeper_b, kind="make", reason="制作",
                                    keeper_id=keeper_b.pk)
    services.sign_application(actor=head_b, application_id=app.pk)
    services.approve_application(actor=head_a, application_id=app.pk)
    # Not the city office's form to execute (art. 4): outside its scope, as for 注销.
    with pytest.raises(NotVisible):
        services.execute_application(actor=operator, application_id=app.pk, keeper_pin=PIN,
                                     maker_pin=MAKER_PIN)
    app.refresh_from_db()
    assert app.state == ApplicationState.APPROVED


def test_rejection_carries_a_reason(pki, keeper_b, head_b, head_a):
    app = services.fill_application(actor=keeper_b, kind="make", reason="制作",
                                    keeper_id=keeper_b.pk)
    services.sign_application(actor=head_b, application_id=app.pk)
    with pytest.raises(ValidationError):
        services.reject_application(actor=head_a, application_id=app.pk, reason=" ")
    services.reject_application(actor=head_a, application_id=app.pk, reason="材料不全")
    app.refresh_from_db()
    assert app.state == ApplicationState.REJECTED and app.rejection_reason == "材料不全"
    assert app.rejected_by == head_a
    entry = AuditEntry.objects.get(action="seal.application.rejected")
    assert entry.detail["reason"] == "材料不全"
    with pytest.raises(ValidationError):
        services.approve_application(actor=head_a, application_id=app.pk)


def test_only_the_city_office_approves_and_only_own_head_signs(pki, keeper_b, head_b,
                                                               head_bureau):
    app = services.fill_application(actor=keeper_b, kind="make", reason="制作",
                                    keeper_id=keeper_b.pk)
    with pytest.raises(Exception) as err:
        services.sign_application(actor=head_bureau, application_id=app.pk)
    assert err.value.__class__.__name__ == "NotVisible"
    services.sign_application(actor=head_b, application_id=app.pk)
    with pytest.raises(Exception) as err:
        services.approve_application(actor=head_b, application_id=app.pk)
    assert err.value.__class__.__name__ == "NotVisible"


def test_revoke_updates_the_crl(seal_b, keeper_b, head_b, head_a, province_operator, pki):
    serial = int(seal_b.cert_serial, 16)
    assert serial not in _revoked_serials(pki["provincial"])
    app = run_make(filler=keeper_b, head=head_b, approver=head_a, executor=province_operator,
                   keeper=None, kind=ApplicationKind.REVOKE, seal=seal_b)
    seal_b.refresh_from_db()
    assert app.result_seal is None and seal_b.status == SealStatus.REVOKED
    assert seal_b.certificate.status == CertStatus.REVOKED
    assert serial in _revoked_serials(pki["provincial"])
    assert seal_b.events.filter(kind=SealEvent.Kind.REVOKED).exists()


def test_replace_after_damage_destroys_the_old_key(seal_b, keeper_b, head_b, head_a,
                                                   province_operator):
    old_disk = KeyDisk.objects.get(certificate=seal_b.certificate)
    app = run_make(filler=keeper_b, head=head_b, approver=head_a, executor=province_operator,
                   keeper=None, kind=ApplicationKind.REPLACE_DAMAGED, seal=seal_b)
    seal_b.refresh_from_db()
    old_disk.refresh_from_db()
    assert seal_b.status == SealStatus.DESTROYED
    assert old_disk.is_destroyed and old_disk.encrypted_pem == ""
    new = app.result_seal
    assert new.status == SealStatus.ACTIVE and new.replaces == seal_b
    assert new.es_id != seal_b.es_id and new.keeper == keeper_b
    assert AuditEntry.objects.filter(action="keydisk.destroyed").exists()


def test_reissue_after_loss_revokes_at_once(seal_b, keeper_b, head_b, head_a,
                                            province_operator, pki):
    app = services.fill_application(actor=keeper_b, kind=ApplicationKind.REISSUE_LOST,
                                    reason="密钥盘遗失", seal_id=seal_b.pk)
    seal_b.refresh_from_db()
    # Revoked on the report, before anyone signed or approved.
    assert app.state == ApplicationState.FILLED
    assert seal_b.status == SealStatus.LOST
    assert seal_b.certificate.status == CertStatus.REVOKED
    assert int(seal_b.cert_serial, 16) in _revoked_serials(pki["provincial"])
    lost = AuditEntry.objects.get(action="seal.lost")
    assert lost.actor == keeper_b
    services.sign_application(actor=head_b, application_id=app.pk)
    services.approve_application(actor=head_a, application_id=app.pk)
    app = services.execute_application(actor=province_operator, application_id=app.pk,
                                       keeper_pin=PIN, maker_pin=MAKER_PIN)
    assert app.result_seal.status == SealStatus.ACTIVE
    assert app.result_seal.replaces == seal_b


def test_unit_merge_opens_a_return_application(seal_b, unit_b, make_unit, operator, head_a,
                                               province_operator, keeper_b):
    from gongwen.units.services import merge_unit

    into = make_unit("东海县新单位", level="county", kind="government")
    merge_unit(actor=operator, unit_id=unit_b.pk, into_id=into.pk)
    app = SealApplication.objects.get(seal=seal_b)
    assert app.kind == ApplicationKind.RETURN and app.auto_opened == "merged"
    assert app.state == ApplicationState.FILLED
    # The keeper now belongs to the successor unit; its head signs.
    head = type(keeper_b).objects.create(username="new_head", unit=into)
    head.role_grants.create(role="head")
    services.sign_application(actor=head, application_id=app.pk)
    services.approve_application(actor=head_a, application_id=app.pk)
    services.execute_application(actor=province_operator, application_id=app.pk)
    seal_b.refresh_from_db()
    assert seal_b.status == SealStatus.RETURNED
    assert seal_b.certificate.status == CertStatus.REVOKED


def test_rename_twice_opens_one_return_application(seal_bureau, bureau, operator):
    from gongwen.units.services import rename_unit

    rename_unit(actor=operator, unit_id=bureau.pk, new_name="连云港市人社局")
    services.open_return_applications(unit=bureau, reason="renamed")
    assert SealApplication.objects.filter(seal=seal_bureau, kind="return").count() == 1
