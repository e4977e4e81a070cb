"""The session ends while a clerk writes a draft (real browser): the live preview says so in
its panel instead of showing the login page, 保存草稿 leads to the login page, which says the
login expired, and after logging in the editor has the typed input back (sessionStorage,
static/gongwen/unsaved.js), to be saved then. Another user logging in in that tab does not
get it."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from gongwen.documents.models import OfficialDocument
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "关于做好年末安全生产工作的通知"
BODY = "各单位要认真排查安全隐患。"


@pytest.fixture(autouse=True)
def blob_dir(settings, tmp_path):
    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": str(tmp_path / "blobs")}


@pytest.fixture
def clerk(make_user, unit_a):
    return make_user(unit_a, "clerk", username="gov_clerk")


def _end_session(page) -> None:
    # Only the session cookie: clearing all and adding the others back let a preview sent
    # in between go without its CSRF cookie (a flaky test, not what a browser does).
    page.context.clear_cookies(name="sessionid")


def _log_in_elsewhere(page) -> None:
    """What a login in another tab does to this one: Django gives the browser a new CSRF
    token, and the page open here still holds the old one."""
    csrf = next(c for c in page.context.cookies() if c["name"] == "csrftoken")
    page.context.add_cookies([{**csrf, "value": secrets.token_hex(16)}])


def _type_draft(page) -> None:
    page.goto("/drafts/new/")
    page.get_by_label("文种").select_option(label="通知")
    page.get_by_label("标题").fill(TITLE)
    page.get_by_label("正文", exact=True).fill(BODY)


def _log_in_again(page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_typed_draft_survives_an_expired_session(page, clerk, shot):
    login(page, "gov_clerk", PASSWORD)
    _type_draft(page)
    _end_session(page)
    page.get_by_label("正文", exact=True).fill(BODY + "二〇二六年十二月底前完成。")
    preview = page.locator("#preview")
    expect(preview.get_by_text("登录已过期，请")).to_be_visible()
    expect(preview.get_by_role("link", name="重新登录")).to_have_attribute(
        "href", "/login/?next=/drafts/new/")
    assert preview.locator("input[name=password]").count() == 0
    page.evaluate("window.scrollTo(0, 0)")  # the panel is sticky
    shot("preview-expired")

    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url("**/login/?next=/drafts/new/")
    expect(page.get_by_text("登录已过期或尚未登录，请重新登录。")).to_be_visible()
    expect(page.get_by_text("您未保存的内容已暂存在本浏览器中")).to_be_visible()
    shot("login")

    _log_in_again(page, "gov_clerk")
    page.wait_for_url("**/drafts/new/")
    expect(page.get_by_text("已恢复过期前未保存的内容")).to_be_visible()
    expect(page.get_by_label("标题")).to_have_value(TITLE)
    expect(page.get_by_label("正文", exact=True)).to_have_value(BODY + "二〇二六年十二月底前完成。")
    expect(page.get_by_label("文种")).to_have_value("notice")
    shot("restored")

    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/drafts/\d+/$"))
    expect(page.get_by_text("草稿已保存。")).to_be_visible()
    assert OfficialDocument.objects.filter(title=TITLE, created_by=clerk).count() == 1
    # Saved: the copy is gone, a new draft starts empty.
    page.goto("/drafts/new/")
    expect(page.get_by_label("标题")).to_have_value("")
    expect(page.get_by_text("已恢复过期前未保存的内容")).to_be_hidden()


def test_another_user_in_the_same_tab_does_not_get_the_copy(page, clerk, make_user, unit_a):
    make_user(unit_a, "clerk", username="other_clerk")
    login(page, "gov_clerk", PASSWORD)
    _type_draft(page)
    _end_session(page)
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url("**/login/?next=/drafts/new/")
    _log_in_again(page, "other_clerk")
    page.wait_for_url("**/drafts/new/")
    expect(page.get_by_label("标题")).to_have_value("")
    expect(page.get_by_text("已恢复过期前未保存的内容")).to_be_hidden()


def test_the_previews_relogin_link_keeps_the_input_too(page, clerk):
    login(page, "gov_clerk", PASSWORD)
    _type_draft(page)
    _end_session(page)
    page.get_by_label("标题").fill(TITLE + "（二）")
    page.get_by_label("标题").press("Tab")  # its change asks the preview once more
    page.wait_for_load_state("networkidle")
    page.locator("#preview").get_by_role("link", name="重新登录").click()
    page.wait_for_url("**/login/?next=/drafts/new/")
    _log_in_again(page, "gov_clerk")
    page.wait_for_url("**/drafts/new/")
    expect(page.get_by_label("标题")).to_have_value(TITLE + "（二）")
    expect(page.get_by_label("正文", exact=True)).to_have_value(BODY)


def test_a_login_in_another_tab_keeps_the_input_through_the_preview(page, clerk, shot):
    """GIVEN the editor open with typed input, and a login in another tab (new CSRF token)
    WHEN the preview asks again with the page's old token
    THEN its panel says the page expired, and 刷新本页 reloads the editor with the input."""
    login(page, "gov_clerk", PASSWORD)
    _type_draft(page)
    _log_in_elsewhere(page)
    page.get_by_label("标题").fill(TITLE + "（三）")
    preview = page.locator("#preview")
    expect(preview.get_by_text("本页面已过期")).to_be_visible()
    shot("preview-page-expired")
    preview.get_by_role("link", name="刷新本页").click()
    expect(page.get_by_text("已恢复过期前未保存的内容")).to_be_visible()
    expect(page.get_by_label("标题")).to_have_value(TITLE + "（三）")
    expect(page.get_by_label("正文", exact=True)).to_have_value(BODY)
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/drafts/\d+/$"))
    assert OfficialDocument.objects.filter(title=TITLE + "（三）", created_by=clerk).exists()


def test_an_expired_preview_asks_no_more(page, clerk):
    """GIVEN the preview showing 本页面已过期 WHEN the clerk types on and leaves the field
    THEN no new preview request goes out: it would fail the same way, and its answer swapped
    in under the pointer would swallow a click on 刷新本页 (a flaky test showed it)."""
    login(page, "gov_clerk", PASSWORD)
    _type_draft(page)
    _log_in_elsewhere(page)
    page.get_by_label("标题").fill(TITLE + "（四）")
    expect(page.locator("#preview").get_by_text("本页面已过期")).to_be_visible()
    page.wait_for_load_state("networkidle")
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/drafts/preview/" in r.url else None)
    page.get_by_label("正文", exact=True).fill(BODY + "再补一句。")
    page.get_by_label("正文", exact=True).press("Tab")  # a change event as well
    page.wait_for_timeout(1500)  # past the preview's 800 ms input delay
    assert asked == []
    expect(page.locator("#preview").get_by_role("link", name="刷新本页")).to_be_visible()


def test_a_login_in_another_tab_keeps_the_input_through_saving(page, clerk, shot):
    """GIVEN the same, WHEN 保存草稿 posts the old token, THEN the 页面已过期 page says the
    input is kept, and 回到原页面 gives it back, to be saved then."""
    login(page, "gov_clerk", PASSWORD)
    _type_draft(page)
    _log_in_elsewhere(page)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("heading", name="403 · 页面已过期")).to_be_visible()
    expect(page.get_by_text("您未保存的内容已暂存在本浏览器中")).to_be_visible()
    shot("page-expired")
    page.get_by_role("link", name="回到原页面").click()
    page.wait_for_url("**/drafts/new/")
    expect(page.get_by_label("标题")).to_have_value(TITLE)
    expect(page.get_by_label("正文", exact=True)).to_have_value(BODY)
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/drafts/\d+/$"))
    assert OfficialDocument.objects.filter(title=TITLE, created_by=clerk).count() == 1
