"""收文 (R-FLOW-2, R-FLOW-3): open, verification, signed receipts verified offline, 退回,
automatic return, 撤回, 收文登记号, overdue reminders."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from gongwen import cli
from gongwen.audit.models import AuditEntry
from gongwen.exchange import hooks, services
from gongwen.exchange.models import Delivery, DeliveryState, Notification, Receipt
from gongwen.pki.errors import WrongPIN

from .conftest import PIN

pytestmark = pytest.mark.django_db


def delivery_to(sent, unit) -> Delivery:
    return sent.deliveries.get(recipient_unit=unit)


def test_clerk_signs_and_receipt_verifies_offline(cast, dispatched, tmp_path, capsys,
                                                   django_capture_on_commit_callbacks):
    """GIVEN a dispatched notice WHEN 东海县's clerk opens it and signs with the PIN THEN a
    signed receipt with a 收文登记号 exists, the sender is told, and the receipt file checks
    out offline with the exported CA certificates; a tampered copy does not."""
    sent = dispatched()
    d = delivery_to(sent, cast["b"])
    d = services.open_delivery(actor=cast["clerk_b"], delivery_id=d.pk)
    assert d.state == DeliveryState.OPENED and d.opened_at
    assert hooks.Report.from_dict(d.verification).ok
    key = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.sign_receipt(actor=cast["clerk_b"], delivery_id=d.pk, pin=PIN,
                                        key=key)
    again = services.sign_receipt(actor=cast["clerk_b"], delivery_id=d.pk, pin=PIN, key=key)
    assert again.pk == receipt.pk and Receipt.objects.count() == 1
    d.refresh_from_db()
    assert d.state == DeliveryState.SIGNED and d.registration_serial == 1
    payload = json.loads(__import__("base64").b64decode(
        json.loads(bytes(receipt.content))["payload"]))
    assert payload["document_fingerprint"] == sent.fingerprint
    assert payload["recipient_unit"] == cast["b"].name
    assert payload["registration_number"] == d.registration_number
    assert Notification.objects.filter(user=cast["clerk_a"], kind="signed").exists()
    assert any("已签收" in m.body for m in mail.outbox if m.to == ["sfb@example.gov.cn"])

    from gongwen.authority.services import export_trust_bundle

    export_trust_bundle(tmp_path / "trust")
    path = tmp_path / "receipt.json"
    path.write_bytes(bytes(receipt.content))
    assert cli.main(["verify-receipt", str(path), "--trust", str(tmp_path / "trust")]) == 0
    assert "回执有效" in capsys.readouterr().out
    doc = json.loads(path.read_text())
    body = json.loads(__import__("base64").b64decode(doc["payload"]))
    body["recipient_unit"] = "赣榆县人民政府"
    doc["payload"] = __import__("base64").b64encode(
        json.dumps(body, ensure_ascii=False).encode()).decode()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert cli.main(["verify-receipt", str(bad), "--trust", str(tmp_path / "trust")]) == 1
    (tmp_path / "junk.json").write_text("not a receipt")
    assert cli.main(["verify-receipt", str(tmp_path / "junk.json"),
                     "--trust", str(tmp_path / "trust")]) == 2


def test_registration_numbers_are_consecutive_per_unit(cast, dispatched):
    numbers = []
    for n in range(3):
        sent = dispatched(title=f"关于第{n + 1}项工作的通知")
        d = delivery_to(sent, cast["b"])
        services.sign_receipt(actor=cast["clerk_b"], delivery_id=d.pk, pin=PIN,
                              key=uuid.uuid4())
        d.refresh_from_db()
        numbers.append(d.registration_serial)
    assert numbers == [1, 2, 3]


def test_wrong_pin_signs_nothing_and_is_counted(cast, dispatched):
    sent = dispatched()
    d = delivery_to(sent, cast["b"])
    with pytest.raises(WrongPIN):
        services.sign_receipt(actor=cast["clerk_b"], delivery_id=d.pk, pin="11112222",
                              key=uuid.uuid4())
    d.refresh_from_db()
    assert d.state == DeliveryState.DELIVERED and not Receipt.objects.exists()
    assert AuditEntry.objects.filter(action="keydisk.pin_wrong").count() == 1


def test_return_reason_is_visible_to_sender(cast, dispatched, client):
    sent = dispatched()
    d = delivery_to(sent, cast["gyx"])
    key = uuid.uuid4()
    services.return_delivery(actor=cast["clerk_gyx"], delivery_id=d.pk,
                             reason="附件缺页，请补发", key=key)
    services.return_delivery(actor=cast["clerk_gyx"], delivery_id=d.pk,
                             reason="附件缺页，请补发", key=key)  # retry: same result
    d.refresh_from_db()
    assert d.state == DeliveryState.RETURNED
    assert AuditEntry.objects.filter(action="exchange.returned").count() == 1
    assert Notification.objects.filter(user=cast["clerk_a"], kind="returned",
                                       text__contains="附件缺页").exists()
    with pytest.raises(ValidationError):
        services.sign_receipt(actor=cast["clerk_gyx"], delivery_id=d.pk, pin=PIN,
                              key=uuid.uuid4())
    from tests.conftest import PASSWORD

    client.login(username="sfb_clerk", password=PASSWORD)
    page = client.get(f"/outbox/{sent.pk}/").content.decode()
    assert "附件缺页，请补发" in page


def test_handled_items_no_longer_count_as_unread_notices(cast, dispatched, make_user, client):
    """QA: a clerk signed an item but its 新来文 notice stayed unread, so the badge counted
    work already done. Opening the item reads one's own notice; 签收 or 退回 reads the
    notices of every clerk of the unit (and 超时 reminders too); other items stay unread."""
    from gongwen.accounts.models import Role
    from tests.conftest import PASSWORD

    second = make_user(cast["b"], Role.CLERK, username="dhx_clerk2")
    sent = dispatched()
    other = dispatched(title="关于做好冬季防火工作的通知")
    d, d_other = delivery_to(sent, cast["b"]), delivery_to(other, cast["b"])

    def unread(user, delivery):
        return Notification.objects.filter(user=user, read_at__isnull=True,
                                           link=f"/inbox/{delivery.pk}/").count()

    assert unread(cast["clerk_b"], d) == unread(second, d) == 1
    assert client.login(username="dhx_clerk", password=PASSWORD)
    client.get(f"/inbox/{d.pk}/")
    assert unread(cast["clerk_b"], d) == 0 and unread(second, d) == 1
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        assert services.send_overdue_reminders() >= 1
    assert unread(second, d) == 2  # 新来文 and 超时
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=d.pk, pin=PIN, key=uuid.uuid4())
    assert unread(second, d) == 0
    assert unread(second, d_other) == 2  # not handled: still counted
    services.return_delivery(actor=second, delivery_id=d_other.pk, reason="请补充附件",
                             key=uuid.uuid4())
    assert unread(cast["clerk_b"], d_other) == unread(second, d_other) == 0


def test_a_paper_delivery_is_not_returned_on_the_platform(cast, dispatched, make_user):
    """QA: 签收 of a paper delivery (a unit not networked) was refused, but 退回 over the API
    went through and told the sender the unit returned it."""
    from gongwen.accounts.models import Role

    sent = dispatched()
    d = delivery_to(sent, cast["hzq"])
    assert d.paper
    clerk = make_user(cast["hzq"], Role.CLERK, username="hzq_clerk")
    with pytest.raises(ValidationError, match="按纸质公文办理，不能在平台上退回"):
        services.return_delivery(actor=clerk, delivery_id=d.pk, reason="不需要",
                                 key=uuid.uuid4())
    d.refresh_from_db()
    assert d.state == DeliveryState.DELIVERED
    assert not Notification.objects.filter(kind="returned").exists()


@pytest.mark.parametrize("verb", ["return", "withdraw"])
def test_a_reason_too_long_is_refused_not_cut(cast, dispatched, verb):
    """The other side reads the reason: cut short without a word (the API sends any length)
    it would say something else."""
    sent = dispatched()
    d = delivery_to(sent, cast["gyx"])
    reason = "附件缺页" * 200
    with pytest.raises(ValidationError, match="原因不能超过"):
        if verb == "return":
            services.return_delivery(actor=cast["clerk_gyx"], delivery_id=d.pk, reason=reason,
                                     key=uuid.uuid4())
        else:
            services.withdraw(actor=cast["clerk_a"], dispatch_id=sent.pk, reason=reason,
                              key=uuid.uuid4())
    d.refresh_from_db()
    assert d.state == DeliveryState.DELIVERED


def test_failed_verification_returns_automatically(cast, dispatched, monkeypatch, settings):
    settings.GONGWEN = {**settings.GONGWEN, "REVERIFY_AFTER_SECONDS": 0}  # always re-verify
    sent = dispatched()
    d = delivery_to(sent, cast["gn"])
    bad = hooks.Report.of([hooks.Check("seal", "电子印章", False, "印章签名无效")])
    monkeypatch.setattr(hooks, "verify_for_receipt", lambda doc, delivery: bad)
    with pytest.raises(ValidationError):
        services.sign_receipt(actor=cast["clerk_gn"], delivery_id=d.pk, pin=PIN,
                              key=uuid.uuid4())
    d.refresh_from_db()
    assert d.state == DeliveryState.REJECTED_INVALID
    assert "印章签名无效" in d.return_reason
    assert not Receipt.objects.exists()
    assert Notification.objects.filter(user=cast["clerk_a"], kind="returned").exists()


def test_tampered_file_fails_integrity(cast, dispatched):
    from gongwen.documents import blobs

    sent = dispatched()
    path = blobs.path_for(sent.fingerprint)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"%tampered")
    d = services.open_delivery(actor=cast["clerk_fgw"],
                               delivery_id=delivery_to(sent, cast["fgw"]).pk)
    assert d.state == DeliveryState.REJECTED_INVALID
    assert "与发出文件一致" in d.return_reason


def test_withdraw_before_signing(cast, dispatched, client):
    sent = dispatched()
    signed = delivery_to(sent, cast["b"])
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=signed.pk, pin=PIN,
                          key=uuid.uuid4())
    with pytest.raises(ValidationError):
        services.withdraw(actor=cast["clerk_a"], dispatch_id=sent.pk, reason="",
                          key=uuid.uuid4())
    services.withdraw(actor=cast["clerk_a"], dispatch_id=sent.pk, reason="发文字号有误，另行发文",
                      key=uuid.uuid4())
    states = dict(sent.deliveries.values_list("recipient_unit__name", "state"))
    assert states[cast["b"].name] == DeliveryState.SIGNED
    assert states[cast["gyx"].name] == DeliveryState.WITHDRAWN
    assert Notification.objects.filter(user=cast["clerk_gyx"], kind="withdrawn").exists()
    d = delivery_to(sent, cast["gyx"])
    with pytest.raises(ValidationError):
        services.sign_receipt(actor=cast["clerk_gyx"], delivery_id=d.pk, pin=PIN,
                              key=uuid.uuid4())
    from tests.conftest import PASSWORD

    client.login(username="gyx_clerk", password=PASSWORD)
    page = client.get(f"/inbox/{d.pk}/").content.decode()
    assert "发文字号有误，另行发文" in page and "已撤回" in page


def test_overdue_after_24_hours_reminds_once(cast, dispatched,
                                             django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sent = dispatched()
    signed = delivery_to(sent, cast["b"])
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=signed.pk, pin=PIN,
                          key=uuid.uuid4())
    gyx = delivery_to(sent, cast["gyx"])
    with time_machine.travel(start + dt.timedelta(hours=23), tick=False):
        assert not Delivery.objects.get(pk=gyx.pk).overdue
        assert services.send_overdue_reminders() == 0
    mail.outbox.clear()
    with time_machine.travel(start + dt.timedelta(hours=24, minutes=1), tick=False):
        assert Delivery.objects.get(pk=gyx.pk).overdue
        assert not Delivery.objects.get(pk=signed.pk).overdue
        with django_capture_on_commit_callbacks(execute=True):
            n = services.send_overdue_reminders()
        assert n == 3  # 赣榆, 灌南, 发改委 (海州区 is on paper, 东海县 signed)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.send_overdue_reminders() == 0  # restart-safe: once per delivery
    assert Notification.objects.filter(user=cast["clerk_gyx"], kind="overdue").count() == 1
    assert [m.to for m in mail.outbox].count(["gyx@example.gov.cn"]) == 1
    assert Notification.objects.filter(user=cast["clerk_a"], kind="overdue").count() == 3


def test_follow_up_is_recorded_by_sender_only(cast, dispatched):
    from django.http import Http404

    sent = dispatched()
    d = delivery_to(sent, cast["gyx"])
    key = uuid.uuid4()
    item = services.record_follow_up(actor=cast["clerk_a"], delivery_id=d.pk, how="phone",
                                     contact="王科长", note="已电话通知，今日签收", key=key)
    assert services.record_follow_up(actor=cast["clerk_a"], delivery_id=d.pk, how="phone",
                                     key=key).pk == item.pk
    with pytest.raises(Http404):
        services.record_follow_up(actor=cast["clerk_gyx"], delivery_id=d.pk, how="phone",
                                  key=uuid.uuid4())


def test_a_receipt_is_never_built_with_a_certificate_of_another_key(cast):
    """The builder checks its own signature with the key of the certificate it names: a
    receipt signed with 东海县's key but naming 赣榆县's certificate is refused, not issued."""
    from gongwen.authority.models import KeyDisk
    from gongwen.authority.services import open_key_disk
    from gongwen.exchange import receipts
    from gongwen.pki.errors import PKIError

    own = KeyDisk.objects.get(holder=cast["clerk_b"])
    other = KeyDisk.objects.get(holder=cast["clerk_gyx"])
    key = open_key_disk(user=cast["clerk_b"], disk=own, pin=PIN)
    payload = {"document_fingerprint": "x", "registration_number": "1"}
    assert receipts.build(payload, key, bytes(own.certificate.der), [], [])
    with pytest.raises(PKIError):
        receipts.build(payload, key, bytes(other.certificate.der), [], [])
