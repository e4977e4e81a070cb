"""批量用印 in a real browser (issue 9 performance): the seal keeper of 市政府办公室 checks
every approved document of the sealing queue with 全选, enters the key disk PIN once and
sees one result per document. Uses the cast of the main story (test_exchange.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gongwen.accounts.models import User
from gongwen.documents.models import OfficialDocument
from tests.e2e import test_exchange as main_story
from tests.e2e.conftest import nav
from tests.e2e.test_exchange import SEAL_PIN

pytestmark = pytest.mark.django_db(transaction=True)

# The main story's fixtures: its settings (autouse), the cast and the browsers.
exchange_settings = main_story.exchange_settings
story = main_story.story
people = main_story.people


def test_keeper_seals_a_stack_with_one_pin(people, story):
    from gongwen.documents import services

    clerk = User.objects.get(username="sfb_clerk")
    head = User.objects.get(username="sfb_head")
    titles = ["关于做好防汛工作的通知", "关于做好安全生产工作的通知"]
    for title in titles:
        doc = services.create_draft(actor=clerk, doc_type="notice", title=title,
                                    body_text="一、工作要求\n请各单位认真落实。",
                                    main_groups=[story["group"].pk])
        services.submit(actor=clerk, doc_id=doc.pk)
        services.approve(actor=head, doc_id=doc.pk)

    keeper = people.page_for("sfb_seal", extra_http_headers={
        "X-Gongwen-Workstation": story["credential"]})
    nav(keeper, "用印")
    keeper.get_by_role("link", name="全选").click()
    for title in titles:
        expect(keeper.get_by_role("checkbox", name=f"选择 {title}")).to_be_checked()
    keeper.get_by_label("密钥盘口令（PIN）").fill(SEAL_PIN)
    people.shot(keeper, "1-stack-checked")
    keeper.get_by_role("button", name="批量用印").click()
    results = keeper.locator("#batch-results")
    results.wait_for()
    for title in titles:
        assert "用印完成，公文已用印。" in results.locator("tr", has_text=title).inner_text()
    expect(keeper.get_by_text("批量用印：2 件完成，0 件未用印。")).to_be_visible()
    expect(keeper.get_by_text("暂无待用印的公文。")).to_be_visible()
    people.shot(keeper, "2-stack-sealed")
    assert set(OfficialDocument.objects.filter(title__in=titles)
               .values_list("state", flat=True)) == {"sealed"}
