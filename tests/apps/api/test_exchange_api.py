"""The exchange over REST (issue 9): 发文, 收文, tracking, notifications; errors as
{"error", "message"} with 400/401/403/404/409/413 and never a 500 for bad input."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import time_machine
from django.utils import timezone
from jsonschema import Draft202012Validator

from gongwen.audit.models import AuditEntry
from gongwen.exchange.models import Delivery, DeliveryState, Dispatch, FollowUp, Receipt

from .conftest import PIN

pytestmark = pytest.mark.django_db

EXCHANGE_PATHS = {
    "/api/dispatches", "/api/documents/{doc_id}/dispatch", "/api/dispatches/{dispatch_id}",
    "/api/dispatches/{dispatch_id}/withdraw", "/api/tracking",
    "/api/deliveries/{delivery_id}/follow-ups", "/api/inbox", "/api/inbox/counts",
    "/api/deliveries/{delivery_id}", "/api/deliveries/{delivery_id}/open",
    "/api/deliveries/{delivery_id}/sign", "/api/deliveries/{delivery_id}/return",
    "/api/deliveries/{delivery_id}/receipt", "/api/deliveries/{delivery_id}/file",
    "/api/notifications", "/api/notifications/{notification_id}/read",
    "/api/notifications/read-all", "/api/documents", "/api/documents/{doc_id}",
    "/api/documents/{doc_id}/submit", "/api/approvals", "/api/documents/{doc_id}/approve",
    "/api/documents/{doc_id}/return", "/api/sealing", "/api/documents/{doc_id}/seal",
    "/api/sealing/batch", "/api/inbox/sign", "/api/dispatches/batch",
}


def _schema(client) -> dict:
    return client.get("/api/openapi.json").json()


def assert_matches(client, body, path: str, method: str = "get", status: str = "200"):
    """``body`` validates against the response schema the OpenAPI document declares."""
    doc = _schema(client)
    ref = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    Draft202012Validator({**ref, "components": doc["components"]}).validate(body)


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    if code:
        assert body["error"] == code, body
    return body


def delivery_to(sent, unit) -> Delivery:
    return sent.deliveries.get(recipient_unit=unit)


# -- schema and authentication ------------------------------------------------------------------
def test_openapi_schema_has_the_exchange_paths(client):
    schema = _schema(client)
    assert set(schema["paths"]) >= EXCHANGE_PATHS
    sign = schema["paths"]["/api/deliveries/{delivery_id}/sign"]["post"]
    headers = {p["name"]: p for p in sign["parameters"] if p["in"] == "header"}
    assert headers["Idempotency-Key"]["required"] is True
    assert {"200", "201"} <= set(sign["responses"])


def test_no_token_is_401_json(api):
    for response in (api.get("/api/inbox"), api.post("/api/deliveries/1/open"),
                     api.get("/api/inbox", Authorization="Bearer gw_wrong")):
        assert_error(response, 401, "unauthorized")


# -- 发文: dispatch, list, withdraw ---------------------------------------------------------------
def test_dispatch_is_idempotent_and_answers_201_then_200(api, cast, sealed_doc, client):
    doc = sealed_doc()
    clerk = api.as_(cast["clerk_a"])
    assert_error(clerk.post(f"/api/documents/{doc.pk}/dispatch"), 400, "invalid")
    assert_error(clerk.post(f"/api/documents/{doc.pk}/dispatch", key="not-a-uuid"), 400)
    key = uuid.uuid4()
    first = clerk.post(f"/api/documents/{doc.pk}/dispatch", key=key)
    assert first.status_code == 201, first.content
    again = clerk.post(f"/api/documents/{doc.pk}/dispatch", key=key)
    other_click = clerk.post(f"/api/documents/{doc.pk}/dispatch", key=uuid.uuid4())
    assert again.status_code == other_click.status_code == 200
    assert first.json()["id"] == again.json()["id"] == other_click.json()["id"]
    assert Dispatch.objects.filter(document=doc).count() == 1
    body = first.json()
    assert body["counts"]["total"] == 5 == len(body["deliveries"])
    units = {d["recipient_unit"]["name"]: d for d in body["deliveries"]}
    assert units[cast["b"].name]["role"] == "main" and units[cast["hzq"].name]["paper"]
    assert_matches(client, body, "/api/documents/{doc_id}/dispatch", "post", "201")
    # The same key for another document is a conflict, not a second dispatch.
    doc2 = sealed_doc(title="关于另一项工作的通知")
    assert_error(clerk.post(f"/api/documents/{doc2.pk}/dispatch", key=key), 409,
                 "idempotency_key_reused")
    assert AuditEntry.objects.filter(action="exchange.dispatched").count() == 1


def test_dispatch_refusals(api, cast, sealed_doc, make_unit, make_user):
    from gongwen.accounts.models import Role
    from gongwen.documents import services as docs

    doc = sealed_doc()
    assert_error(api.as_(cast["head_a"]).post(f"/api/documents/{doc.pk}/dispatch",
                                              key=uuid.uuid4()), 403, "forbidden")
    assert_error(api.as_(cast["clerk_b"]).post(f"/api/documents/{doc.pk}/dispatch",
                                               key=uuid.uuid4()), 404, "not_found")
    clerk = api.as_(cast["clerk_a"])
    assert_error(clerk.post("/api/documents/999999/dispatch", key=uuid.uuid4()), 404)
    draft = docs.create_draft(actor=cast["clerk_a"], doc_type="notice", title="草稿",
                              body_text="正文", main_units=[cast["b"].pk])
    assert_error(clerk.post(f"/api/documents/{draft.pk}/dispatch", key=uuid.uuid4()), 409,
                 "conflict")
    stranger = make_user(make_unit("无关单位"), Role.CLERK)
    assert_error(api.as_(stranger).post(f"/api/documents/{doc.pk}/dispatch",
                                        key=uuid.uuid4()), 404)
    assert not Dispatch.objects.exists()


def test_outbox_lists_searches_and_pages(api, cast, dispatched, client):
    dispatched(title="关于推行公文无纸化传输工作的通知")
    second = dispatched(title="关于做好防汛工作的通知")
    clerk = api.as_(cast["clerk_a"])
    page = clerk.get("/api/dispatches", {"page_size": 1}).json()
    assert page["count"] == 2 and len(page["items"]) == 1 and page["page"] == 1
    assert_matches(client, page, "/api/dispatches")
    found = clerk.get("/api/dispatches", {"q": "防汛"}).json()
    assert [d["id"] for d in found["items"]] == [second.pk]
    number = second.document.doc_number
    assert [d["id"] for d in clerk.get("/api/dispatches", {"q": number}).json()["items"]] \
        == [second.pk]
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert clerk.get("/api/dispatches", {"date_from": tomorrow}).json()["count"] == 0
    assert clerk.get("/api/dispatches", {"page": 9}).json()["items"] == []
    assert api.as_(cast["clerk_b"]).get("/api/dispatches").json()["count"] == 0
    assert_error(clerk.get("/api/dispatches", {"date_from": "2026-13-45"}), 400, "invalid")
    assert_error(clerk.get("/api/dispatches", {"page_size": 1000}), 400, "invalid")
    assert_error(clerk.get("/api/dispatches", {"q": "字" * 101}), 400, "invalid")


def test_withdraw_with_reason_is_idempotent(api, cast, dispatched):
    sent = dispatched()
    clerk = api.as_(cast["clerk_a"])
    path = f"/api/dispatches/{sent.pk}/withdraw"
    assert_error(clerk.post(path, {"reason": "  "}, key=uuid.uuid4()), 400, "invalid")
    assert_error(clerk.post(path, {"reason": "内容有误"}), 400, "invalid")  # no key
    assert_error(api.as_(cast["clerk_b"]).post(path, {"reason": "x"}, key=uuid.uuid4()), 404)
    assert_error(api.as_(cast["head_a"]).post(path, {"reason": "x"}, key=uuid.uuid4()), 403)
    key = uuid.uuid4()
    first = clerk.post(path, {"reason": "文中数据有误，更正后重发"}, key=key)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["withdrawn_at"] and body["withdraw_reason"] == "文中数据有误，更正后重发"
    assert {d["state"] for d in body["deliveries"]} == {"withdrawn"}
    assert clerk.post(path, {"reason": "文中数据有误，更正后重发"}, key=key).status_code == 200
    assert_error(clerk.post(path, {"reason": "再次撤回"}, key=uuid.uuid4()), 409, "conflict")
    assert_error(clerk.post(path, {"reason": "再次撤回"}, key="not-a-uuid"), 400, "invalid")
    assert AuditEntry.objects.filter(action="exchange.withdrawn").count() == 1
    # The recipient sees it withdrawn, with the reason, and no longer gets the file.
    d = delivery_to(sent, cast["b"])
    seen = api.as_(cast["clerk_b"]).get(f"/api/deliveries/{d.pk}").json()
    assert seen["state"] == "withdrawn" and seen["withdraw_reason"] == "文中数据有误，更正后重发"
    assert_error(api.as_(cast["clerk_b"]).get(f"/api/deliveries/{d.pk}/file"), 404)


# -- 收文: inbox, detail, open, 签收, 退回, files ------------------------------------------------
def test_inbox_tabs_search_and_counts(api, cast, dispatched, client):
    sent = dispatched()
    dispatched(title="关于做好防汛工作的通知")
    clerk_b = api.as_(cast["clerk_b"])
    pending = clerk_b.get("/api/inbox").json()
    assert pending["count"] == 2
    assert_matches(client, pending, "/api/inbox")
    assert {i["sender_unit"]["name"] for i in pending["items"]} == {cast["a"].name}
    assert clerk_b.get("/api/inbox", {"q": "防汛"}).json()["count"] == 1
    d = delivery_to(sent, cast["b"])
    assert clerk_b.post(f"/api/deliveries/{d.pk}/sign", {"pin": PIN},
                        key=uuid.uuid4()).status_code == 201
    assert [i["id"] for i in clerk_b.get("/api/inbox", {"tab": "signed"}).json()["items"]] \
        == [d.pk]
    assert clerk_b.get("/api/inbox/counts").json() == {"pending": 1, "signed": 1, "returned": 0,
                                                       "to_answer": 0}
    assert api.as_(cast["clerk_a"]).get("/api/inbox").json()["count"] == 0  # the sender's own
    assert_error(clerk_b.get("/api/inbox", {"tab": "everything"}), 400, "invalid")


def test_detail_shows_the_report_and_open_records_the_time(api, cast, dispatched, client):
    sent = dispatched()
    d = delivery_to(sent, cast["b"])
    clerk_b = api.as_(cast["clerk_b"])
    detail = clerk_b.get(f"/api/deliveries/{d.pk}").json()
    assert_matches(client, detail, "/api/deliveries/{delivery_id}")
    assert detail["opened_at"] is None and detail["state"] == "delivered"  # GET changes nothing
    assert detail["verification"]["ok"] is True and detail["may_sign"] is True
    assert {"format", "valid", "checks", "signatures"} <= set(detail["report"])
    assert "signature" in detail["report"]["checks"]
    opened = clerk_b.post(f"/api/deliveries/{d.pk}/open")
    assert opened.status_code == 200
    assert opened.json()["state"] == "opened" and opened.json()["opened_at"]
    clerk_b.post(f"/api/deliveries/{d.pk}/open")
    assert AuditEntry.objects.filter(action="exchange.opened").count() == 1
    # The sender follows it but cannot open it for the recipient.
    assert_error(api.as_(cast["clerk_a"]).post(f"/api/deliveries/{d.pk}/open"), 403)
    track = api.as_(cast["clerk_a"]).get(f"/api/dispatches/{sent.pk}").json()
    row = next(x for x in track["deliveries"] if x["id"] == d.pk)
    assert row["state"] == "opened" and row["opened_at"] == opened.json()["opened_at"]


def test_sign_with_pin_gives_one_receipt(api, cast, dispatched, client):
    sent = dispatched()
    d = delivery_to(sent, cast["b"])
    clerk_b = api.as_(cast["clerk_b"])
    path = f"/api/deliveries/{d.pk}/sign"
    assert_error(clerk_b.post(path, {"pin": PIN}), 400, "invalid")           # no key
    assert_error(clerk_b.post(path, {}, key=uuid.uuid4()), 400, "invalid")  # no PIN
    assert_error(clerk_b.post(path, {"pin": 80417326}, key=uuid.uuid4()), 400, "invalid")
    assert_error(clerk_b.post(path, {"pin": "00000000"}, key=uuid.uuid4()), 400, "wrong_pin")
    assert Delivery.objects.get(pk=d.pk).state == DeliveryState.DELIVERED
    sender = assert_error(api.as_(cast["clerk_a"]).post(path, {"pin": PIN}, key=uuid.uuid4()),
                          403, "forbidden")
    assert sender["message"] == "只有收文单位可以签收来文。"
    assert_error(api.as_(cast["clerk_gn"]).post(path, {"pin": PIN}, key=uuid.uuid4()), 404)
    key = uuid.uuid4()
    first = clerk_b.post(path, {"pin": PIN}, key=key)
    assert first.status_code == 201, first.content
    assert_matches(client, first.json(), "/api/deliveries/{delivery_id}/sign", "post", "201")
    again = clerk_b.post(path, {"pin": PIN}, key=key)
    second_click = clerk_b.post(path, {"pin": PIN}, key=uuid.uuid4())
    assert again.status_code == second_click.status_code == 200
    assert first.json() == again.json() == second_click.json()
    assert Receipt.objects.filter(delivery_id=d.pk).count() == 1
    receipt = Receipt.objects.get(delivery_id=d.pk)
    assert first.json()["registration_number"] == Delivery.objects.get(pk=d.pk) \
        .registration_number != ""
    for who in ("clerk_b", "clerk_a"):  # recipient and sender download the same file
        got = api.as_(cast[who]).get(f"/api/deliveries/{d.pk}/receipt")
        assert got.status_code == 200 and got["Content-Type"] == "application/json"
        assert got.content == bytes(receipt.content)
    assert_error(clerk_b.post(f"/api/deliveries/{d.pk}/return", {"reason": "晚了"},
                              key=uuid.uuid4()), 409, "conflict")
    assert AuditEntry.objects.filter(action="exchange.signed").count() == 1


def test_return_with_reason_is_idempotent(api, cast, dispatched):
    sent = dispatched()
    d = delivery_to(sent, cast["gyx"])
    clerk = api.as_(cast["clerk_gyx"])
    path = f"/api/deliveries/{d.pk}/return"
    assert_error(clerk.post(path, {"reason": ""}, key=uuid.uuid4()), 400, "invalid")
    assert_error(clerk.post(path, {"reason": "x" * 501}, key=uuid.uuid4()), 400, "invalid")
    key = uuid.uuid4()
    first = clerk.post(path, {"reason": "非本单位主管事项"}, key=key)
    assert first.status_code == 200 and first.json()["state"] == "returned"
    assert clerk.post(path, {"reason": "非本单位主管事项"}, key=key).status_code == 200
    assert_error(clerk.post(path, {"reason": "再退一次"}, key=uuid.uuid4()), 409, "conflict")
    assert_error(clerk.post(f"/api/deliveries/{d.pk}/sign", {"pin": PIN}, key=uuid.uuid4()),
                 409, "conflict")
    assert_error(clerk.get(f"/api/deliveries/{d.pk}/receipt"), 404)
    assert AuditEntry.objects.filter(action="exchange.returned").count() == 1
    row = next(x for x in api.as_(cast["clerk_a"]).get(f"/api/dispatches/{sent.pk}")
               .json()["deliveries"] if x["id"] == d.pk)
    assert row["return_reason"] == "非本单位主管事项" and row["returned_at"]


def test_sealed_file_download(api, cast, dispatched):
    sent = dispatched()
    d = delivery_to(sent, cast["b"])
    got = api.as_(cast["clerk_b"]).get(f"/api/deliveries/{d.pk}/file")
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    assert got.content.startswith(b"%PDF-")
    assert_error(api.as_(cast["clerk_b"]).get(f"/api/deliveries/{d.pk}/file",
                                              {"format": "doc"}), 400)
    assert_error(api.as_(cast["clerk_gn"]).get(f"/api/deliveries/{d.pk}/file"), 404)


def test_another_unit_never_learns_a_delivery_exists(api, cast, dispatched, make_unit,
                                                     make_user):
    """A unit that is not a party gets exactly the answer of a missing id."""
    from gongwen.accounts.models import Role

    sent = dispatched()
    d = delivery_to(sent, cast["b"])
    stranger = api.as_(make_user(make_unit("无关单位"), Role.CLERK))
    other_recipient = api.as_(cast["clerk_gn"])
    missing = 2_000_000_000
    for who in (stranger, other_recipient):
        for verb, path, body in (
                ("get", "/api/deliveries/{}", None), ("get", "/api/deliveries/{}/file", None),
                ("get", "/api/deliveries/{}/receipt", None),
                ("post", "/api/deliveries/{}/open", {}),
                ("post", "/api/deliveries/{}/sign", {"pin": PIN}),
                ("post", "/api/deliveries/{}/return", {"reason": "不是我们的"}),
                ("post", "/api/deliveries/{}/follow-ups", {"how": "phone"})):
            kwargs = {"key": uuid.uuid4()} if verb == "post" else {}
            call = getattr(who, verb)
            args = (body,) if verb == "post" else ()
            real = call(path.format(d.pk), *args, **kwargs)
            fake = call(path.format(missing), *args, **kwargs)
            assert real.status_code == fake.status_code == 404, (path, real.content)
            assert real.json() == fake.json()
    for path in (f"/api/dispatches/{sent.pk}", f"/api/documents/{sent.document_id}"):
        assert_error(stranger.get(path), 404)
    assert Delivery.objects.get(pk=d.pk).state == DeliveryState.DELIVERED
    assert stranger.get("/api/inbox").json()["count"] == 0


# -- tracking and 催办 -----------------------------------------------------------------------------
def test_tracking_overdue_and_follow_up(api, cast, dispatched, client):
    sent = dispatched()
    clerk_a = api.as_(cast["clerk_a"])
    assert clerk_a.get("/api/tracking", {"only": "overdue"}).json()["count"] == 0
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        board = clerk_a.get("/api/tracking", {"only": "overdue"}).json()
        assert_matches(client, board, "/api/tracking")
        names = {row["recipient_unit"]["name"] for row in board["items"]}
        assert cast["b"].name in names and cast["hzq"].name not in names  # paper: not overdue
        assert all(row["overdue"] for row in board["items"])
        d = delivery_to(sent, cast["b"])
        path = f"/api/deliveries/{d.pk}/follow-ups"
        key = uuid.uuid4()
        note = {"how": "phone", "contact": "王科长", "note": "已电话催办，答复今日签收"}
        first = clerk_a.post(path, note, key=key)
        assert first.status_code == 201, first.content
        assert clerk_a.post(path, note, key=key).status_code == 200
        assert FollowUp.objects.filter(delivery=d).count() == 1
        assert_error(clerk_a.post(path, {"how": "pigeon"}, key=uuid.uuid4()), 400)
        future = (timezone.now() + dt.timedelta(days=1)).isoformat()
        assert_error(clerk_a.post(path, {"how": "phone", "at": future}, key=uuid.uuid4()), 400)
        assert_error(api.as_(cast["clerk_b"]).post(path, note, key=uuid.uuid4()), 403)
        row = next(r for r in clerk_a.get("/api/tracking", {"only": "overdue"}).json()["items"]
                   if r["id"] == d.pk)
        assert row["follow_ups"][0]["contact"] == "王科长"
        # The recipient's detail does not show the sender's follow-ups.
        assert api.as_(cast["clerk_b"]).get(f"/api/deliveries/{d.pk}").json()["follow_ups"] == []
    assert AuditEntry.objects.filter(action="exchange.follow_up").count() == 1


# -- notifications ---------------------------------------------------------------------------
def test_notifications_list_and_mark_read(api, cast, dispatched):
    dispatched()
    clerk_b = api.as_(cast["clerk_b"])
    page = clerk_b.get("/api/notifications").json()
    assert page["unread"] == 1 and page["items"][0]["kind"] == "incoming"
    note_id = page["items"][0]["id"]
    other = api.as_(cast["clerk_gyx"]).get("/api/notifications").json()["items"][0]["id"]
    assert_error(clerk_b.post(f"/api/notifications/{other}/read"), 404)
    marked = clerk_b.post(f"/api/notifications/{note_id}/read").json()
    assert marked == {"marked": 1, "unread": 0}
    assert clerk_b.get("/api/notifications", {"unread_only": True}).json()["count"] == 0
    assert api.as_(cast["clerk_gyx"]).post("/api/notifications/read-all").json()["marked"] == 1


# -- bad input never gives a 500 ---------------------------------------------------------------
def test_bad_input_is_400_or_413_never_500(api, cast, dispatched, settings):
    sent = dispatched()
    d = delivery_to(sent, cast["b"])
    clerk_b = api.as_(cast["clerk_b"])
    sign = f"/api/deliveries/{d.pk}/sign"
    for raw in ("{not json", "[]", '"text"', '{"pin": null}', '{"pin": ["1"]}', ""):
        assert_error(clerk_b.post(sign, raw=raw, key=uuid.uuid4()), 400, "invalid")
    for path in ("/api/deliveries/0", "/api/deliveries/-1",
                 "/api/deliveries/99999999999999999999999", "/api/dispatches/3000000000"):
        assert_error(clerk_b.get(path), 400, "invalid")
    assert_error(clerk_b.get("/api/deliveries/abc"), 400, "invalid")
    big = json.dumps({"reason": "长" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2)})
    assert_error(clerk_b.post(f"/api/deliveries/{d.pk}/return", raw=big, key=uuid.uuid4()),
                 413, "too_large")
    too_long = assert_error(clerk_b.post(sign, {"pin": "1" * 65}, key=uuid.uuid4()), 400)
    assert too_long["message"] == "请求参数不正确（请求体 pin：内容过长）。"
    assert_error(clerk_b.post(sign, {"pin": PIN}, key="k" * 65), 400, "invalid")
    assert Delivery.objects.get(pk=d.pk).state == DeliveryState.DELIVERED


# -- sessions and query counts ---------------------------------------------------------------
def test_browser_session_needs_csrf_for_changes(cast, dispatched):
    from django.test import Client

    sent = dispatched()
    d = delivery_to(sent, cast["b"])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast["clerk_b"])
    assert browser.get("/api/inbox").json()["count"] == 1
    refused = browser.post(f"/api/deliveries/{d.pk}/open")
    assert_error(refused, 403, "forbidden")
    assert Delivery.objects.get(pk=d.pk).opened_at is None


def test_a_token_needs_no_csrf_and_a_wrong_token_is_401(api, cast, dispatched):
    """The OA system's case: no cookie, no CSRF token, a bearer token (the ``api`` client
    enforces CSRF as a real server does)."""
    sent = dispatched()
    d = delivery_to(sent, cast["b"])
    opened = api.as_(cast["clerk_b"]).post(f"/api/deliveries/{d.pk}/open")
    assert opened.status_code == 200, opened.content
    assert_error(api.post(f"/api/deliveries/{d.pk}/open", Authorization="Bearer gw_wrong"),
                 401, "unauthorized")


def _queries(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_lists_do_not_query_per_row(api, cast, dispatched):
    """The same number of statements for one dispatch as for three (no N+1)."""
    dispatched(title="关于第一项工作的通知")
    clerk_a, clerk_b = api.as_(cast["clerk_a"]), api.as_(cast["clerk_b"])
    calls = {"dispatches": lambda: clerk_a.get("/api/dispatches"),
             "tracking": lambda: clerk_a.get("/api/tracking"),
             "inbox": lambda: clerk_b.get("/api/inbox"),
             "notifications": lambda: clerk_b.get("/api/notifications")}
    one = {name: _queries(call) for name, call in calls.items()}
    dispatched(title="关于第二项工作的通知")
    dispatched(title="关于第三项工作的通知")
    three = {name: _queries(call) for name, call in calls.items()}
    assert one == three


def test_a_failing_document_is_not_signed_but_returned(api, cast, dispatched, monkeypatch,
                                                       settings):
    """notice §3(7): 签收 of a document that fails verification answers 409 and the delivery
    has gone back to the sender with the reason."""
    from gongwen.exchange import hooks

    settings.GONGWEN = {**settings.GONGWEN, "REVERIFY_AFTER_SECONDS": 0}  # always re-verify

    sent = dispatched()
    d = delivery_to(sent, cast["gn"])
    bad = hooks.Report.of([hooks.Check("seal", "电子印章", False, "印章签名无效")])
    monkeypatch.setattr(hooks, "verify_for_receipt", lambda doc, delivery: bad)
    clerk = api.as_(cast["clerk_gn"])
    body = assert_error(clerk.post(f"/api/deliveries/{d.pk}/sign", {"pin": PIN},
                                   key=uuid.uuid4()), 409, "conflict")
    assert "核验未通过" in body["message"]
    detail = clerk.get(f"/api/deliveries/{d.pk}").json()
    assert detail["state"] == "rejected_invalid" and not detail["may_sign"]
    assert "印章签名无效" in detail["return_reason"]
    assert detail["verification"]["ok"] is False
    assert not Receipt.objects.exists()


# -- 批量分发 ---------------------------------------------------------------------------------------
def test_batch_dispatch_answers_per_document_and_is_idempotent(api, cast, sealed_doc, client):
    from gongwen.documents import services as docs

    one, two = sealed_doc("关于第一项工作的通知"), sealed_doc("关于第二项工作的通知")
    draft = docs.create_draft(actor=cast["clerk_a"], doc_type="notice", title="草稿",
                              body_text="正文", main_units=[cast["b"].pk])
    foreign = docs.create_draft(actor=cast["clerk_b"], doc_type="notice", title="东海县草稿",
                                body_text="正文", main_units=[cast["a"].pk])
    clerk = api.as_(cast["clerk_a"])
    ids = [one.pk, draft.pk, two.pk, foreign.pk]
    assert_error(clerk.post("/api/dispatches/batch", {"doc_ids": ids}), 400, "invalid")
    assert_error(clerk.post("/api/dispatches/batch", {"doc_ids": []}, key=uuid.uuid4()), 400)
    assert_error(clerk.post("/api/dispatches/batch", {"doc_ids": ["x"]}, key=uuid.uuid4()), 400)
    key = uuid.uuid4()
    first = clerk.post("/api/dispatches/batch", {"doc_ids": ids}, key=key)
    assert first.status_code == 200, first.content
    body = first.json()
    assert_matches(client, body, "/api/dispatches/batch", "post")
    assert (body["dispatched"], body["refused"]) == (2, 2)
    items = {i["doc_id"]: i for i in body["items"]}
    assert [i["doc_id"] for i in body["items"]] == ids
    assert items[one.pk]["ok"] and items[one.pk]["dispatch"]["counts"]["total"] == 5
    assert "不能分发" in items[draft.pk]["error"] and items[draft.pk]["dispatch"] is None
    assert items[foreign.pk]["error"] == "未找到该公文。"
    again = clerk.post("/api/dispatches/batch", {"doc_ids": ids}, key=key).json()
    assert again["dispatched"] == 0
    assert [i["already"] for i in again["items"] if i["ok"]] == [True, True]
    assert [i["dispatch"]["id"] for i in again["items"] if i["ok"]] == \
        [i["dispatch"]["id"] for i in body["items"] if i["ok"]]
    assert Dispatch.objects.count() == 2
    assert AuditEntry.objects.filter(action="exchange.dispatched").count() == 2
    assert_error(api.as_(cast["head_a"]).post("/api/dispatches/batch", {"doc_ids": [one.pk]},
                                              key=uuid.uuid4()), 403, "forbidden")
