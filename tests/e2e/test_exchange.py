"""The product's main story in a real browser (issue 9 item 8): a clerk of 市政府办公室 drafts
a 通知 to the county governments (the group 各县区人民政府) with 抄送 to two bureaus → the
unit head approves → the seal keeper seals on the enrolled workstation (the credential as
the ``X-Gongwen-Workstation`` header of the browser context) → the clerk dispatches → the
clerk of 东海县 opens it in 收文, sees the green verification report and signs for it with
the key disk PIN → the sender sees 已签收 and the downloaded receipt verifies offline
(``gongwen verify-receipt``); 赣榆县 退回 with a reason, which the sender sees; 灌南县 never
signs and is overdue on the tracking board once the clock (the live server runs in this
process) is 25 hours later. Screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from gongwen.accounts.models import Role
from gongwen.documents.models import OfficialDocument
from gongwen.exchange.models import Delivery, DeliveryState, Dispatch
from tests.conftest import PASSWORD
from tests.e2e.conftest import artifacts, login, nav

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "关于推行公文无纸化传输工作的通知"
BODY = ("为加快我市电子政务应用步伐，提高政府行政效能，经研究，决定对全市已联网单位实行公文无纸化传输。\n"
        "一、工作要求\n各单位要明确分管领导，安排专门人员负责电子文件的接收和发送。")
SEAL_PIN = "80417326"  # the keeper's key disk (tests/apps/seals/conftest.py run_make)
RECEIPT_PIN = "61302745"  # the recipient clerks' unit-receipt key disks
RETURN_REASON = "本文应主送县政府办公室，请更正主送机关后重新发送。"
FDRC, FINANCE = "连云港市发展和改革委员会", "连云港市财政局"


@pytest.fixture(autouse=True)
def exchange_settings(settings, tmp_path):
    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": str(tmp_path / "blobs"),
                        "PBKDF2_ITERATIONS": 1000, "SUITE": "GM", "RECEIPT_HOURS": 24}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def story(make_unit, make_user, unit_a, operator):
    """市政府办公室 (unit_a) with clerk, head and seal keeper, its seal made through the
    application flow and a workstation bound to it; three county governments in the group
    各县区人民政府 and two bureaus, each with a clerk holding a unit-receipt key disk."""
    from gongwen.authority import services as authority
    from gongwen.seals import services as seals
    from gongwen.units.models import Kind, Level, RecipientGroup
    from tests.apps.seals.conftest import MAKER_PIN, run_make

    unit_a.short_name = "连政办"
    unit_a.networked = True
    unit_a.save()
    authority.init_pki()
    authority.issue_certificate(unit=unit_a, profile="seal-maker", holder=operator,
                                pin=MAKER_PIN)
    make_user(unit_a, Role.CLERK, username="sfb_clerk")
    head = make_user(unit_a, Role.HEAD, username="sfb_head")
    keeper = make_user(unit_a, Role.SEAL_KEEPER, username="sfb_seal")
    seal = run_make(filler=keeper, head=head, approver=operator, executor=operator,
                    keeper=keeper).result_seal
    credential = seals.enrol_workstation(actor=operator, unit_id=unit_a.pk, name="市府办用印机",
                                         seal_ids=[seal.pk]).credential

    group = RecipientGroup.objects.create(name="各县区人民政府")
    clerks = {}
    for name, short, username in (("东海县人民政府", "东政", "dhx_clerk"),
                                  ("赣榆县人民政府", "赣政", "gyx_clerk"),
                                  ("灌南县人民政府", "灌政", "gn_clerk")):
        county = make_unit(name, short_name=short, level=Level.COUNTY, kind=Kind.GOVERNMENT,
                           networked=True)
        group.members.add(county)
        clerks[username] = make_user(county, Role.CLERK, username=username)
    for name, username in ((FDRC, "fgw_clerk"), (FINANCE, "czj_clerk")):
        clerks[username] = make_user(make_unit(name, networked=True), Role.CLERK,
                                     username=username)
    for user in clerks.values():
        authority.issue_certificate(unit=user.unit, profile="unit-receipt", holder=user,
                                    pin=RECEIPT_PIN)
    return {"unit": unit_a, "seal": seal, "credential": credential, "group": group, **clerks}


class Browser:
    """One browser context per person, as on separate computers."""

    def __init__(self, browser, live_server, request):
        self.browser, self.url, self.name = browser, live_server.url, request.node.name
        self.contexts = []

    def page_for(self, username: str, **context_options):
        ctx = self.browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900},
                                       base_url=self.url, accept_downloads=True,
                                       **context_options)
        self.contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(20000)
        login(page, username, PASSWORD)
        return page

    def anonymous(self):
        """A browser that has not logged in (the public verification page)."""
        ctx = self.browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900},
                                       base_url=self.url)
        self.contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(20000)
        return page

    def shot(self, page, name: str) -> Path:
        path = artifacts() / f"{self.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self):
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def people(browser, live_server, request):
    b = Browser(browser, live_server, request)
    yield b
    b.close()



def _recipient_row(page, unit_name: str):
    return page.locator("#recipient-table tbody tr", has_text=unit_name)


def test_notice_from_draft_to_receipts_returns_and_overdue(people, story, tmp_path):
    # 1. The clerk of 市政府办公室 drafts the 通知: 主送 the county governments (a group),
    #    抄送 two bureaus, and submits it for approval.
    clerk = people.page_for("sfb_clerk")
    nav(clerk, "草稿")
    clerk.get_by_role("link", name="起草公文").click()
    clerk.get_by_label("文种").select_option(label="通知")
    clerk.get_by_label("标题").fill(TITLE)
    clerk.get_by_role("group", name="主体").get_by_label("各县区人民政府").check()
    clerk.get_by_label("正文", exact=True).fill(BODY)
    clerk.get_by_label("抄送机关（通讯录）").select_option(label=[FDRC, FINANCE])
    clerk.get_by_role("button", name="保存草稿").click()
    expect(clerk.get_by_text("草稿已保存。")).to_be_visible()
    clerk.wait_for_url(re.compile(r"/drafts/\d+/$"))
    people.shot(clerk, "1-draft")
    clerk.get_by_role("button", name="保存并提交核批").click()
    expect(clerk.get_by_text("已提交单位负责人核批。")).to_be_visible()
    doc = OfficialDocument.objects.get(title=TITLE)
    assert doc.state == "submitted"

    # 2. The unit head approves in 待核批: the 发文字号 is assigned.
    head = people.page_for("sfb_head")
    nav(head, "待核批")
    head.locator("#approval-table").get_by_role("link", name=TITLE).click()
    head.get_by_role("button", name="核批签发").click()
    number = f"连政办发〔{timezone.localdate().year}〕1号"
    expect(head.get_by_text(f"已核批签发，发文字号：{number}。")).to_be_visible()
    people.shot(head, "2-approved")

    # 3. The seal keeper seals on the enrolled workstation (the header its agent adds).
    keeper = people.page_for("sfb_seal", extra_http_headers={
        "X-Gongwen-Workstation": story["credential"]})
    nav(keeper, "用印")
    keeper.locator("tr", has_text=TITLE).get_by_role("link", name="用印").click()
    expect(keeper.get_by_text("已识别本专用计算机的设备凭据。")).to_be_visible()
    keeper.get_by_label("密钥盘口令（PIN）").fill(SEAL_PIN)
    people.shot(keeper, "3-seal-form")
    keeper.get_by_role("button", name="加盖电子印章").click()
    keeper.wait_for_url(f"**/documents/{doc.pk}/verification/")
    expect(keeper.get_by_text("用印完成，公文已用印。")).to_be_visible()
    people.shot(keeper, "3-sealed-report")
    doc.refresh_from_db()
    assert doc.state == "sealed"

    # 4. The clerk dispatches it from 发文: one delivery per county and bureau.
    nav(clerk, "发文")
    ready = clerk.locator("#ready-table tr", has_text=TITLE)
    ready.get_by_role("button", name="分发").click()
    expect(clerk.get_by_text("已分发至 5 个收文单位。")).to_be_visible()
    clerk.wait_for_url(re.compile(r"/outbox/\d+/$"))
    people.shot(clerk, "4-dispatched")
    sent = Dispatch.objects.get(document=doc)
    assert {d.recipient_unit.name: d.role for d in sent.deliveries.select_related(
        "recipient_unit")} == {"东海县人民政府": "main", "赣榆县人民政府": "main",
                               "灌南县人民政府": "main", FDRC: "copy", FINANCE: "copy"}

    # 5. The clerk of 东海县 opens it in 收文, sees the green report and signs with the PIN.
    dhx = people.page_for("dhx_clerk")
    nav(dhx, "收文")
    expect(dhx.get_by_text("未签收（1）")).to_be_visible()
    dhx.get_by_role("link", name=TITLE).click()
    summary = dhx.locator("#report-summary")
    assert summary.inner_text().startswith("核验通过")
    assert "ok" in summary.get_attribute("class")
    report = dhx.locator("#verification-report li")
    expect(report.nth(3)).to_be_attached()  # at least four checks
    expect(dhx.locator("#verification-report li.check-bad")).to_have_count(0)
    color = summary.evaluate("e => getComputedStyle(e).color")
    r, g, b = (int(x) for x in re.findall(r"\d+", color)[:3])
    assert g > r and g > b, f"the passed report is not green: {color}"
    people.shot(dhx, "5-inbox-report")
    dhx.get_by_label("密钥盘口令（PIN）").fill(RECEIPT_PIN)
    dhx.locator("#sign-form").get_by_role("button", name="签收").click()
    expect(dhx.get_by_text("已签收，签收回执已生成并发送给发文单位。")).to_be_visible()
    registration = dhx.locator("#registration-number").inner_text()
    assert registration != "—"
    people.shot(dhx, "5-signed")

    # 5b. 东海县 prints a numbered copy through the platform (a new tab gets the PDF); the
    #     copy's code is then checked on the public page by someone without a login.
    with dhx.expect_popup() as popup:
        dhx.locator("#print-form").get_by_role("button", name="打印（生成第1份）").click()
    popup.value.close()
    dhx.wait_for_load_state()  # the form reloads the page for the next copy's key
    dhx.reload()
    copy_row = dhx.locator("#copy-table tbody tr")
    expect(copy_row).to_have_count(1)
    expect(copy_row.get_by_text("第1份")).to_be_visible()
    code = copy_row.locator("code").inner_text()
    anonymous = people.anonymous()
    anonymous.goto("/v/")
    assert len(code) == 19  # XXXX-XXXX-XXXX-XXXX; typed in lower case, with a space
    anonymous.get_by_label("核验码").fill(code.lower().replace("-", " ", 1))
    anonymous.get_by_role("button", name="核验").click()
    result = anonymous.locator("#verify-result")
    assert "通过本平台打印的登记件" in result.inner_text()
    assert anonymous.locator("#copy-number").inner_text().startswith("第1份")
    assert anonymous.locator("#sender-unit").inner_text() == "连云港市人民政府办公室"
    assert TITLE not in anonymous.content()
    people.shot(anonymous, "5b-public-verification")

    # 5c. 东海县 forwards it (转发): a new draft of its own, the received sealed file carried
    #     as the first attachment, byte for byte (R-FLOW-5).
    dhx.locator("#forward-form").get_by_role("button", name="转发").click()
    dhx.wait_for_url(re.compile(r"/drafts/\d+/$"))
    expect(dhx.get_by_text("已起草转发通知")).to_be_visible()
    assert dhx.get_by_label("标题").input_value() == f"关于转发《{TITLE}》的通知"
    forward = OfficialDocument.objects.get(title=f"关于转发《{TITLE}》的通知")
    assert forward.unit.name == "东海县人民政府" and forward.forwards.recipient_unit == forward.unit
    [carried] = forward.attachments.all()
    sent_first = Dispatch.objects.get(document__title=TITLE)
    assert carried.blob == sent_first.fingerprint
    people.shot(dhx, "5c-forward-draft")

    # 6. 赣榆县 returns it with a reason.
    gyx = people.page_for("gyx_clerk")
    nav(gyx, "收文")
    gyx.get_by_role("link", name=TITLE).click()
    gyx.get_by_label("退回原因").fill(RETURN_REASON)
    gyx.locator("#return-form").get_by_role("button", name="退回").click()
    expect(gyx.get_by_text("已退回发文单位。")).to_be_visible()
    people.shot(gyx, "6-returned")

    # 7. The sender sees 已签收 with the 收文登记号, the reason of the return, and the
    #    receipt, which verifies offline.
    clerk.reload()
    row = _recipient_row(clerk, "东海县人民政府")
    expect(row.get_by_text("已签收")).to_be_visible()
    expect(row.get_by_text(registration)).to_be_visible()
    expect(_recipient_row(clerk, "赣榆县人民政府").get_by_text(
        f"退回原因：{RETURN_REASON}")).to_be_visible()
    expect(_recipient_row(clerk, "灌南县人民政府").get_by_text("已签收")).to_have_count(0)
    people.shot(clerk, "7-sender-status")
    with clerk.expect_download() as info:
        row.get_by_role("link", name="回执").click()
    receipt_file = tmp_path / info.value.suggested_filename
    info.value.save_as(receipt_file)
    from gongwen.cli import main as gongwen

    assert gongwen(["verify-receipt", str(receipt_file)]) == 0
    # Offline as well: only the exported CA certificates as trust anchors.
    trust = tmp_path / "trust"
    assert gongwen(["pki", "export", "--out", str(trust)]) == 0
    assert gongwen(["verify-receipt", str(receipt_file), "--trust", str(trust)]) == 0
    # The receipt names the document's fingerprint and 东海县; altered, it fails.
    receipt = json.loads(receipt_file.read_text("utf-8"))
    payload = json.loads(base64.b64decode(receipt["payload"]))
    assert sent.fingerprint.split(":", 1)[-1] in json.dumps(payload)
    assert "东海县人民政府" in json.dumps(payload, ensure_ascii=False)
    forged_payload = json.dumps(payload, ensure_ascii=False).replace("东海县", "灌南县")
    receipt["payload"] = base64.b64encode(forged_payload.encode("utf-8")).decode("ascii")
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(receipt, ensure_ascii=False), "utf-8")
    assert gongwen(["verify-receipt", str(forged), "--trust", str(trust)]) == 1

    # 7b. The document page: each receipt with 收文登记号, signer and time, and the timeline.
    clerk.locator("#document-link").click()
    clerk.wait_for_url(f"**/documents/{sent.document_id}/")
    receipts = clerk.locator("#receipt-table tbody tr", has_text="东海县人民政府")
    expect(receipts.get_by_text(registration)).to_be_visible()
    expect(receipts.get_by_role("link", name="下载回执")).to_be_visible()
    timeline = clerk.locator("#timeline-list")
    expect(timeline.locator("li.ev-approved")).to_have_count(1)
    expect(timeline.locator("li.ev-signed", has_text="东海县人民政府")).to_have_count(1)
    expect(timeline.locator("li.ev-returned_by_recipient", has_text=RETURN_REASON)).to_have_count(1)
    people.shot(clerk, "7-document-timeline")

    # 8. 灌南县 never signs: 25 hours later it is overdue on the sender's tracking board
    #    (the live server thread sees the moved clock; the 8-hour sessions have expired).
    states = dict(sent.deliveries.values_list("recipient_unit__name", "state"))
    assert states["东海县人民政府"] == DeliveryState.SIGNED
    assert states["赣榆县人民政府"] == DeliveryState.RETURNED
    assert states["灌南县人民政府"] == DeliveryState.DELIVERED
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25), tick=True):
        late = people.page_for("sfb_clerk")
        nav(late, "跟踪")
        late.get_by_role("link", name="已超时").click()
        late.wait_for_url("**/tracking/?only=overdue")
        overdue = late.locator("#tracking-table tbody tr", has_text="灌南县人民政府")
        expect(overdue.get_by_text("已超时")).to_be_visible()
        expect(late.locator("#tracking-table tbody tr", has_text="东海县人民政府")).to_have_count(0)
        expect(late.locator("#tracking-table tbody tr", has_text="赣榆县人民政府")).to_have_count(0)
        people.shot(late, "8-tracking-overdue")
        # 催办 by phone, recorded on the board: a time in the future is refused in the row,
        # with the input kept; corrected, it is recorded once and the form is empty again.
        overdue.get_by_label("联系人").fill("王科长")
        overdue.get_by_label("催办时间").fill("2030-01-01T10:00")
        overdue.get_by_label("情况说明").fill("已电话提醒尽快签收")
        overdue.get_by_role("button", name="登记催办").click()
        expect(overdue.get_by_role("alert")).to_contain_text("催办时间不能晚于现在")
        expect(overdue.get_by_label("联系人")).to_have_value("王科长")
        overdue.get_by_label("催办时间").fill("")
        overdue.get_by_role("button", name="登记催办").dblclick()
        expect(overdue.get_by_text("催办情况已登记。")).to_be_visible()
        expect(overdue.locator(".follow-ups li", has_text="王科长")).to_have_count(1)
        expect(overdue.get_by_label("联系人")).to_have_value("")
        people.shot(late, "8-follow-up")
        late.goto(f"/outbox/{sent.pk}/")
        expect(_recipient_row(late, "灌南县人民政府").get_by_text("已超时")).to_be_visible()
        people.shot(late, "8-dispatch-overdue")

        # 9. The unit head of 市政府办公室 (the platform's unit) reads 统计 for every unit:
        #    one notice sent, five electronic deliveries, 灌南县 and the two bureaus overdue.
        head = people.page_for("sfb_head")
        nav(head, "统计")
        head.wait_for_url("**/stats/")
        totals = head.locator("#stat-totals")
        assert totals.locator('[data-total="sent"]').inner_text() == "1"
        assert totals.locator('[data-total="received"]').inner_text() == "5"
        assert totals.locator('[data-total="overdue_rate"]').inner_text() == "60.0%"
        expect(head.locator("svg.chart")).to_have_count(4)
        expect(head.locator("#stats-units").get_by_role("link", name="灌南县人民政府")).to_be_visible()
        people.shot(head, "9-statistics")
    gn = Delivery.objects.get(dispatch=sent, recipient_unit__name="灌南县人民政府")
    assert gn.state == DeliveryState.DELIVERED and gn.signed_at is None

