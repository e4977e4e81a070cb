"""答复 (documents.replies): 东海县 (unit B) sends a 请示 up to the city office (unit A); the
office signs for it, answers with a 批复 主送 东海县, and the request leaves its 待答复 tab
once the 批复 is sent; 东海县 sees the answer on its request's 发文 page. Refusals are audited
and never touch another unit's deliveries; the pages answer in Chinese."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from gongwen.audit.models import AuditEntry
from gongwen.documents import from_delivery, replies
from gongwen.documents import services as docs
from gongwen.documents.models import OfficialDocument
from gongwen.exchange import selectors, services
from gongwen.exchange.models import DeliveryState, Notification
from tests.conftest import PASSWORD

from .conftest import PIN, put_sealed_rendition

pytestmark = pytest.mark.django_db
REQUEST_TITLE = "关于申请防汛救灾资金的请示"


@pytest.fixture
def office_can_sign(cast):
    from gongwen.authority import services as authority

    authority.issue_certificate(unit=cast["a"], profile="unit-receipt", holder=cast["clerk_a"],
                                pin=PIN)


def _send(cast, sender, head, doc_type, title, to, body="妥否，请批示。", **extra):
    doc = docs.create_draft(actor=cast[sender], doc_type=doc_type, title=title,
                            body_text=body, main_units=[to.pk], **extra)
    docs.submit(actor=cast[sender], doc_id=doc.pk)
    doc = docs.approve(actor=cast[head], doc_id=doc.pk, comment="同意")
    put_sealed_rendition(doc)
    return services.dispatch(actor=cast[sender], doc_id=doc.pk, key=uuid.uuid4())


@pytest.fixture
def request_sent(cast):
    """东海县's 请示 to the city office, dispatched (not yet signed for)."""
    return _send(cast, "clerk_b", "head_b", "request", REQUEST_TITLE, cast["a"],
                 signers=["褚立新"])


@pytest.fixture
def request_signed(cast, request_sent, office_can_sign):
    d = request_sent.deliveries.get(recipient_unit=cast["a"])
    services.sign_receipt(actor=cast["clerk_a"], delivery_id=d.pk, pin=PIN, key=uuid.uuid4())
    d.refresh_from_db()
    assert d.state == DeliveryState.SIGNED
    return d


def _answer_and_send(cast, delivery, answer=None) -> OfficialDocument:
    answer = answer or replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=delivery.pk,
                                                 idempotency_key=uuid.uuid4())
    docs.update_draft(actor=cast["clerk_a"], doc_id=answer.pk,
                      body_text=answer.body[0]["text"] + "\n同意你县申请。")
    docs.submit(actor=cast["clerk_a"], doc_id=answer.pk)
    answer = docs.approve(actor=cast["head_a"], doc_id=answer.pk, comment="同意")
    put_sealed_rendition(answer)
    services.dispatch(actor=cast["clerk_a"], doc_id=answer.pk, key=uuid.uuid4())
    answer.refresh_from_db()
    return answer


# -- the draft ------------------------------------------------------------------------------
def test_the_answer_is_a_reply_to_the_asking_unit_with_the_customary_opening(
        cast, request_signed):
    number = request_signed.dispatch.document.doc_number
    assert number
    answer = replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=request_signed.pk,
                                       idempotency_key=uuid.uuid4())
    assert answer.state == "draft" and answer.unit == cast["a"]
    assert answer.doc_type == "reply" and answer.answers == request_signed
    assert answer.number_series == "复"  # 连政办复〔…〕N号
    assert answer.title == "关于申请防汛救灾资金的批复"
    assert answer.body[0]["text"] == (f"你单位《{REQUEST_TITLE}》（{number}）收悉。"
                                      "经研究，现批复如下：")
    assert [(r.role, r.unit_id) for r in answer.recipients.all()] == [("main", cast["b"].pk)]
    assert [i.unit_id for i in answer.issuers.all()] == [cast["a"].pk]
    entry = AuditEntry.objects.get(action="document.reply_started")
    assert entry.detail["delivery"] == request_signed.pk
    assert entry.detail["asking_unit"] == cast["b"].pk


def test_a_letter_is_answered_by_a_letter(cast, office_can_sign):
    sent = _send(cast, "clerk_b", "head_b", "letter", "东海县人民政府关于商请支持渔港建设的函",
                 cast["a"], body="请予支持。")
    d = sent.deliveries.get(recipient_unit=cast["a"])
    services.sign_receipt(actor=cast["clerk_a"], delivery_id=d.pk, pin=PIN, key=uuid.uuid4())
    answer = replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=d.pk)
    assert answer.doc_type == "letter" and answer.number_series == "函"
    assert answer.title == "关于商请支持渔港建设的复函"
    assert answer.body[0]["text"].endswith("经研究，现函复如下：")


@pytest.mark.parametrize(("title", "doc_type", "expected"), [
    ("关于申请防汛资金的请示", "request", "关于申请防汛资金的批复"),
    ("东海县人民政府关于申请防汛资金的请示", "request", "关于申请防汛资金的批复"),
    ("防汛资金申请", "request", "关于《防汛资金申请》的批复"),
    ("关于商请支持的函", "letter", "关于商请支持的复函"),
    ("关于商请支持的复函", "letter", "关于商请支持的复函"),
    ("关于" + "长" * 250 + "的请示", "request", None),
    ("长" * 250, "request", None),
    ("长" * 250, "letter", None),
    ("", "request", "关于批复"),
])
def test_reply_title(title, doc_type, expected):
    got = replies.reply_title(title, doc_type)
    if expected is None:
        word = replies.ANSWERED_TYPES[doc_type][1]
        assert len(got) == from_delivery.TITLE_MAX
        assert got.endswith(f"…》的{word}" if "关于" not in title else f"…的{word}")
        assert got.count("《") == got.count("》")  # a quoted title stays closed
    else:
        assert got == expected


def test_a_retry_returns_the_first_draft_and_a_reused_key_is_refused(
        cast, request_signed, dispatched):
    key = uuid.uuid4()
    first = replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=request_signed.pk,
                                      idempotency_key=key)
    again = replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=request_signed.pk,
                                      idempotency_key=key)
    assert again.pk == first.pk
    assert OfficialDocument.objects.filter(answers=request_signed).count() == 1
    other = _send(cast, "clerk_b", "head_b", "request", "关于项目立项的请示", cast["a"],
                  signers=["褚立新"]).deliveries.get(recipient_unit=cast["a"])
    with pytest.raises(ValidationError, match="幂等键已被使用"):
        replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=other.pk,
                                  idempotency_key=key)


def test_a_second_press_opens_the_draft_not_yet_submitted(cast, request_signed, client):
    """QA: pressing 拟批复 again after a reload (a new key each time) made a second and a
    third draft. The draft not yet submitted is opened instead; once it is submitted, a
    new one may be started."""
    from gongwen.documents import services as docs
    from gongwen.policy.errors import was_replayed

    first = replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=request_signed.pk,
                                      idempotency_key=uuid.uuid4())
    again = replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=request_signed.pk,
                                      idempotency_key=uuid.uuid4())
    assert again.pk == first.pk and again.reopened and was_replayed(again)
    _login(client, cast["clerk_a"])
    resp = client.post(f"/inbox/{request_signed.pk}/reply/", {"key": str(uuid.uuid4())},
                       follow=True)
    assert f"/drafts/{first.pk}/" in resp.redirect_chain[-1][0]
    assert "且尚未提交，已为您打开该草稿" in resp.content.decode()
    assert OfficialDocument.objects.filter(answers=request_signed).count() == 1
    docs.update_draft(actor=cast["clerk_a"], doc_id=first.pk, body_text="同意。")
    docs.submit(actor=cast["clerk_a"], doc_id=first.pk)
    fresh = replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=request_signed.pk,
                                      idempotency_key=uuid.uuid4())
    assert fresh.pk != first.pk and not getattr(fresh, "reopened", False)


# -- refusals -------------------------------------------------------------------------------
def test_an_unsigned_request_and_a_notice_are_refused_and_audited(cast, request_sent,
                                                                 dispatched):
    pending = request_sent.deliveries.get(recipient_unit=cast["a"])
    with pytest.raises(PermissionDenied) as exc:
        replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=pending.pk)
    assert "签收后才能答复" in exc.value.message_zh
    notice = dispatched().deliveries.get(recipient_unit=cast["b"])
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=notice.pk, pin=PIN,
                          key=uuid.uuid4())
    with pytest.raises(PermissionDenied) as exc:
        replies.reply_to_delivery(actor=cast["clerk_b"], delivery_id=notice.pk)
    assert "只有请示和函需要答复" in exc.value.message_zh
    refusals = AuditEntry.objects.filter(action="document.reply_refused")
    assert sorted(e.detail["why"] for e in refusals) == ["not_a_request", "not_signed"]
    assert not OfficialDocument.objects.filter(answers__isnull=False).exists()


def test_only_the_receiving_units_clerk_answers(cast, request_signed):
    for who in ("clerk_b", "clerk_gyx"):  # the asking unit itself, a county not addressed
        with pytest.raises((Http404, PermissionDenied)):
            replies.reply_to_delivery(actor=cast[who], delivery_id=request_signed.pk)
    with pytest.raises(PermissionDenied):  # a head does not draft
        replies.reply_to_delivery(actor=cast["head_a"], delivery_id=request_signed.pk)
    assert not OfficialDocument.objects.filter(answers=request_signed).exists()


# -- 待答复 and the asking unit's view ------------------------------------------------------
def test_the_request_waits_for_an_answer_until_one_is_sent(cast, request_signed):
    def waiting():
        return selectors.inbox_counts(cast["clerk_a"])["to_answer"]

    assert waiting() == 1
    assert [d.pk for d in selectors.inbox_for(cast["clerk_a"], "to_answer")] == [
        request_signed.pk]
    # …and the asking unit's 发文 lists it as waiting for an answer.
    assert [s.pk for s in selectors.outbox_for(cast["clerk_b"], "unanswered")] == [
        request_signed.dispatch_id]
    draft = replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=request_signed.pk)
    assert waiting() == 1  # a draft is not an answer yet
    answer = _answer_and_send(cast, request_signed, draft)
    assert answer.state == "dispatched"
    assert waiting() == 0 and not selectors.inbox_for(cast["clerk_a"], "to_answer").exists()
    assert not selectors.outbox_for(cast["clerk_b"], "unanswered").exists()
    services.notify_dispatch(answer.dispatch.pk)  # the on-commit task of the dispatch
    notice = Notification.objects.get(user=cast["clerk_b"], kind="incoming",
                                      text__contains=answer.title)
    assert f"答复本单位《{REQUEST_TITLE}》" in notice.text
    # The asking unit sees the answer on its request's page, as its own delivery of it.
    received = list(replies.answers_received(cast["clerk_b"], request_signed.dispatch))
    assert [d.dispatch.document_id for d in received] == [answer.pk]
    assert received[0].recipient_unit == cast["b"]
    assert not replies.answers_received(cast["clerk_gyx"], request_signed.dispatch).exists()
    # The answer's page names the request, with a link for each party only.
    for who, key in (("clerk_a", "delivery_id"), ("clerk_b", "dispatch_id")):
        facts = replies.answered_request(cast[who], answer)
        assert facts["title"] == REQUEST_TITLE and facts[key]
    assert replies.answered_request(cast["clerk_gyx"], answer) is None  # no party


def test_a_correction_of_an_answer_answers_the_same_request(cast, request_signed):
    answer = _answer_and_send(cast, request_signed)
    services.withdraw(actor=cast["clerk_a"], dispatch_id=answer.dispatch.pk,
                      reason="批复金额有误", key=uuid.uuid4())
    assert selectors.inbox_counts(cast["clerk_a"])["to_answer"] == 1
    key = uuid.uuid4()
    fix = docs.start_correction(actor=cast["clerk_a"], doc_id=answer.pk, idempotency_key=key)
    assert fix.answers_id == request_signed.pk and fix.corrects_id == answer.pk
    again = docs.start_correction(actor=cast["clerk_a"], doc_id=answer.pk, idempotency_key=key)
    assert again.pk == fix.pk
    with pytest.raises(ValidationError, match="幂等键已被使用"):  # the key, for another one
        docs.start_correction(actor=cast["clerk_a"], doc_id=fix.pk, idempotency_key=key)


# -- pages ----------------------------------------------------------------------------------
def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_pages_offer_the_answer_and_show_it_to_both_parties(cast, request_signed, client):
    office = _login(client, cast["clerk_a"])
    page = office.get("/inbox/?tab=to_answer").content.decode()
    assert "待答复（1）" in page and REQUEST_TITLE in page
    page = office.get(f"/inbox/{request_signed.pk}/").content.decode()
    assert 'id="reply-form"' in page and "拟批复" in page
    r = office.post(f"/inbox/{request_signed.pk}/reply/", {"key": str(uuid.uuid4())})
    answer = OfficialDocument.objects.get(answers=request_signed)
    assert r.status_code == 302 and r["Location"].endswith(f"/drafts/{answer.pk}/")
    page = office.get(f"/inbox/{request_signed.pk}/").content.decode()
    assert 'id="answer-list"' in page and answer.title in page
    page = office.get(f"/documents/{answer.pk}/").content.decode()
    assert 'id="answered-request"' in page and REQUEST_TITLE in page
    answer = _answer_and_send(cast, request_signed, answer)
    client.logout()
    county = _login(client, cast["clerk_b"])
    page = county.get(f"/outbox/{request_signed.dispatch_id}/").content.decode()
    assert 'id="answer-table"' in page and answer.title in page and answer.doc_number in page
    mine = answer.dispatch.deliveries.get(recipient_unit=cast["b"])
    page = county.get(f"/inbox/{mine.pk}/").content.decode()
    assert 'id="answered-request"' in page and "本单位发文" in page


def test_the_answer_button_refuses_in_chinese(cast, request_sent, client, office_can_sign):
    pending = request_sent.deliveries.get(recipient_unit=cast["a"])
    office = _login(client, cast["clerk_a"])
    assert 'id="reply-form"' not in office.get(f"/inbox/{pending.pk}/").content.decode()
    r = office.post(f"/inbox/{pending.pk}/reply/", {"key": str(uuid.uuid4())}, follow=True)
    assert r.status_code == 200 and "签收后才能答复" in r.content.decode()
    r = office.post(f"/inbox/{pending.pk}/reply/", {"key": "not-a-key"}, follow=True)
    assert r.status_code == 200 and "幂等键格式不正确" in r.content.decode()
    r = office.post("/inbox/999999/reply/", {"key": str(uuid.uuid4())})
    assert r.status_code == 404


# -- what waits for an answer (review findings) ----------------------------------------------
def test_a_letter_that_answers_is_not_itself_waiting_for_an_answer(cast, office_can_sign):
    letter = _send(cast, "clerk_b", "head_b", "letter", "关于商请支持渔港建设的函", cast["a"],
                   body="请予支持。").deliveries.get(recipient_unit=cast["a"])
    services.sign_receipt(actor=cast["clerk_a"], delivery_id=letter.pk, pin=PIN,
                          key=uuid.uuid4())
    _answer_and_send(cast, letter)
    answer = OfficialDocument.objects.get(answers=letter).dispatch.deliveries.get(
        recipient_unit=cast["b"])
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=answer.pk, pin=PIN,
                          key=uuid.uuid4())
    answer.refresh_from_db()
    assert selectors.inbox_counts(cast["clerk_b"])["to_answer"] == 0
    assert not replies.answerable(cast["clerk_b"], answer)
    with pytest.raises(PermissionDenied) as exc:
        replies.reply_to_delivery(actor=cast["clerk_b"], delivery_id=answer.pk)
    assert exc.value.why == "is_an_answer"


def test_a_copy_recipient_of_a_request_does_not_answer_it(cast, office_can_sign):
    sent = _send(cast, "clerk_b", "head_b", "request", REQUEST_TITLE, cast["a"],
                 signers=["褚立新"], copy_units=[cast["fgw"].pk])
    copy = sent.deliveries.get(recipient_unit=cast["fgw"])
    assert copy.role == "copy"
    services.sign_receipt(actor=cast["clerk_fgw"], delivery_id=copy.pk, pin=PIN,
                          key=uuid.uuid4())
    copy.refresh_from_db()
    assert selectors.inbox_counts(cast["clerk_fgw"])["to_answer"] == 0
    assert not replies.answerable(cast["clerk_fgw"], copy)
    with pytest.raises(PermissionDenied) as exc:
        replies.reply_to_delivery(actor=cast["clerk_fgw"], delivery_id=copy.pk)
    assert exc.value.why == "copy_only"


def test_an_answer_withdrawn_from_the_asker_leaves_the_request_waiting(cast, request_signed):
    draft = replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=request_signed.pk)
    docs.update_draft(actor=cast["clerk_a"], doc_id=draft.pk, copy_units=[cast["gyx"].pk])
    answer = _answer_and_send(cast, request_signed, draft)
    assert selectors.inbox_counts(cast["clerk_a"])["to_answer"] == 0
    to_gyx = answer.dispatch.deliveries.get(recipient_unit=cast["gyx"])
    services.sign_receipt(actor=cast["clerk_gyx"], delivery_id=to_gyx.pk, pin=PIN,
                          key=uuid.uuid4())
    services.withdraw(actor=cast["clerk_a"], dispatch_id=answer.dispatch.pk,
                      reason="主送有误", key=uuid.uuid4())
    answer.refresh_from_db()
    assert answer.state == "dispatched"  # partly withdrawn: 赣榆县 keeps its copy
    assert selectors.inbox_counts(cast["clerk_a"])["to_answer"] == 1
    assert selectors.outbox_for(cast["clerk_b"], "unanswered").count() == 1


def test_a_copy_recipient_of_the_answer_learns_nothing_of_the_request(cast, request_signed,
                                                                      client):
    draft = replies.reply_to_delivery(actor=cast["clerk_a"], delivery_id=request_signed.pk)
    docs.update_draft(actor=cast["clerk_a"], doc_id=draft.pk, copy_units=[cast["gyx"].pk],
                      title="关于下达防汛救灾资金的批复")
    answer = _answer_and_send(cast, request_signed, draft)
    to_gyx = answer.dispatch.deliveries.get(recipient_unit=cast["gyx"])
    page = _login(client, cast["clerk_gyx"]).get(f"/inbox/{to_gyx.pk}/").content.decode()
    assert 'id="answered-request"' not in page and REQUEST_TITLE not in page


def test_the_askers_outbox_filters_requests_waiting_for_an_answer(cast, request_signed,
                                                                 client):
    county = _login(client, cast["clerk_b"])
    page = county.get("/outbox/?status=unanswered").content.decode()
    assert "请示/函待答复" in page and REQUEST_TITLE in page
    _answer_and_send(cast, request_signed)
    assert REQUEST_TITLE not in county.get("/outbox/?status=unanswered").content.decode()
