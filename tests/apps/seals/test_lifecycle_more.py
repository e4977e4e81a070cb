"""Issue 6 follow-ups: the change application, revocation on behalf of the seal process
with the real actor audited (no MANAGE_PKI for clerks), and the city office's approval of a
unit's own seal system (art. 4 para. 2) in the service and on its operator page."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.authority import services as authority
from gongwen.authority.models import CertStatus
from gongwen.pki import crl as pki_crl
from gongwen.policy.permissions import Perm, can
from gongwen.seals import services
from gongwen.seals.models import (
    ApplicationKind,
    ApplicationState,
    SealEvent,
    SealStatus,
    SelfSealSystemApproval,
)

from .conftest import run_make


def _revoked_serials(ca) -> set[int]:
    ca.refresh_from_db()
    return {e.serial for e in pki_crl.crl_info(bytes(ca.crl_der)).revoked}


def test_change_application_hands_the_seal_to_a_new_keeper(
        seal_bureau, make_user, bureau, clerk_bureau, head_bureau, head_a, operator, pki):
    """GIVEN an active city-bureau seal WHEN its clerk files a change (new keeper), the head
    signs, 市政府办公室 approves and executes THEN the old seal is revoked (superseded, on
    the city CRL) and a new seal, replacing it, is issued to the new keeper."""
    new_keeper = make_user(bureau, Role.SEAL_KEEPER, username="rsj_seal2")
    app = services.fill_application(actor=clerk_bureau, kind=ApplicationKind.CHANGE,
                                    reason="印章管理员调整", seal_id=seal_bureau.pk,
                                    keeper_id=new_keeper.pk)
    assert app.state == ApplicationState.FILLED and app.seal == seal_bureau
    seal_bureau.refresh_from_db()
    assert seal_bureau.status == SealStatus.ACTIVE  # nothing happens before execution
    app = run_make(filler=None, head=head_bureau, approver=head_a, executor=operator,
                   keeper=None, app=app)
    seal_bureau.refresh_from_db()
    new = app.result_seal
    assert seal_bureau.status == SealStatus.REVOKED
    assert seal_bureau.certificate.status == CertStatus.REVOKED
    assert seal_bureau.certificate.revocation_reason == "superseded"
    assert int(seal_bureau.cert_serial, 16) in _revoked_serials(pki["city"])
    assert new.status == SealStatus.ACTIVE and new.keeper == new_keeper
    assert new.replaces == seal_bureau and new.es_id != seal_bureau.es_id
    assert new.name == seal_bureau.name and new.authority == seal_bureau.authority
    assert seal_bureau.events.filter(kind=SealEvent.Kind.REVOKED).exists()
    revoked = AuditEntry.objects.get(action="pki.cert.revoked",
                                     detail__serial=seal_bureau.cert_serial)
    assert revoked.actor == operator and revoked.detail["process"] == "seal.change"


def test_change_needs_a_keeper_of_the_unit(seal_bureau, clerk_bureau, keeper_b):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.fill_application(actor=clerk_bureau, kind=ApplicationKind.CHANGE,
                                  reason="变更", seal_id=seal_bureau.pk, keeper_id=keeper_b.pk)


def test_lost_report_revokes_with_the_clerk_as_actor(seal_bureau, clerk_bureau, pki):
    """The clerk holds no MANAGE_PKI, yet the loss report revokes at once; the authority
    records the clerk (not the CLI, not nobody) as the revoking actor."""
    assert not can(clerk_bureau, Perm.MANAGE_PKI)
    with pytest.raises(PermissionDenied):
        authority.revoke_certificate(actor=clerk_bureau, cert_id=seal_bureau.certificate_id,
                                     reason="key_compromise")
    services.fill_application(actor=clerk_bureau, kind=ApplicationKind.REISSUE_LOST,
                              reason="密钥盘遗失", seal_id=seal_bureau.pk)
    cert = seal_bureau.certificate
    cert.refresh_from_db()
    assert cert.status == CertStatus.REVOKED and cert.revoked_by == clerk_bureau
    assert int(cert.serial, 16) in _revoked_serials(pki["city"])
    entry = AuditEntry.objects.get(action="pki.cert.revoked", detail__serial=cert.serial)
    assert entry.actor == clerk_bureau and entry.actor_name != authority.CLI_ACTOR
    assert entry.detail["process"] == "seal.lost"
    assert AuditEntry.objects.get(action="keydisk.destroyed").actor == clerk_bureau
    crl_entry = AuditEntry.objects.filter(action="pki.crl.published").order_by("-id").first()
    assert crl_entry.actor == clerk_bureau


def test_revoke_for_process_refuses_unknown_processes_and_anonymous_actors(seal_bureau,
                                                                           clerk_bureau):
    with pytest.raises(ValueError):
        authority.revoke_for_process(process="whatever", actor=clerk_bureau,
                                     cert_id=seal_bureau.certificate_id, reason="superseded")
    with pytest.raises(ValueError):
        authority.revoke_for_process(process="seal.lost", actor=None,
                                     cert_id=seal_bureau.certificate_id, reason="superseded")
    seal_bureau.certificate.refresh_from_db()
    assert seal_bureau.certificate.status == CertStatus.VALID


# ------------------------------------------------------------ own seal system (art. 4)


def test_city_office_approves_a_units_own_seal_system(pki, bureau, head_a, head_bureau):
    approval = services.approve_self_seal_system(actor=head_a, unit_id=bureau.pk,
                                                 reference="连政办复〔2006〕12号",
                                                 note="自建印章系统")
    assert approval.unit == bureau and approval.approved_by == head_a
    entry = AuditEntry.objects.get(action="seal.self_system.approved")
    assert entry.actor == head_a and entry.detail["reference"] == "连政办复〔2006〕12号"
    with pytest.raises(Exception) as err:  # a bureau head may not approve (404, audited)
        services.approve_self_seal_system(actor=head_bureau, unit_id=bureau.pk)
    assert err.value.__class__.__name__ == "NotVisible"
    assert SelfSealSystemApproval.objects.count() == 1


def test_self_system_page_lists_and_approves(client, pki, bureau, operator):
    client.force_login(operator)
    page = client.get(reverse("web:seal_self_systems"))
    assert page.status_code == 200 and "暂无批准记录" in page.content.decode()
    r = client.post(reverse("web:seal_self_systems"),
                    {"unit": bureau.pk, "reference": "连政办复〔2006〕12号", "note": "试点"})
    assert r.status_code == 302
    text = client.get(reverse("web:seal_self_systems")).content.decode()
    assert "连云港市人力资源和社会保障局" in text and "连政办复〔2006〕12号" in text
    assert SelfSealSystemApproval.objects.get().approved_by == operator


@pytest.mark.parametrize("who,status", [("head_bureau", 404), ("keeper_b", 403),
                                        ("clerk_bureau", 403)])
def test_self_system_page_is_for_the_city_office(client, request, pki, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("web:seal_self_systems")).status_code == status
    assert client.post(reverse("web:seal_self_systems"), {}).status_code == status
    assert not SelfSealSystemApproval.objects.exists()
