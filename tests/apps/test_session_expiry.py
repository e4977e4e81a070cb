"""What a browser gets once its session has ended, and for an address that takes a button's
POST only: never an empty page, never the login page inside a panel."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/drafts/new/"}


def _next(response) -> str:
    location = urlsplit(response["Location"])
    assert location.path == reverse("web:login")
    return parse_qs(location.query).get("next", [""])[0]


@pytest.mark.django_db
def test_htmx_request_after_the_session_ended_gets_a_notice_not_the_login_page(client):
    """GIVEN the draft editor open while the session has ended
    WHEN the live preview (an HTMX POST to /drafts/preview/) asks again
    THEN the panel gets a short Chinese notice with a link to the login page that returns to
    the editor, not to the preview's address, and not the login form itself."""
    response = client.post(reverse("web:draft_preview"), {"title": "关于"}, headers=HTMX)
    assert response.status_code == 200  # htmx swaps successful answers only
    body = response.content.decode()
    assert "登录已过期，请" in body and "重新登录" in body
    assert 'href="/login/?next=/drafts/new/"' in body
    assert "<form" not in body and "<html" not in body


@pytest.mark.django_db
def test_htmx_search_after_the_session_ended_returns_to_its_page(client):
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/outbox/?q=abc"}
    body = client.get("/outbox/", {"q": "abc"}, headers=headers).content.decode()
    assert 'href="/login/?next=/outbox/%3Fq%3Dabc"' in body


@pytest.mark.django_db
def test_htmx_notice_never_links_to_another_site(client):
    headers = {"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    body = client.get("/outbox/", headers=headers).content.decode()
    assert 'href="/login/"' in body and "evil" not in body


@pytest.mark.django_db
def test_a_plain_page_still_redirects_to_the_login_page(client):
    response = client.get("/outbox/")
    assert response.status_code == 302 and _next(response) == "/outbox/"


@pytest.mark.django_db
def test_refused_button_returns_after_login_to_the_page_it_was_on(client):
    """GIVEN a document page open while the session has ended
    WHEN its 分发 button posts to /outbox/dispatch/4/
    THEN the login page is asked to return to the document page (the Referer), not to the
    button's address, which would answer 405."""
    response = client.post("/outbox/dispatch/4/", headers={"Referer":
                                                            "http://testserver/documents/4/"})
    assert response.status_code == 302 and _next(response) == "/documents/4/"


@pytest.mark.django_db
def test_refused_draft_save_returns_to_the_editor(client):
    response = client.post(reverse("web:draft_create"), {"title": "关于"},
                           headers={"Referer": "http://testserver/drafts/new/"})
    assert _next(response) == "/drafts/new/"


@pytest.mark.django_db
@pytest.mark.parametrize("referer", ["", "https://evil.example/documents/4/",
                                     "http://testserver/login/?next=/x/"])
def test_refused_button_without_a_usable_referer_returns_to_the_page_above(client, referer):
    headers = {"Referer": referer} if referer else {}
    response = client.post("/drafts/5/submit/", headers=headers)
    assert _next(response) == "/drafts/5/"


@pytest.mark.django_db
def test_logout_still_goes_to_the_plain_login_page(client, clerk_a):
    client.force_login(clerk_a)
    response = client.post(reverse("web:logout"),
                           headers={"Referer": "http://testserver/documents/4/"})
    assert response["Location"] == reverse("web:login")


@pytest.mark.django_db
def test_button_address_opened_in_the_browser_gets_a_chinese_page(client, clerk_a):
    client.force_login(clerk_a)
    response = client.get("/outbox/dispatch/1/")
    assert response.status_code == 405 and response["Allow"] == "POST"
    page = response.content.decode()
    assert "该地址只能通过页面上的按钮提交，请返回上一页。" in page
    assert 'class="sidenav"' in page  # in the site's layout
    assert '<a href="/outbox/">打开相关页面</a>' in page


@pytest.mark.django_db
def test_405_page_links_back_to_the_page_it_came_from(client, clerk_a):
    client.force_login(clerk_a)
    response = client.get("/drafts/5/submit/",
                          headers={"Referer": "http://testserver/documents/5/"})
    assert '<a href="/documents/5/">返回上一页</a>' in response.content.decode()


@pytest.mark.django_db
def test_405_without_login_is_a_page_too(client):
    response = client.get("/logout/")
    assert response.status_code == 405
    assert "该地址只能通过页面上的按钮提交" in response.content.decode()


@pytest.mark.django_db
def test_post_to_a_download_address_is_explained(client):
    response = client.post("/pki/crl/city.crl")
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert "该地址不支持这种请求方式" in response.content.decode()


@pytest.mark.django_db
def test_editor_keeps_unsaved_input_in_the_browser(client, clerk_a):
    # The script (static/gongwen/unsaved.js, tests/e2e/test_session_expiry.py) acts on
    # these marks: the form to keep, whose it is, and the notice shown once restored.
    client.force_login(clerk_a)
    page = client.get(reverse("web:draft_create")).content.decode()
    assert 'data-keep-unsaved data-user="clerk_a"' in page
    assert "data-unsaved-restored hidden" in page
    assert "gongwen/unsaved.js" in page
    client.logout()
    assert "data-unsaved-note hidden" in client.get(reverse("web:login")).content.decode()
