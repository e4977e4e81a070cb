"""Where the browser may be sent: the page after the login (``next``) and the way back from
an error page. Only a page that a browser can open (GET): an address that takes a button's
POST only (分发 ``/outbox/dispatch/4/``, 提交核批 ``/drafts/5/submit/``) would answer 405,
so the nearest page above it is used instead."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme


def view_methods(view) -> frozenset[str] | None:
    """The methods a view function is limited to by Django's ``require_http_methods``
    (``require_POST``, ``require_GET``), or None for a view that takes any.

    The decorator keeps its list only in its wrapper's closure (``request_method_list``);
    the views keep their ``require_POST`` rather than each naming its methods a second
    time, and tests/apps/test_session_expiry.py checks this reading against real views."""
    func = view
    while func is not None:
        code, cells = getattr(func, "__code__", None), getattr(func, "__closure__", None)
        if code is not None and cells:
            free = dict(zip(code.co_freevars, cells, strict=True))
            if "request_method_list" in free:
                return frozenset(free["request_method_list"].cell_contents)
        func = getattr(func, "__wrapped__", None)
    return None


def accepts_get(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    methods = view_methods(match.func)
    return methods is None or "GET" in methods


# Longer or deeper than any page of the site (the deepest has six segments).
MAX_PATH = 300
MAX_SEGMENTS = 10


def page_for(path: str) -> str:
    """``path`` if a browser may open it, else the nearest address above it that it may
    (``/drafts/5/submit/`` → ``/drafts/5/``, ``/inbox/3/sign/`` → ``/inbox/3/``), else the
    home page (工作台)."""
    parts = [p for p in path.split("/") if p]
    if len(path) > MAX_PATH or len(parts) > MAX_SEGMENTS:
        # No address of the site is this long: one URL resolution per segment of a header
        # anyone can send would cost real CPU for nothing.
        return reverse("web:home")
    trailing = "/" if path.endswith("/") else ""
    for n in range(len(parts), 0, -1):
        candidate = "/" + "/".join(parts[:n]) + (trailing if n == len(parts) else "/")
        if accepts_get(candidate):
            return candidate
    return reverse("web:home")


def local_page(request, url: str) -> str:
    """``url`` as a path (with its query) on this site that a browser may open, or "" for an
    address elsewhere (an open redirect) or none. A POST-only address gives the page above
    it, without the query."""
    if not url or not url_has_allowed_host_and_scheme(
            url, {request.get_host()}, require_https=request.is_secure()):
        return ""
    parts = urlsplit(url)
    path = parts.path or "/"
    if not accepts_get(path):
        return page_for(path)
    return path + (f"?{parts.query}" if parts.query else "")
