"""The pages of the roll-out (推行阶段), the paper copies and the mail room (纸质来文登记):
what each role sees and may do, and that bad input answers in Chinese, never with a 500."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from gongwen.accounts.models import Role
from gongwen.exchange.models import PaperArrival
from gongwen.policy.models import RolloutPhase
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def operator_a(make_user, cast):
    return make_user(cast["a"], Role.OPERATOR, username="sfb_admin")


def _phase_form(cast, **fields):
    return {"name": "第一阶段", "starts_on": (timezone.localdate() - dt.timedelta(1)).isoformat(),
            "networked_only": "on", "allow_forwarding": "on", "paper_parallel": "on",
            "senders": [cast["a"].pk], "request_recipients": [cast["a"].pk], "note": "",
            **fields}


def test_the_operator_configures_phases_and_everyone_sees_the_phase_in_force(
        cast, operator_a, client):
    login(client, "sfb_admin")
    page = client.get("/policy/").content.decode()
    assert "尚未配置推行阶段" in page and 'id="phase-form"' in page
    resp = client.post("/policy/phases/", _phase_form(cast))
    assert resp.status_code == 302
    phase = RolloutPhase.objects.get()
    assert phase.paper_parallel and list(phase.senders.all()) == [cast["a"]]
    bad = client.post("/policy/phases/", _phase_form(cast, starts_on="2006年7月24日"),
                      follow=True).content.decode()
    assert "起始日期" in bad and RolloutPhase.objects.count() == 1
    edit = client.get(f"/policy/?edit={phase.pk}").content.decode()
    assert "修改“第一阶段”" in edit
    for bad_id in ("abc", "99999", "-1"):
        resp = client.post("/policy/phases/", _phase_form(cast, phase=bad_id), follow=True)
        assert resp.status_code == 200 and "未找到该推行阶段" in resp.content.decode()
    assert client.get("/policy/?edit=abc").status_code == 200

    client.logout()
    login(client, "dhx_clerk")
    page = client.get("/policy/").content.decode()
    assert "当前处于<b>第一阶段</b>" in page and "纸电并行" in page
    assert 'id="phase-form"' not in page and "推行阶段" in page
    assert client.post("/policy/phases/", _phase_form(cast, name="改")).status_code == 403
    assert client.post(f"/policy/phases/{phase.pk}/delete/").status_code == 403
    assert RolloutPhase.objects.get().name == "第一阶段"

    client.logout()
    login(client, "sfb_admin")
    assert client.post(f"/policy/phases/{phase.pk}/delete/").status_code == 302
    assert not RolloutPhase.objects.exists()


def test_a_refused_phase_keeps_the_input_and_says_why_in_chinese(cast, operator_a, client):
    """QA: a second phase starting the same day emptied the form and showed Django's own
    wording (具有 起始日期 的 推行阶段 已存在)."""
    login(client, "sfb_admin")
    assert client.post("/policy/phases/", _phase_form(cast)).status_code == 302
    resp = client.post("/policy/phases/", _phase_form(cast, name="第二阶段",
                                                      note="县区政府开始接入"))
    page = resp.content.decode()
    assert resp.status_code == 400 and RolloutPhase.objects.count() == 1
    assert "同一天只能开始一个阶段" in page and "具有" not in page
    assert 'value="第二阶段"' in page and "县区政府开始接入" in page
    assert re.search(rf'value="{cast["a"].pk}"[^>]*checked', page)


def test_the_sender_records_paper_and_the_recipient_its_arrival(cast, dispatched, client):
    RolloutPhase.objects.create(name="第一阶段", starts_on=timezone.localdate(),
                                all_documents=True, paper_parallel=True)
    sent = dispatched()
    assert sent.parallel_run
    d = sent.deliveries.get(recipient_unit=cast["b"])
    login(client, "sfb_clerk")
    page = client.get(f"/outbox/{sent.pk}/").content.decode()
    assert 'id="paper-form"' in page and "纸电并行期分发" in page
    resp = client.post(f"/outbox/{sent.pk}/paper/", {"deliveries": [d.pk], "copies": "2",
                                                      "sent_on": ""}, follow=True)
    assert "已登记 1 个收文单位的纸质件" in resp.content.decode()
    d.refresh_from_db()
    assert d.paper_copies == 2
    bad = client.post(f"/outbox/{sent.pk}/paper/", {"deliveries": [d.pk], "copies": "-1"},
                      follow=True)
    assert bad.status_code == 200 and "0 至 99" in bad.content.decode()
    assert "2 份" in client.get(f"/outbox/{sent.pk}/").content.decode()

    client.logout()
    login(client, "dhx_clerk")
    page = client.get(f"/inbox/{d.pk}/").content.decode()
    assert "发文单位登记纸质件 2 份" in page and 'id="paper-received-form"' in page
    resp = client.post(f"/inbox/{d.pk}/paper-received/", {"received_on": "not-a-date"},
                       follow=True)
    assert "格式不正确" in resp.content.decode()
    client.post(f"/inbox/{d.pk}/paper-received/", {"received_on": ""})
    d.refresh_from_db()
    assert d.paper_received_on == timezone.localdate()
    # Another unit's clerk reaches neither form.
    other = sent.deliveries.get(recipient_unit=cast["gyx"])
    assert client.post(f"/inbox/{other.pk}/paper-received/").status_code == 404
    assert client.post(f"/outbox/{sent.pk}/paper/", {"copies": "1"}).status_code == 404


def test_the_mail_room_registers_paper(cast, client):
    RolloutPhase.objects.create(name="第一阶段", starts_on=timezone.localdate(),
                                all_documents=True, paper_parallel=True)
    login(client, "sfb_clerk")
    assert 'id="paper-arrivals-link"' in client.get("/inbox/").content.decode()
    page = client.get("/inbox/paper/").content.decode()
    assert 'id="arrival-form"' in page and "纸电并行期" in page
    resp = client.post("/inbox/paper/", {"sender": cast["b"].pk, "title": "关于申请资金的请示",
                                         "doc_number": "东政发[2006]3号", "is_request": "1",
                                         "key": str(uuid.uuid4())}, follow=True)
    text = resp.content.decode()
    assert "不予受理" in text and "东政发〔2006〕3号" in text
    assert PaperArrival.objects.get().outcome == PaperArrival.Outcome.REFUSED
    for bad in ({"sender": "abc", "title": "t"}, {"sender": cast["b"].pk, "title": ""},
                {"sender": cast["b"].pk, "title": "t", "received_on": "2999-01-01"}):
        resp = client.post("/inbox/paper/", {**bad, "key": str(uuid.uuid4())}, follow=True)
        assert resp.status_code == 400 and 'class="msg error' in resp.content.decode()
    # QA: a refused registration emptied the form; now what was typed comes back.
    page = client.post("/inbox/paper/", {
        "sender": cast["gyx"].pk, "title": "关于申请经费的请示", "doc_number": "赣政发〔2006〕3号",
        "is_request": "1", "received_on": "2999-01-01", "note": "机要交换站送达",
        "key": str(uuid.uuid4())}).content.decode()
    assert f'value="{cast["gyx"].pk}" selected' in page and 'value="关于申请经费的请示"' in page
    assert 'value="赣政发〔2006〕3号"' in page and 'id="arrival-request" checked' in page
    assert 'value="机要交换站送达"' in page and 'value="2999-01-01"' in page
    resp = client.post("/inbox/paper/", {"sender": cast["b"].pk, "title": "t"}, follow=True)
    assert "幂等键" in resp.content.decode()
    assert PaperArrival.objects.count() == 1
    client.logout()
    login(client, "sfb_head")
    assert client.get("/inbox/paper/").status_code == 403


def test_statistics_name_the_parallel_run(cast, operator_a, client):
    from gongwen.policy import rollout

    login(client, "sfb_head")
    assert "纸电并行期：" not in client.get("/stats/").content.decode()
    rollout.save_phase(actor=operator_a, data={"name": "第一阶段",
                                               "starts_on": dt.date(2006, 7, 24),
                                               "paper_parallel": True})
    rollout.save_phase(actor=operator_a, data={"name": "第二阶段",
                                               "starts_on": dt.date(2007, 1, 1),
                                               "all_documents": True})
    page = client.get("/stats/").content.decode()
    assert "纸电并行期：2006-07-24 至 2006-12-31（第一阶段）" in page
