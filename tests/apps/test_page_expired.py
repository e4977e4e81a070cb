"""A form whose CSRF token went stale (R-UI-1): usually a login in another tab rotated it
under a page still open here. The user gets the way back with the input kept, never a bare
403, and the API a JSON error."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gongwen.documents.models import OfficialDocument
from tests.conftest import PASSWORD


@pytest.fixture
def browser(make_user, unit_a):
    """A logged-in browser whose page carries a token that no longer matches its cookie."""
    make_user(unit_a, "clerk", username="gov_clerk")
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("web:login"))
    token = client.cookies["csrftoken"].value
    assert client.post(reverse("web:login"), {"username": "gov_clerk", "password": PASSWORD,
                                              "csrfmiddlewaretoken": token}).status_code == 302
    client.stale_token = token  # login rotated the cookie; the old page still holds this
    assert client.cookies["csrftoken"].value != token
    return client


@pytest.mark.django_db
def test_preview_with_a_stale_token_says_so_in_its_panel(browser):
    """GIVEN the editor open in a tab while the user logged in again in another one
    WHEN the live preview (HTMX) posts the editor's old token
    THEN its panel gets a 200 notice with a 刷新本页 link to the editor that keeps the input,
    not a 403 that htmx would silently ignore."""
    response = browser.post(reverse("web:draft_preview"),
                            {"title": "关于", "csrfmiddlewaretoken": browser.stale_token},
                            headers={"HX-Request": "true",
                                     "HX-Current-URL": "http://testserver/drafts/new/"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "本页面已过期" in body and "已输入的内容会保留" in body
    assert '<a href="/drafts/new/" data-reload-unsaved>刷新本页</a>' in body
    assert "<html" not in body


@pytest.mark.django_db
def test_preview_notice_never_links_to_another_site(browser):
    response = browser.post(reverse("web:draft_preview"),
                            {"csrfmiddlewaretoken": browser.stale_token},
                            headers={"HX-Request": "true",
                                     "HX-Current-URL": "https://evil.example/drafts/new/"})
    body = response.content.decode()
    assert "evil" not in body
    # Not the preview's own address (it takes POST only): the page above it.
    assert '<a href="/drafts/" data-reload-unsaved>' in body


@pytest.mark.django_db
def test_saving_with_a_stale_token_offers_the_way_back_and_keeps_the_input(browser):
    response = browser.post(reverse("web:draft_create"),
                            {"title": "关于", "csrfmiddlewaretoken": browser.stale_token},
                            headers={"Referer": "http://testserver/drafts/new/"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "页面已过期" in body and "在其他窗口重新登录" in body
    assert '<a href="/drafts/new/">回到原页面</a>' in body
    assert "data-unsaved-note" in body  # unsaved.js holds the copy for the editor
    assert not OfficialDocument.objects.exists()


@pytest.mark.django_db
def test_a_button_without_a_referer_leads_to_the_page_above_it(browser):
    response = browser.post("/drafts/5/submit/", {"csrfmiddlewaretoken": browser.stale_token})
    assert response.status_code == 403
    assert '<a href="/drafts/5/">回到原页面</a>' in response.content.decode()


@pytest.mark.django_db
def test_the_fresh_token_still_works(browser):
    """The notice is for a stale token only: the page reloaded gets the new one."""
    token = browser.cookies["csrftoken"].value
    response = browser.post(reverse("web:draft_preview"),
                            {"title": "关于", "csrfmiddlewaretoken": token},
                            headers={"HX-Request": "true"})
    assert response.status_code == 200 and "本页面已过期" not in response.content.decode()


@pytest.mark.django_db
def test_other_htmx_forms_are_not_promised_their_input(browser):
    """Only the editor keeps its input (data-keep-unsaved): the 催办 form of the tracking
    board is told to reload and try again, not that its input is kept."""
    body = browser.post("/inbox/1/follow-up/", {"how": "phone",
                                             "csrfmiddlewaretoken": browser.stale_token},
                        headers={"HX-Request": "true",
                                 "HX-Current-URL": "http://testserver/tracking/"}
                        ).content.decode()
    assert "本页面已过期" in body and "刷新本页</a>后重试" in body
    assert "已输入的内容会保留" not in body


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [False, True])
def test_a_form_from_another_site_is_refused_not_blamed_on_another_tab(browser, htmx):
    """A failed Origin check (a form posted from another site, or a proxy missing from
    GONGWEN_CSRF_TRUSTED_ORIGINS): reloading would not help, so no 刷新本页 loop."""
    token = browser.cookies["csrftoken"].value
    headers = {"Origin": "https://evil.example"}
    if htmx:
        headers["HX-Request"] = "true"
    response = browser.post(reverse("web:draft_create"),
                            {"title": "关于", "csrfmiddlewaretoken": token}, headers=headers)
    assert response.status_code == 403
    body = response.content.decode()
    assert "表单来源不明" in body and "其他窗口" not in body and "刷新本页" not in body
    assert not OfficialDocument.objects.exists()
