"""推行阶段 and paper over REST: the same verbs, permissions and Chinese errors as the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.exchange.models import PaperArrival

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_a(make_user, cast):
    return make_user(cast["a"], Role.OPERATOR, username="sfb_admin")


def _phase(cast, **fields):
    return {"name": "第一阶段", "starts_on": (timezone.localdate() - dt.timedelta(1)).isoformat(),
            "senders": [cast["a"].pk], "request_recipients": [cast["a"].pk],
            "paper_parallel": True, **fields}


def test_phases_over_the_api(api, cast, operator_a):
    empty = api.as_(cast["clerk_b"]).get("/api/policy").json()
    assert empty == {"current": None, "parallel_run": False, "phases": []}
    assert api.as_(cast["clerk_b"]).post("/api/policy/phases", _phase(cast)).status_code == 403
    resp = api.as_(operator_a).post("/api/policy/phases", _phase(cast))
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["parallel_run"] is True and body["current"]["name"] == "第一阶段"
    assert body["current"]["senders"] == [{"id": cast["a"].pk, "name": cast["a"].name}]
    assert "请示" in body["current"]["scope"]
    phase_id = body["current"]["id"]
    for bad in ([999999], [2**70]):
        resp = api.as_(operator_a).post("/api/policy/phases",
                                        _phase(cast, name="坏", senders=bad,
                                               starts_on="2006-07-24"))
        assert resp.status_code == 400, resp.content
        assert "所选单位不存在" in resp.json()["message"]
    clash = api.as_(operator_a).post("/api/policy/phases", _phase(cast, name="又一个"))
    assert clash.status_code == 400 and "已有推行阶段" in clash.json()["message"]
    later = (timezone.localdate() + dt.timedelta(30)).isoformat()
    resp = api.as_(operator_a).post("/api/policy/phases",
                                    _phase(cast, name="第二阶段", starts_on=later,
                                           all_documents=True, paper_parallel=False))
    phases = resp.json()["phases"]
    assert [p["name"] for p in phases] == ["第一阶段", "第二阶段"]
    assert phases[0]["ends_on"] == (timezone.localdate() + dt.timedelta(29)).isoformat()
    resp = api.as_(operator_a).put(f"/api/policy/phases/{phase_id}",
                                   _phase(cast, note="按通知执行"))
    assert resp.json()["current"]["note"] == "按通知执行"
    resp = api.as_(operator_a).delete(f"/api/policy/phases/{phase_id}")
    assert [p["name"] for p in resp.json()["phases"]] == ["第二阶段"]
    assert AuditEntry.objects.filter(action__startswith="policy.").count() == 4


def test_paper_over_the_api(api, cast, operator_a, dispatched, new_key):
    api.as_(operator_a).post("/api/policy/phases", _phase(cast, all_documents=True))
    sent = dispatched()
    d = sent.deliveries.get(recipient_unit=cast["b"])
    out = api.as_(cast["clerk_a"]).post(f"/api/dispatches/{sent.pk}/paper-copies",
                                        {"delivery_ids": [d.pk], "copies": 3})
    assert out.status_code == 200, out.content
    [row] = out.json()["deliveries"]
    assert (row["paper_copies"], row["parallel_run"]) == (3, True)
    assert api.as_(cast["clerk_b"]).post(f"/api/dispatches/{sent.pk}/paper-copies",
                                         {"copies": 1}).status_code == 404
    bad = api.as_(cast["clerk_a"]).post(f"/api/dispatches/{sent.pk}/paper-copies",
                                        {"copies": 500})
    assert bad.status_code == 400 and "copies" in bad.json()["message"]
    detail = api.as_(cast["clerk_a"]).get(f"/api/dispatches/{sent.pk}").json()
    assert detail["parallel_run"] is True
    assert {x["paper_copies"] for x in detail["deliveries"]} == {0, 3}

    got = api.as_(cast["clerk_b"]).post(f"/api/deliveries/{d.pk}/paper-received", {})
    assert got.json()["paper_received_on"] == timezone.localdate().isoformat()

    arrival = {"sender_unit_id": cast["b"].pk, "title": "关于申请资金的请示",
               "doc_number": "东政发(2006)5号", "is_request": True}
    key = new_key()
    made = api.as_(cast["clerk_a"]).post("/api/paper-arrivals", arrival, key=key)
    assert made.status_code == 201, made.content
    assert made.json()["outcome"] == "refused" and made.json()["doc_number"] == "东政发〔2006〕5号"
    again = api.as_(cast["clerk_a"]).post("/api/paper-arrivals", arrival, key=key)
    assert again.json()["id"] == made.json()["id"] and PaperArrival.objects.count() == 1
    listed = api.as_(cast["clerk_a"]).get("/api/paper-arrivals").json()
    assert listed["count"] == 1 and listed["items"][0]["outcome_label"] == "仅纸质件，不予受理"
    assert api.as_(cast["clerk_b"]).get("/api/paper-arrivals").json()["count"] == 0
    missing = api.as_(cast["clerk_a"]).post("/api/paper-arrivals", arrival)
    assert missing.status_code in (400, 422)
