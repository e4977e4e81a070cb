"""The web shell in a real browser: Chinese inbox for a clerk, unit creation by an operator."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gongwen.units.models import Unit
from tests.conftest import PASSWORD
from tests.e2e.conftest import login


@pytest.mark.django_db(transaction=True)
def test_clerk_logs_in_and_sees_the_chinese_inbox(page, shot, clerk_b):
    page.goto("/")
    assert page.title().startswith("登录")
    login(page, "clerk_b", PASSWORD)
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="收文")).to_be_visible()
    expect(nav.get_by_role("link", name="单位管理")).to_have_count(0)  # not for a clerk
    nav.get_by_role("link", name="收文").click()
    page.wait_for_url("**/inbox/")
    expect(page.get_by_role("heading", name="收文")).to_be_visible()
    expect(page.get_by_text("暂无待签收的公文")).to_be_visible()
    shot("inbox")


@pytest.mark.django_db(transaction=True)
def test_operator_creates_a_unit_and_sees_it_listed(page, shot, operator):
    login(page, "op", PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="单位管理").click()
    page.get_by_role("link", name="新建单位").click()
    page.get_by_label("单位代码").fill("11320700014100199Z")
    page.get_by_label("单位全称").fill("连云港市审计局")
    page.get_by_label("发文字号简称").fill("连审")
    page.get_by_label("级别").select_option("department")
    page.get_by_label("已联网").check()
    page.get_by_label("联网日期").fill("2006-10-01")
    shot("form")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已新建单位“连云港市审计局”")).to_be_visible()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="单位管理").click()
    expect(page.locator("#unit-table").get_by_role("link", name="连云港市审计局")).to_be_visible()
    shot("list")
    assert Unit.objects.filter(code="11320700014100199Z").exists()


@pytest.mark.django_db(transaction=True)
def test_wrong_password_shows_chinese_error(page, clerk_b):
    page.goto("/login/")
    page.get_by_label("用户名").fill("clerk_b")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().startswith("用户名或密码错误")
