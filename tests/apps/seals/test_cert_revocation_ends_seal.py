"""A seal's certificate revoked in 证书管理 (outside the seal process) ends the seal in the
same transaction: the register says 已注销, its history and the audit trail say why, and
its open forms are closed (QA backlog item 2). The seal.lost entry says the key was
destroyed when a loss destroyed it (item 10)."""

from __future__ import annotations

from django.urls import reverse

from gongwen.audit.models import AuditEntry
from gongwen.authority import services as authority
from gongwen.authority.models import KeyDisk
from gongwen.seals import services
from gongwen.seals.models import (
    ApplicationKind,
    ApplicationState,
    SealEvent,
    SealStatus,
)


def test_revoking_a_seal_certificate_ends_the_seal(seal_bureau, operator, clerk_bureau):
    """GIVEN an active seal with an open 注销 form WHEN the operator revokes its certificate
    in 证书管理 THEN the seal is 已注销 with an event naming the revocation, the audit has
    seal.revoked by the operator, and the form is closed."""
    form = services.fill_application(actor=clerk_bureau, kind=ApplicationKind.REVOKE,
                                     reason="撤销", seal_id=seal_bureau.pk)
    authority.revoke_certificate(actor=operator, cert_id=seal_bureau.certificate_id,
                                 reason="cessation_of_operation", note="紧急吊销")
    seal_bureau.refresh_from_db()
    assert seal_bureau.status == SealStatus.REVOKED
    event = seal_bureau.events.get(kind=SealEvent.Kind.REVOKED)
    assert event.user == operator and "证书管理" in event.note
    entry = AuditEntry.objects.get(action="seal.revoked", target_id=str(seal_bureau.pk))
    assert entry.actor == operator and entry.detail["via"] == "pki.cert.revoked"
    form.refresh_from_db()
    assert form.state == ApplicationState.REJECTED and "证书" in form.rejection_reason


def test_the_seal_process_revokes_once(seal_bureau, clerk_bureau):
    """The loss report revokes through the seal process: one seal.lost, no seal.revoked."""
    services.fill_application(actor=clerk_bureau, kind=ApplicationKind.REISSUE_LOST,
                              reason="遗失", seal_id=seal_bureau.pk)
    seal_bureau.refresh_from_db()
    assert seal_bureau.status == SealStatus.LOST
    assert not AuditEntry.objects.filter(action="seal.revoked").exists()
    assert seal_bureau.events.count() == 2  # issued, lost


def test_the_loss_entry_says_the_key_was_destroyed(seal_bureau, clerk_bureau):
    services.fill_application(actor=clerk_bureau, kind=ApplicationKind.REISSUE_LOST,
                              reason="遗失", seal_id=seal_bureau.pk)
    assert KeyDisk.objects.get(certificate_id=seal_bureau.certificate_id).destroyed_at
    entry = AuditEntry.objects.get(action="seal.lost")
    assert entry.detail["key_destroyed"] is True
    assert "密钥已销毁" in seal_bureau.events.get(kind=SealEvent.Kind.LOST).note


def test_the_certificate_page_warns_that_the_seal_ends_too(client, seal_bureau, operator):
    client.force_login(operator)
    page = client.get(reverse("web:pki_cert", args=[seal_bureau.certificate_id]))
    assert page.status_code == 200
    text = page.content.decode()
    assert seal_bureau.es_id in text and "吊销后该电子印章同时注销" in text
