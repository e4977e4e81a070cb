"""Small helpers shared by the views: permission decorator, error pages, pagination."""

from __future__ import annotations

import datetime as dt
import logging
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse

from gongwen.documents.characters import tidy
from gongwen.policy.permissions import Perm, require
from gongwen.web.targets import local_page, page_for

log = logging.getLogger(__name__)


def requires(perm: Perm):
    """Login, then the role check of the permission layer (object checks happen in the view
    or service once the object is loaded)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            require(request.user, perm, request=request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# A second press of 拟批复, 转发 or 起草更正公文 opens the draft the first one made
# (documents.services._open_draft).
REOPENED = "您已起草过《{title}》且尚未提交，已为您打开该草稿；如需重新起草，请先删除它。"


def error_messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def flash_errors(request, exc: Exception) -> None:
    """A refused verb's messages for the next page: each message of a ValidationError, else
    the exception's Chinese message (``message_zh``) or its text."""
    from django.contrib import messages

    if isinstance(exc, ValidationError):
        for m in error_messages(exc):
            messages.error(request, m)
    else:
        messages.error(request, getattr(exc, "message_zh", "") or str(exc))


class Search(dict):
    """The shared search form's values: the keys ``q``, ``date_from``, ``date_to`` are what
    the selectors take (``**search``); ``errors`` says, in Chinese, what was wrong with the
    input and how it was read (shown at the top of the rows the form swaps in,
    web/_search_errors.html)."""

    def __init__(self, **values) -> None:
        super().__init__(**values)
        self.errors: list[str] = []


def _date(search: Search, value: str, what: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        # The browser's date field sends ISO dates; a typed or edited address may not.
        search.errors.append(f"{what}“{value[:20]}”不是有效日期（应为 年-月-日，如 2026-11-27），"
                             "已按未填写处理。")
        return None


# The longest search text: the search boxes have this maxlength (written in the templates),
# and a longer one in an edited address is cut. Far below gunicorn's request-line limit
# (gongwen.cli.LIMIT_REQUEST_LINE), even for Chinese text percent-encoded (9 bytes a character).
SEARCH_MAX = 100


def search_text(request, name: str = "q") -> str:
    # Without paste litter, as the stored text is (documents.characters.tidy): a title
    # copied from a web page with a zero-width space in it must still find the document.
    return tidy(request.GET.get(name, "")).strip()[:SEARCH_MAX]


def search_params(request) -> Search:
    """The shared search form (web/_search.html): text, date from, date to."""
    search = Search(q=search_text(request))
    if len(request.GET.get("q", "").strip()) > SEARCH_MAX:
        search.errors.append(f"检索词过长，已按前 {SEARCH_MAX} 个字检索。")
    search["date_from"] = _date(search, request.GET.get("from", "").strip(), "起始日期")
    search["date_to"] = _date(search, request.GET.get("to", "").strip(), "截止日期")
    if search["date_from"] and search["date_to"] and search["date_from"] > search["date_to"]:
        search.errors.append("起始日期晚于截止日期，没有符合条件的公文；请检查日期范围。")
    return search


def paginate(request, queryset, per_page: int = 25):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# Under /api/ an error is JSON in the API's one shape (gongwen.api.errors, docs/api.md),
# also for an address no endpoint answers and for a server error.
_API_ERRORS = {
    400: ("invalid", "请求格式不正确。"),
    403: ("forbidden", "您没有执行此操作的权限。"),
    404: ("not_found", "接口地址不存在，请核对请求路径（接口说明见 /api/docs）。"),
    500: ("server_error", "服务器处理请求时出错，请稍后重试，或联系平台管理员。"),
}


def error_page(status: int, title: str, message: str):
    def view(request, exception=None):
        if request.path.startswith("/api/"):
            code, api_message = _API_ERRORS.get(status, ("error", message))
            return JsonResponse({"error": code, "message": api_message}, status=status)
        return render(request, "web/error.html",
                      {"status": status, "title": title, "message": message}, status=status)

    return view


handler403 = error_page(403, "无权访问", "您没有访问此页面的权限。如需开通，请联系本单位负责人或平台管理员。")
handler404 = error_page(404, "页面不存在", "您访问的页面不存在，或您无权查看该内容。")
handler500 = error_page(500, "系统错误", "服务器处理请求时出错，您的数据未丢失。请稍后重试，或联系平台管理员。")
handler400 = error_page(400, "请求有误", "请求格式不正确，请返回重试。")


PAGE_EXPIRED_MESSAGE = ("本页面的表单已过期（可能在其他窗口重新登录或退出过），"
                        "请回到原页面重新提交。")
FOREIGN_FORM_MESSAGE = "表单来源不明，已拒绝提交。请从本平台的页面重新操作；如反复出现，请联系平台管理员。"


def csrf_failure(request, reason=""):
    """A form refused by the CSRF check (R-UI-1).

    A token that is missing or no longer matches its cookie (Django's reasons all start
    with "CSRF ") is most often not an attack but a login in another tab, which rotates
    the token under a page still open here; so the way back is offered and what was typed
    is kept (static/gongwen/unsaved.js):

    - an HTMX request gets a short notice in its panel with a link that reloads the page
      (a 200, as htmx swaps only those); the live 版式预览 gives the input back;
    - a form gets this page with a link back to the page it was on (its Referer), where
      the editor's input comes back.

    A failed Origin or Referer check is another matter (a form posted from another site,
    or a proxy whose address is not in GONGWEN_CSRF_TRUSTED_ORIGINS): reloading would not
    help, so it is a plain 403 that says the form's origin is unknown.
    """
    if not reason.startswith("CSRF "):
        log.warning("form refused by the CSRF origin check: %s (%s)", reason, request.path)
        return render(request, "web/error.html", {
            "status": 403, "title": "表单来源不明", "message": FOREIGN_FORM_MESSAGE},
            status=403)
    if request.headers.get("HX-Request"):
        log.warning("stale CSRF token on %s: %s", request.path, reason)
        page = local_page(request, request.headers.get("HX-Current-URL", ""))
        return render(request, "web/_page_expired.html", {
            "page_url": page or page_for(request.path),
            "keeps_unsaved": request.path == reverse("web:draft_preview")})
    back = local_page(request, request.headers.get("Referer", "")) or page_for(request.path)
    return render(request, "web/error.html", {
        "status": 403, "title": "页面已过期", "message": PAGE_EXPIRED_MESSAGE,
        "back_url": back, "back_label": "回到原页面", "keeps_unsaved": True}, status=403)
