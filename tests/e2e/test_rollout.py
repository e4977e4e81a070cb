"""The roll-out in a real browser (R-POLICY-1/2, R-FLOW-4): the operator configures 第一阶段
with its paper parallel run on 推行阶段 → a county clerk's 通知 is refused at submission
with the phase's scope → the city office's mail room registers a 请示 that came on paper
only and is told it is not accepted → the county clerk finds the notice. Screenshots go to
test-artifacts/e2e/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gongwen.accounts.models import Role
from gongwen.exchange.models import PaperArrival
from gongwen.policy.models import RolloutPhase
from tests.conftest import PASSWORD
from tests.e2e.conftest import login, nav

pytestmark = pytest.mark.django_db(transaction=True)



def test_phase_one_refuses_a_county_notice_and_paper_only_requests(
        page, shot, unit_a, unit_b, make_unit, make_user, operator):
    unit_a.networked = unit_b.networked = True
    unit_a.short_name, unit_b.short_name = "连政办", "东政"
    unit_a.save()
    unit_b.save()
    bureau = make_unit("连云港市财政局", networked=True)
    make_user(unit_a, Role.CLERK, username="sfb_clerk")
    make_user(unit_b, Role.CLERK, username="dhx_clerk")

    # 1. The operator adds 第一阶段 (since yesterday, 纸电并行) on 推行阶段.
    login(page, operator.username, PASSWORD)
    nav(page, "推行阶段")
    page.wait_for_url("**/policy/")
    assert page.locator("#current-phase").inner_text().startswith("尚未配置推行阶段")
    form = page.locator("#phase-form")
    form.get_by_label("阶段名称").fill("第一阶段")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    form.get_by_label("起始日期").fill(yesterday.isoformat())
    form.locator("#id_senders").get_by_label(unit_a.name).check()
    form.locator("#id_request_recipients").get_by_label(unit_a.name).check()
    form.get_by_label("纸电并行").check()
    form.get_by_role("button", name="保存").click()
    page.wait_for_url("**/policy/")
    expect(page.get_by_text("已保存推行阶段“第一阶段”。")).to_be_visible()
    row = page.locator("#phase-table tbody tr", has_text="第一阶段")
    expect(row.get_by_text("当前")).to_be_visible()
    assert "各联网单位上报" in row.inner_text()
    shot("1-phases")
    phase = RolloutPhase.objects.get()
    assert phase.paper_parallel and phase.starts_on == yesterday
    # … and edits it: the form comes back filled in.
    row.get_by_role("link", name="修改").click()
    form = page.locator("#phase-form")
    assert form.get_by_label("阶段名称").input_value() == "第一阶段"
    expect(form.get_by_label("纸电并行")).to_be_checked()
    form.get_by_label("说明").fill("连政办发〔2006〕107号")
    form.get_by_role("button", name="保存").click()
    page.wait_for_url("**/policy/")
    expect(page.locator("#phase-table tbody tr", has_text="连政办发〔2006〕107号")).to_have_count(1)
    assert RolloutPhase.objects.get().note == "连政办发〔2006〕107号"

    # 2. 东海县's clerk drafts a 通知 to the bureau: outside phase 1, refused at submission.
    page.context.clear_cookies()
    login(page, "dhx_clerk", PASSWORD)
    nav(page, "草稿")
    page.get_by_role("link", name="起草公文").click()
    page.get_by_label("文种").select_option(label="通知")
    page.get_by_label("标题").fill("关于开展安全生产检查的通知")
    page.get_by_label("主送机关（通讯录）").select_option(label=[bureau.name])
    page.get_by_label("正文", exact=True).fill("请各单位认真开展安全生产检查。")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存。")).to_be_visible()
    page.get_by_role("button", name="保存并提交核批").click()
    refusal = page.locator(".msg.error", has_text="不在此范围内")
    expect(refusal).to_contain_text("第一阶段")
    shot("2-refused")

    # 3. The city office's clerk registers a 请示 from 东海县 that came on paper only.
    page.context.clear_cookies()
    login(page, "sfb_clerk", PASSWORD)
    nav(page, "收文")
    page.locator("#paper-arrivals-link").click()
    page.wait_for_url("**/inbox/paper/")
    expect(page.locator("#parallel-run")).to_be_visible()
    page.get_by_label("来文单位").select_option(label=unit_b.name)
    page.get_by_label("标题").fill("关于申请防汛资金的请示")
    page.get_by_label("发文字号").fill("东政发[2026]8号")
    page.get_by_label("请示").check()
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".msg", has_text="不予受理").first).to_be_visible()
    expect(page.locator("#arrival-table tbody tr", has_text="东政发〔2026〕8号")
           .get_by_text("仅纸质件，不予受理")).to_be_visible()
    shot("3-paper-only-refused")
    assert PaperArrival.objects.get().outcome == PaperArrival.Outcome.REFUSED

    # 4. 东海县's clerk is told to report it through the platform.
    page.context.clear_cookies()
    login(page, "dhx_clerk", PASSWORD)
    page.goto("/notifications/")
    expect(page.get_by_text("不予受理", exact=False).first).to_be_visible()
    shot("4-told")

    # 5. The operator removes the phase (after a confirmation): nothing is restricted.
    page.context.clear_cookies()
    login(page, operator.username, PASSWORD)
    page.goto("/policy/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#phase-table tbody tr", has_text="第一阶段") \
        .get_by_role("button", name="删除").click()
    page.wait_for_url("**/policy/")
    expect(page.get_by_text("已删除该推行阶段。")).to_be_visible()
    assert page.locator("#current-phase").inner_text().startswith("尚未配置推行阶段")
    assert not RolloutPhase.objects.exists()
