"""用印 pages: the keeper's queue, the seal form with the workstation header, the report."""

from __future__ import annotations

from django.urls import reverse

from gongwen.documents.models import State
from tests.conftest import PASSWORD

from .conftest import PIN


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_queue_seal_form_and_report(client, approved, keeper_b, seal_b, station_b, clerk_b):
    doc = approved()
    _login(client, keeper_b)
    detail = client.get(reverse("web:document", args=[doc.pk])).content.decode()
    assert reverse("web:sealing_form", args=[doc.pk]) in detail  # the keeper's 用印 button
    page = client.get(reverse("web:sealing"))
    assert page.status_code == 200 and doc.title in page.content.decode()
    form = client.get(reverse("web:sealing_form", args=[doc.pk]))
    assert form.status_code == 200 and seal_b.es_id in form.content.decode()
    # without the workstation credential: refused with the reason
    bad = client.post(reverse("web:sealing_form", args=[doc.pk]),
                      {"seal": seal_b.pk, "pin": PIN, "key": "k1"})
    assert "专用计算机" in bad.content.decode()
    ok = client.post(reverse("web:sealing_form", args=[doc.pk]),
                     {"seal": seal_b.pk, "pin": PIN},
                     HTTP_X_GONGWEN_WORKSTATION=station_b)
    assert ok.status_code == 302
    doc.refresh_from_db()
    assert doc.state == State.SEALED
    detail = client.get(reverse("web:document", args=[doc.pk])).content.decode()
    assert reverse("web:sealing_report", args=[doc.pk]) in detail  # 验证报告 link
    report = client.get(reverse("web:sealing_report", args=[doc.pk]) + "?format=ofd")
    assert "结论：有效" in report.content.decode()
    client.logout()
    _login(client, clerk_b)  # no seal keeper role: 403
    assert client.get(reverse("web:sealing")).status_code == 403


def test_batch_sealing_from_the_queue(client, approved, keeper_b, seal_b, station_b, clerk_b,
                                      make_user, bureau, unit_a):
    from gongwen.documents import services
    from gongwen.documents.models import OfficialDocument
    from gongwen.seals.models import SealEvent

    docs = [approved(title=f"关于第{i}项工作的通知") for i in range(2)]
    other = services.create_draft(actor=make_user(bureau, "clerk"), doc_type="notice",
                                  title="关于人社局内部工作的通知", body_text="正文。",
                                  main_units=[unit_a.pk])
    _login(client, keeper_b)
    page = client.get(reverse("web:sealing") + "?all=1").content.decode()
    assert "全选" in page and "批量用印" in page
    assert page.count("checked") == 2  # 全选 checks every document of the queue
    # nothing checked: a Chinese error, nothing sealed
    none = client.post(reverse("web:sealing"), {"seal": seal_b.pk, "pin": PIN},
                       HTTP_X_GONGWEN_WORKSTATION=station_b)
    assert "请勾选要用印的公文" in none.content.decode()
    # a wrong PIN: one form error for the stack (nothing sealed), the selection kept, the
    # PIN counted once
    bad = client.post(reverse("web:sealing"),
                      {"doc": [d.pk for d in docs], "seal": seal_b.pk, "pin": "11112222"},
                      HTTP_X_GONGWEN_WORKSTATION=station_b).content.decode()
    assert bad.count("密钥盘口令验证未通过") == 1
    assert bad.count("checked") == 2
    seal_b.certificate.key_disk.refresh_from_db()
    assert seal_b.certificate.key_disk.failed_attempts == 1
    # the two documents and another unit's one (tampered form): the server re-checks
    ok = client.post(reverse("web:sealing"),
                     {"doc": [d.pk for d in docs] + [other.pk], "seal": seal_b.pk, "pin": PIN},
                     HTTP_X_GONGWEN_WORKSTATION=station_b)
    body = ok.content.decode()
    assert ok.status_code == 200 and body.count("用印完成，公文已用印。") == 2
    assert f"公文（编号 {other.pk}）" in body and "未找到该公文。" in body
    assert other.title not in body  # another unit's document stays invisible
    assert "批量用印：2 件完成，1 件未用印。" in body
    assert all(OfficialDocument.objects.get(pk=d.pk).state == State.SEALED for d in docs)
    assert OfficialDocument.objects.get(pk=other.pk).state == State.DRAFT
    assert SealEvent.objects.filter(seal=seal_b, kind=SealEvent.Kind.USED).count() == 2
    assert "暂无待用印的公文" in body
    client.logout()
    _login(client, clerk_b)  # no seal keeper role: 403 on the batch too
    assert client.post(reverse("web:sealing"),
                       {"doc": [docs[0].pk], "seal": seal_b.pk, "pin": PIN}).status_code == 403
