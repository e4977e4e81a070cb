"""Where the login and the error pages send the browser: pages only, never an address that
takes a button's POST (it would answer 405)."""

from __future__ import annotations

import pytest
from django.urls import resolve

from gongwen.web.targets import accepts_get, page_for, view_methods


def test_reads_the_methods_of_djangos_decorators_on_real_views():
    # The reading depends on how require_http_methods keeps its list: this guards it.
    assert view_methods(resolve("/outbox/dispatch/4/").func) == {"POST"}
    assert view_methods(resolve("/login/").func) == {"GET", "POST"}
    assert view_methods(resolve("/pki/crl/city.crl").func) == {"GET"}
    assert view_methods(resolve("/drafts/new/").func) is None


@pytest.mark.parametrize(("path", "ok"), [
    ("/drafts/new/", True), ("/documents/4/", True), ("/outbox/dispatch/4/", False),
    ("/drafts/5/submit/", False), ("/logout/", False), ("/no-such-page/", False)])
def test_accepts_get(path, ok):
    assert accepts_get(path) is ok


@pytest.mark.parametrize(("path", "page"), [
    ("/drafts/5/submit/", "/drafts/5/"), ("/inbox/3/sign/", "/inbox/3/"),
    ("/documents/4/review/approve/", "/documents/4/"), ("/outbox/dispatch/4/", "/outbox/"),
    ("/users/7/unlock/", "/users/7/"), ("/logout/", "/home/"), ("/outbox/", "/outbox/")])
def test_page_for_a_post_only_address_is_the_nearest_page_above_it(path, page):
    assert page_for(path) == page


def test_an_absurdly_deep_address_is_not_resolved_segment_by_segment():
    """A header anyone can send (Referer, HX-Current-URL) must not cost one URL resolution
    per segment: past any real page's depth the answer is the home page at once."""
    from django.urls import reverse

    assert page_for("/a" * 4000 + "/") == reverse("web:home")
    assert page_for("/drafts/" + "x" * 400 + "/") == reverse("web:home")
