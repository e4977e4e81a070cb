"""The product's main story over the REST API only: draft → submit → 核批 → 用印 (real seal,
workstation, PIN) → 分发 → the recipient opens it (green report) → 签收 → the receipt file
verifies offline with ``gongwen verify-receipt``; the sender sees 已签收."""

from __future__ import annotations

import uuid

import pytest

from gongwen import cli
from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.exchange import receipts
from gongwen.exchange.models import Receipt

from ..test_exchange_api import assert_error
from .conftest import BODY
from .conftest import PIN as SEAL_PIN

pytestmark = pytest.mark.django_db
RECEIPT_PIN = "80417326"


def test_whole_story_over_the_api(real_sealing, api, clerk_b, head_b, keeper_b, seal_b,
                                  station_b, unit_a, unit_b, make_user, tmp_path, capsys,
                                  django_capture_on_commit_callbacks):
    from gongwen.authority import services as authority

    unit_a.networked = unit_b.networked = True
    unit_a.save()
    unit_b.save()
    receiver = make_user(unit_a, Role.CLERK, username="sfb_receiver")
    authority.issue_certificate(unit=unit_a, profile="unit-receipt", holder=receiver,
                                pin=RECEIPT_PIN)
    clerk, head, keeper = api.as_(clerk_b), api.as_(head_b), api.as_(keeper_b)

    # 起草 and 提交 (a retry with the same key is the same draft).
    draft = {"doc_type": "notice", "title": "关于推行公文无纸化传输工作的通知",
             "body_text": BODY, "main_units": [unit_a.pk],
             "main_recipients_text": "市政府办公室"}
    key = uuid.uuid4()
    created = clerk.post("/api/documents", draft, key=key)
    assert created.status_code == 201, created.content
    assert clerk.post("/api/documents", draft, key=key).status_code == 200
    doc_id = created.json()["id"]
    assert_error(clerk.post("/api/documents", {**draft, "main_units": ["东海"]},
                            key=uuid.uuid4()), 400, "invalid")
    assert clerk.post(f"/api/documents/{doc_id}/submit").json()["state"] == "submitted"

    # 核批: only the head; a return needs comments.
    assert [d["id"] for d in head.get("/api/approvals").json()] == [doc_id]
    assert_error(clerk.post(f"/api/documents/{doc_id}/approve", {"comment": "同意"}), 403)
    assert_error(head.post(f"/api/documents/{doc_id}/return", {"comment": ""}), 400)
    approved = head.post(f"/api/documents/{doc_id}/approve", {"comment": "同意"})
    assert approved.status_code == 200 and approved.json()["doc_number"]
    assert head.post(f"/api/documents/{doc_id}/approve", {}).json()["doc_number"] \
        == approved.json()["doc_number"]  # a retry: never a second number
    assert_error(clerk.post(f"/api/documents/{doc_id}/submit"), 409, "conflict")

    # 用印: seal, workstation credential (header), PIN.
    assert [d["id"] for d in keeper.get("/api/sealing").json()] == [doc_id]
    seal_path = f"/api/documents/{doc_id}/seal"
    assert_error(keeper.post(seal_path, {"seal_id": seal_b.pk, "pin": SEAL_PIN},
                             key=uuid.uuid4()), 403, "forbidden")  # no workstation
    assert_error(keeper.post(seal_path, {"seal_id": seal_b.pk, "pin": "11111111"},
                             key=uuid.uuid4(), **{"X-Gongwen-Workstation": station_b}),
                 400, "wrong_pin")
    assert_error(clerk.post(seal_path, {"seal_id": seal_b.pk, "pin": SEAL_PIN},
                            key=uuid.uuid4(), **{"X-Gongwen-Workstation": station_b}), 403)
    seal_key = uuid.uuid4()
    sealed = keeper.post(seal_path, {"seal_id": seal_b.pk, "pin": SEAL_PIN}, key=seal_key,
                         **{"X-Gongwen-Workstation": station_b})
    assert sealed.status_code == 200, sealed.content
    assert sealed.json()["complete"] and sealed.json()["document"]["state"] == "sealed"
    again = keeper.post(seal_path, {"seal_id": seal_b.pk, "pin": SEAL_PIN,
                                    "workstation_credential": station_b}, key=seal_key)
    assert again.json()["already"] is True
    assert AuditEntry.objects.filter(action="document.sealed").count() == 1

    # 分发.
    with django_capture_on_commit_callbacks(execute=True):
        sent = clerk.post(f"/api/documents/{doc_id}/dispatch", key=uuid.uuid4())
    assert sent.status_code == 201, sent.content
    delivery_id = sent.json()["deliveries"][0]["id"]

    # 收文: the report is green, opening is recorded, 签收 with the PIN.
    me = api.as_(receiver)
    inbox = me.get("/api/inbox").json()
    assert [i["id"] for i in inbox["items"]] == [delivery_id]
    detail = me.get(f"/api/deliveries/{delivery_id}").json()
    assert detail["report"]["valid"] is True, detail["report"]
    assert detail["verification"]["ok"] is True and detail["may_sign"]
    assert me.post(f"/api/deliveries/{delivery_id}/open").json()["state"] == "opened"
    pdf = me.get(f"/api/deliveries/{delivery_id}/file")
    ofd = me.get(f"/api/deliveries/{delivery_id}/file", {"format": "ofd"})
    assert pdf.content.startswith(b"%PDF-") and ofd.content.startswith(b"PK")
    with django_capture_on_commit_callbacks(execute=True):
        signed = me.post(f"/api/deliveries/{delivery_id}/sign", {"pin": RECEIPT_PIN},
                         key=uuid.uuid4())
    assert signed.status_code == 201, signed.content
    number = signed.json()["registration_number"]
    assert number.startswith(unit_a.short_name) and Receipt.objects.count() == 1

    # The receipt file verifies offline; the sender sees 已签收 and is notified.
    data = me.get(f"/api/deliveries/{delivery_id}/receipt").content
    authority.export_trust_bundle(tmp_path / "trust")
    anchors, intermediates, crls = cli._trust_from([str(tmp_path / "trust")])
    check = receipts.verify(data, anchors, intermediates, crls)
    assert check.ok, check
    path = tmp_path / "receipt.json"
    path.write_bytes(data)
    assert cli.main(["verify-receipt", str(path), "--trust", str(tmp_path / "trust")]) == 0
    assert "回执有效" in capsys.readouterr().out
    board = clerk.get(f"/api/dispatches/{sent.json()['id']}").json()
    assert board["counts"]["signed"] == 1
    assert board["deliveries"][0]["state"] == "signed"
    assert board["deliveries"][0]["registration_number"] == number
    notes = clerk.get("/api/notifications").json()
    assert any(n["kind"] == "signed" for n in notes["items"]) and notes["unread"] >= 1


def test_batch_sealing_and_batch_signing_over_the_api(real_sealing, api, clerk_b, head_b,
                                                      keeper_b, seal_b, station_b, unit_a,
                                                      unit_b, make_user,
                                                      django_capture_on_commit_callbacks):
    """批量用印 and 批量签收: one PIN for a stack, one result per item, idempotent retries,
    an item of another unit refused without stopping the others."""
    from gongwen.authority import services as authority

    unit_a.networked = unit_b.networked = True
    unit_a.save()
    unit_b.save()
    receiver = make_user(unit_a, Role.CLERK, username="sfb_receiver2")
    authority.issue_certificate(unit=unit_a, profile="unit-receipt", holder=receiver,
                                pin=RECEIPT_PIN)
    clerk, head, keeper = api.as_(clerk_b), api.as_(head_b), api.as_(keeper_b)
    ids = []
    for title in ("关于做好防汛工作的通知", "关于做好安全生产工作的通知"):
        made = clerk.post("/api/documents", {"doc_type": "notice", "title": title,
                                             "body_text": BODY, "main_units": [unit_a.pk],
                                             "main_recipients_text": "市政府办公室"},
                          key=uuid.uuid4()).json()
        clerk.post(f"/api/documents/{made['id']}/submit")
        head.post(f"/api/documents/{made['id']}/approve", {"comment": "同意"})
        ids.append(made["id"])

    body = {"doc_ids": ids, "seal_id": seal_b.pk, "pin": SEAL_PIN}
    hdr = {"X-Gongwen-Workstation": station_b}
    assert_error(keeper.post("/api/sealing/batch", body, **hdr), 400, "invalid")  # no key
    assert_error(keeper.post("/api/sealing/batch", {**body, "doc_ids": []}, key=uuid.uuid4(),
                             **hdr), 400, "invalid")
    wrong = keeper.post("/api/sealing/batch", {**body, "pin": "11111111"}, key=uuid.uuid4(),
                        **hdr)  # one PIN attempt counted; the stack refused, as 批量签收 is
    assert_error(wrong, 400, "wrong_pin")
    assert "口令错误" in wrong.json()["message"]
    key = uuid.uuid4()
    sealed = keeper.post("/api/sealing/batch", body, key=key, **hdr)
    assert sealed.status_code == 200, sealed.content
    result = sealed.json()
    assert result["sealed"] == 2 and result["refused"] == 0
    assert all(i["sealing"]["document"]["state"] == "sealed" for i in result["items"])
    again = keeper.post("/api/sealing/batch", body, key=key, **hdr).json()
    assert again["sealed"] == 2 and all(i["sealing"]["already"] for i in again["items"])
    assert AuditEntry.objects.filter(action="document.sealed").count() == 2

    deliveries = []
    for doc_id in ids:
        with django_capture_on_commit_callbacks(execute=True):
            sent = clerk.post(f"/api/documents/{doc_id}/dispatch", key=uuid.uuid4()).json()
        deliveries.append(sent["deliveries"][0]["id"])

    me = api.as_(receiver)
    stranger = make_user(unit_b, Role.CLERK, username="dh_clerk2")
    refused = api.as_(stranger).post("/api/inbox/sign",
                                     {"delivery_ids": deliveries, "pin": RECEIPT_PIN},
                                     key=uuid.uuid4())
    assert refused.status_code == 200 and refused.json()["signed"] == 0
    assert {i["error"] for i in refused.json()["items"]} == {"未找到该来文。"}  # not theirs
    assert Receipt.objects.count() == 0
    assert_error(me.post("/api/inbox/sign", {"delivery_ids": deliveries, "pin": "1"},
                         key=uuid.uuid4()), 400)
    key = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        signed = me.post("/api/inbox/sign",
                         {"delivery_ids": [*deliveries, 2_000_000], "pin": RECEIPT_PIN},
                         key=key)
    assert signed.status_code == 200, signed.content
    out = signed.json()
    assert out["signed"] == 2 and out["refused"] == 1
    missing = next(i for i in out["items"] if i["delivery_id"] == 2_000_000)
    assert not missing["ok"] and missing["error"] == "未找到该来文。"
    numbers = {i["receipt"]["registration_number"] for i in out["items"] if i["ok"]}
    assert len(numbers) == 2
    retry = me.post("/api/inbox/sign", {"delivery_ids": deliveries, "pin": RECEIPT_PIN},
                    key=key).json()
    assert {i["receipt"]["registration_number"] for i in retry["items"]} == numbers
    assert Receipt.objects.count() == 2
