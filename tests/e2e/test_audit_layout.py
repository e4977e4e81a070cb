"""The auditor's table fits a 1366px window (the side navigation beside it): every column,
来源 included, on screen, the 单位 column readable, long details wrapped in their cell."""

from __future__ import annotations

import pytest

from gongwen.audit.services import record
from tests.conftest import PASSWORD
from tests.e2e.conftest import login


@pytest.mark.django_db(transaction=True)
def test_audit_table_fits_a_1366px_window(page, shot, make_user, unit_a, operator):
    make_user(unit_a, "auditor", username="sfb_audit")
    for n in range(3):
        record(operator, "permission.denied", unit=unit_a, actor_name="周建国",
               detail={"path": "/seals/self-systems/" + "x" * 120, "perm":
                       "approve_seal_application", "why": "scope",
                       "digest": "sm3:" + "0123456789abcdef" * 4, "n": n})
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, "sfb_audit", PASSWORD)
    page.goto("/audit/")
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    heads = page.locator("table.audit thead th")
    assert heads.count() == 8
    source = heads.nth(7).bounding_box()
    assert source["x"] + source["width"] <= width  # 来源 on screen
    denied = page.locator("table.audit tbody tr", has_text="越权访问被拒绝").first
    unit = denied.locator("td").nth(3).bounding_box()
    assert unit["width"] >= 100  # 连云港市人民政府办公室 not one character a line
    detail = denied.locator("td").nth(6).bounding_box()
    assert detail["x"] + detail["width"] <= source["x"]  # long values wrap in their cell
    assert "越权访问被拒绝" in page.locator("table.audit tbody").inner_text()
    assert "路径：" in page.locator("table.audit tbody").inner_text()
    shot("audit")
