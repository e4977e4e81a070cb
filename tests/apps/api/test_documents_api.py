"""发文办理 over REST (issues 7/8 API gap): draft, submit, 核批, 退回修改, 用印 refusals."""

from __future__ import annotations

import uuid

import pytest

from gongwen.audit.models import AuditEntry
from gongwen.documents.models import OfficialDocument

from .test_exchange_api import assert_error, assert_matches

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(api, cast):
    def make(title="关于开展安全生产检查的通知"):
        clerk = api.as_(cast["clerk_a"])
        doc = clerk.post("/api/documents", {"title": title, "body_text": "一、检查范围",
                                            "main_units": [cast["b"].pk],
                                            "main_groups": [cast["group"].pk]},
                         key=uuid.uuid4()).json()
        return clerk.post(f"/api/documents/{doc['id']}/submit").json()

    return make


def test_draft_needs_a_key_and_valid_fields(api, cast, client):
    clerk = api.as_(cast["clerk_a"])
    assert_error(clerk.post("/api/documents", {"title": "无键"}), 400, "invalid")
    assert_error(clerk.post("/api/documents", {"title": ""}, key=uuid.uuid4()), 400)
    assert_error(clerk.post("/api/documents", {"title": "文种错", "doc_type": "poem"},
                            key=uuid.uuid4()), 400)
    assert_error(clerk.post("/api/documents", {"title": "单位错", "main_units": [2_000_000]},
                            key=uuid.uuid4()), 400)
    assert_error(clerk.post("/api/documents", {"title": "单位错", "main_units": [0]},
                            key=uuid.uuid4()), 400)
    for field, value in (("title", "长" * 201), ("note", "注" * 301), ("signers", ["签" * 51]),
                         ("urgency", "特急特急特急")):
        assert_error(clerk.post("/api/documents", {"title": "超长", field: value},
                                key=uuid.uuid4()), 400, "invalid")
    assert_error(api.as_(cast["head_a"]).post("/api/documents", {"title": "领导不起草"},
                                              key=uuid.uuid4()), 403)
    made = clerk.post("/api/documents", {"title": "关于开会的通知", "body_text": "定于明日开会。",
                                         "main_units": [cast["b"].pk]}, key=uuid.uuid4())
    assert made.status_code == 201
    assert_matches(client, made.json(), "/api/documents", "post", "201")
    assert OfficialDocument.objects.count() == 1


def test_a_key_sent_again_with_other_content_is_refused(api, cast):
    clerk = api.as_(cast["clerk_a"])
    key = uuid.uuid4()
    asked = {"title": "关于开会的通知", "body_text": "定于明日开会。", "main_units": [cast["b"].pk]}
    first = clerk.post("/api/documents", asked, key=key)
    assert first.status_code == 201, first.content
    again = clerk.post("/api/documents", asked, key=key)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = clerk.post("/api/documents", {**asked, "title": "关于另一件事的通知"}, key=key)
    assert_error(other, 409, "idempotency_key_reused")
    assert list(OfficialDocument.objects.values_list("title", flat=True)) == ["关于开会的通知"]


def test_unknown_fields_are_refused_not_dropped(api, cast):
    clerk = api.as_(cast["clerk_a"])
    typo = assert_error(clerk.post("/api/documents", {"title": "字段名写错", "main_unit": [cast["b"].pk]},
                                   key=uuid.uuid4()), 400, "invalid")
    assert "main_unit" in typo["message"] and "不是可接受的字段" in typo["message"]
    assert_error(clerk.post("/api/deliveries/1/follow-ups", {"how": "phone", "hwo": "x"},
                            key=uuid.uuid4()), 400, "invalid")
    assert not OfficialDocument.objects.exists()


def test_secrecy_is_refused_with_the_services_reason(api, cast):
    clerk = api.as_(cast["clerk_a"])
    body = assert_error(clerk.post("/api/documents", {"title": "关于某项工作的通知", "secrecy": "秘密",
                                                      "main_units": [cast["b"].pk]},
                                   key=uuid.uuid4()), 400)
    assert "密" in body["message"]
    assert not OfficialDocument.objects.exists()


def test_the_api_sets_the_number_series_and_the_other_draft_fields(api, cast):
    clerk = api.as_(cast["clerk_a"])
    made = clerk.post("/api/documents", {
        "doc_type": "request", "number_series": "请", "title": "关于拨付经费的请示",
        "signers": ["张三"], "main_units": [cast["b"].pk], "copy_number": "000012",
        "date": "2026-11-20", "signature_text": "甲单位"}, key=uuid.uuid4())
    assert made.status_code == 201, made.content
    doc = OfficialDocument.objects.get(pk=made.json()["id"])
    assert (doc.number_series, doc.copy_number, doc.signature_text) == ("请", "000012", "甲单位")
    assert doc.date.isoformat() == "2026-11-20"
    assert_error(clerk.post("/api/documents", {"title": "字号类别错", "number_series": "诗"},
                            key=uuid.uuid4()), 400, "invalid")


def test_approve_and_return_are_the_heads_and_scoped(api, cast, submitted):
    doc = submitted()
    other_head = api.as_(cast["head_b"])
    head = api.as_(cast["head_a"])
    assert [d["id"] for d in head.get("/api/approvals").json()] == [doc["id"]]
    assert other_head.get("/api/approvals").json() == []
    assert_error(other_head.post(f"/api/documents/{doc['id']}/approve", {}), 404)
    assert_error(api.as_(cast["clerk_a"]).get("/api/approvals"), 403)
    back = head.post(f"/api/documents/{doc['id']}/return", {"comment": "请补充检查时间"})
    assert back.status_code == 200 and back.json()["state"] == "returned"
    assert back.json()["review_comment"] == "请补充检查时间"
    assert_error(head.post(f"/api/documents/{doc['id']}/approve", {}), 409, "conflict")
    again = submitted(title="关于开展消防检查的通知")
    approved = head.post(f"/api/documents/{again['id']}/approve", {"comment": "同意"}).json()
    assert approved["state"] == "approved" and approved["doc_number"]
    assert AuditEntry.objects.filter(action="document.approved").count() == 1


def test_sealing_refusals(api, cast, submitted, make_user):
    from gongwen.accounts.models import Role

    doc = submitted()
    keeper_b = api.as_(make_user(cast["b"], Role.SEAL_KEEPER))
    keeper_a = api.as_(make_user(cast["a"], Role.SEAL_KEEPER))
    path = f"/api/documents/{doc['id']}/seal"
    body = {"seal_id": 1, "pin": "12345678", "workstation_credential": "gwws-x"}
    assert_error(keeper_b.post(path, body, key=uuid.uuid4()), 404)       # another unit's
    assert_error(keeper_a.post(path, {**body, "seal_id": 2_000_000}, key=uuid.uuid4()), 404)
    assert_error(keeper_a.post(path, {**body, "seal_id": 2**40}, key=uuid.uuid4()), 400)
    assert_error(keeper_a.post(path, {"seal_id": 1}, key=uuid.uuid4()), 400)
    assert_error(keeper_a.post(path, body), 400)                          # no key
    assert_error(api.as_(cast["clerk_a"]).get("/api/sealing"), 403)
    assert keeper_a.get("/api/sealing").json() == []  # not approved yet


def test_delete_discards_a_draft_only(api, cast, submitted):
    clerk = api.as_(cast["clerk_a"])
    draft = clerk.post("/api/documents", {"title": "关于召开防汛会议的通知", "body_text": "请准时参加。",
                                          "main_units": [cast["b"].pk]}, key=uuid.uuid4()).json()
    assert_error(api.as_(cast["clerk_b"]).delete(f"/api/documents/{draft['id']}"), 404)
    r = clerk.delete(f"/api/documents/{draft['id']}")
    assert r.status_code == 204
    assert not OfficialDocument.objects.filter(pk=draft["id"]).exists()
    assert_error(clerk.delete(f"/api/documents/{draft['id']}"), 404)
    pending = submitted()
    r = clerk.delete(f"/api/documents/{pending['id']}")
    assert r.status_code == 400 and "不能删除" in r.json()["message"]
    assert AuditEntry.objects.filter(action="document.discarded").count() == 1


def test_untypesettable_or_invisible_characters_are_refused_with_the_services_message(api, cast):
    """QA: an emoji title passed 核批 and could never be sealed; a U+202E reversed a title on
    screen. The API gets the same refusal as the web form."""
    clerk = api.as_(cast["clerk_a"])
    for body, message in (
            ({"title": "关于召开庆祝大会的通知😀"},
             "标题中含有无法排版的字符「😀」（U+1F600），请删除或改用其他字符。"),
            ({"title": "关于\u202e知通的会开"},
             "标题中含有不可见的控制字符（U+202E，位于“关于”之后），请删除后重试。"),
            ({"title": "关于开会的通知", "body_text": "请准时\u001b参加。"},
             "正文中含有不可见的控制字符（U+001B，位于“请准时”之后），请删除后重试。"),
            ({"title": "关于开会的通知", "signers": ["张\u200e三"]},
             "签发人中含有不可见的控制字符（U+200E，位于“张”之后），请删除后重试。")):
        refused = assert_error(clerk.post("/api/documents", {**body, "main_units": [cast["b"].pk]},
                                          key=uuid.uuid4()), 400)
        assert refused["message"] == message
    assert not OfficialDocument.objects.exists()


def test_doc_type_defaults_to_notice(api, cast):
    made = api.as_(cast["clerk_a"]).post("/api/documents", {"title": "关于开会的通知"},
                                         key=uuid.uuid4())
    assert made.status_code == 201 and made.json()["doc_type"] == "notice"


@pytest.mark.parametrize("none", ["无", "非密", "公开", "不涉密", ""])
def test_a_secrecy_field_saying_not_classified_is_stored_empty(api, cast, none):
    """OA systems send 密级 "无" for an ordinary document: a draft, not a 500."""
    made = api.as_(cast["clerk_a"]).post("/api/documents", {
        "title": "关于开会的通知", "secrecy": none, "main_units": [cast["b"].pk]},
        key=uuid.uuid4())
    assert made.status_code == 201, made.content
    assert OfficialDocument.objects.get(pk=made.json()["id"]).secrecy == ""


def test_a_lone_surrogate_with_a_key_is_a_400_not_a_500(api, cast):
    response = api.as_(cast["clerk_a"]).post(
        "/api/documents", raw='{"title": "关于\\ud800的通知"}',
        key=uuid.uuid4())
    assert_error(response, 400, "invalid")
    assert not OfficialDocument.objects.exists()
