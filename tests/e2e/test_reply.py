"""答复 in a real browser: 市发改委 sends a sealed 请示 up to 市政府办公室; the office's clerk
signs for it, presses 拟批复 and finishes the 批复 the platform drafted (主送 发改委, the
customary opening); the head approves, the keeper seals, the clerk dispatches; the request
leaves 待答复, and 发改委 sees the 批复 on its request's 发文 page and opens it from there.
Uses the cast of the main story (test_exchange.py). Screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from gongwen.accounts.models import Role
from gongwen.documents.models import OfficialDocument
from tests.e2e import test_exchange as main_story
from tests.e2e.conftest import nav
from tests.e2e.test_exchange import FDRC, RECEIPT_PIN, SEAL_PIN

pytestmark = pytest.mark.django_db(transaction=True)

exchange_settings = main_story.exchange_settings
story = main_story.story
people = main_story.people

REQUEST_TITLE = "关于申请重点项目前期工作经费的请示"
REPLY_TITLE = "关于申请重点项目前期工作经费的批复"


@pytest.fixture
def request_sent(story, make_user, operator):
    """发改委's 请示 to 市政府办公室, sealed for real with 发改委's own seal and dispatched;
    the office's clerk gets a unit-receipt key disk to sign for it."""
    from gongwen.authority import services as authority
    from gongwen.documents import sealing
    from gongwen.documents import services as docs
    from gongwen.exchange import services as exchange
    from gongwen.seals import services as seals
    from gongwen.units.models import Unit
    from tests.apps.seals.conftest import run_make

    fdrc = Unit.objects.get(name=FDRC)
    fdrc.short_name = "连发改"
    fdrc.save()
    clerk = story["fgw_clerk"]
    head = make_user(fdrc, Role.HEAD, username="fgw_head")
    keeper = make_user(fdrc, Role.SEAL_KEEPER, username="fgw_seal")
    city_head = story["unit"].users.get(username="sfb_head")
    seal = run_make(filler=keeper, head=head, approver=city_head, executor=operator,
                    keeper=keeper).result_seal
    station = seals.enrol_workstation(actor=operator, unit_id=fdrc.pk, name="发改委用印机",
                                      seal_ids=[seal.pk]).credential
    doc = docs.create_draft(actor=clerk, doc_type="request", title=REQUEST_TITLE,
                            body_text="为加快推进重点项目建设，拟申请前期工作经费200万元。\n妥否，请批示。",
                            signers=["周立新"], main_units=[story["unit"].pk])
    docs.submit(actor=clerk, doc_id=doc.pk)
    docs.approve(actor=head, doc_id=doc.pk, comment="同意上报")
    sealing.seal_document(actor=keeper, doc_id=doc.pk, seal_id=seal.pk,
                          workstation_credential=station, pin=SEAL_PIN,
                          idempotency_key=uuid.uuid4())
    authority.issue_certificate(unit=story["unit"], profile="unit-receipt",
                                holder=story["unit"].users.get(username="sfb_clerk"),
                                pin=RECEIPT_PIN)
    return exchange.dispatch(actor=clerk, doc_id=doc.pk, key=uuid.uuid4())


def test_the_office_answers_a_request_with_a_reply(people, story, request_sent):
    # 1. The office's clerk signs for the 请示 and presses 拟批复.
    clerk = people.page_for("sfb_clerk")
    nav(clerk, "收文")
    clerk.get_by_role("link", name=REQUEST_TITLE).click()
    expect(clerk.locator("#report-summary")).to_contain_text("核验通过")
    clerk.get_by_label("密钥盘口令（PIN）").fill(RECEIPT_PIN)
    clerk.locator("#sign-form").get_by_role("button", name="签收").click()
    expect(clerk.get_by_text("已签收，签收回执已生成并发送给发文单位。")).to_be_visible()
    nav(clerk, "收文")
    expect(clerk.get_by_role("link", name="待答复（1）")).to_be_visible()
    clerk.get_by_role("link", name="待答复（1）").click()
    clerk.locator("#inbox-rows").get_by_role("link", name=REQUEST_TITLE).click()
    people.shot(clerk, "1-request-signed")
    clerk.locator("#reply-form").get_by_role("button", name="拟批复").click()

    # 2. The draft: 批复, 主送 发改委, the opening; the clerk writes the decision and submits.
    expect(clerk.get_by_text("已起草答复，主送来文单位；请写明答复意见后提交核批。")).to_be_visible()
    clerk.wait_for_url(re.compile(r"/drafts/\d+/$"))
    expect(clerk.get_by_label("标题")).to_have_value(REPLY_TITLE)
    body = clerk.get_by_label("正文", exact=True)
    number = request_sent.document.doc_number
    expect(body).to_have_value(re.compile(
        re.escape(f"你单位《{REQUEST_TITLE}》（{number}）收悉。经研究，现批复如下：")))
    body.fill(body.input_value() + "\n同意安排前期工作经费200万元，请按规定管理使用。")
    people.shot(clerk, "2-reply-draft")
    clerk.get_by_role("button", name="保存并提交核批").click()
    expect(clerk.get_by_text("已提交单位负责人核批。")).to_be_visible()
    reply = OfficialDocument.objects.get(title=REPLY_TITLE)
    assert reply.doc_type == "reply" and reply.answers.dispatch == request_sent
    assert [r.unit.name for r in reply.recipients.all()] == [FDRC]

    # 3. The head approves, the keeper seals, the clerk dispatches.
    head = people.page_for("sfb_head")
    nav(head, "待核批")
    head.locator("#approval-table").get_by_role("link", name=REPLY_TITLE).click()
    head.get_by_role("button", name="核批签发").click()
    expect(head.get_by_text(re.compile(r"已核批签发，发文字号：连政办复〔\d{4}〕1号。"))).to_be_visible()
    keeper = people.page_for("sfb_seal", extra_http_headers={
        "X-Gongwen-Workstation": story["credential"]})
    nav(keeper, "用印")
    keeper.locator("tr", has_text=REPLY_TITLE).get_by_role("link", name="用印").click()
    keeper.get_by_label("密钥盘口令（PIN）").fill(SEAL_PIN)
    keeper.get_by_role("button", name="加盖电子印章").click()
    expect(keeper.get_by_text("用印完成，公文已用印。")).to_be_visible()
    nav(clerk, "发文")
    clerk.locator("#ready-table tr", has_text=REPLY_TITLE).get_by_role("button",
                                                                        name="分发").click()
    expect(clerk.get_by_text("已分发至 1 个收文单位。")).to_be_visible()
    nav(clerk, "收文")
    expect(clerk.get_by_role("link", name="待答复（0）")).to_be_visible()

    # 4. 发改委 sees the 批复 on its request's 发文 page and opens it from there.
    fgw = people.page_for("fgw_clerk")
    nav(fgw, "发文")
    fgw.locator("#outbox-table").get_by_role("link", name=REQUEST_TITLE).click()
    answers = fgw.locator("#answer-table")
    expect(answers.get_by_role("link", name=REPLY_TITLE)).to_be_visible()
    expect(answers).to_contain_text("连云港市人民政府办公室")
    people.shot(fgw, "4-request-answered")
    answers.get_by_role("link", name=REPLY_TITLE).click()
    expect(fgw.locator("#answered-request")).to_contain_text(REQUEST_TITLE)
    expect(fgw.locator("#report-summary")).to_contain_text("核验通过")
    people.shot(fgw, "4-reply-received")
