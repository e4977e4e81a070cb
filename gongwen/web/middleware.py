"""Checks every request passes before any view: one place, for the pages and the API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render, resolve_url

from gongwen.web.targets import local_page, page_for
from gongwen.web.views.common import error_page

NUL = "\x00"
NUL_MESSAGE = "请求中含有空字符（U+0000），无法处理；请删除该字符后重试。"
TOO_BIG_MESSAGE = "请求内容过大。"
MALFORMED_MESSAGE = "请求格式不正确。"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _in_fields(fields) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in fields.lists())


def carries_nul(request: HttpRequest) -> bool:
    """True if the path, the query string, a form's fields (not uploaded files' content) or
    an API call's JSON body carries U+0000. PostgreSQL cannot store it in text ("text
    fields cannot contain NUL"), so such a value would fail in the database, not in
    validation: views read search terms and short fields (a reason, a comment) straight
    from the request, and the API's schemas accept any string. Raises what reading the
    body raises."""
    if NUL in request.path or _in_fields(request.GET):
        return True
    content_type = request.content_type or ""
    if _is_api(request):
        # The API reads JSON bodies only (django-ninja reads the raw body, which cannot be
        # read once the form has been parsed); a form sent there is refused as not JSON.
        return content_type == "application/json" and b"\\u0000" in request.body
    return request.method == "POST" and content_type in _FORMS and _in_fields(request.POST)


class RefuseNulCharacters:
    """A request carrying U+0000 gets a 400 with a Chinese message (the API's error shape
    under /api/) instead of a database error; nothing reaches a view or the database. A
    body that cannot be read (too big, a broken multipart form) is answered here too (413
    or 400): once Django has failed to parse a form, the view would see it empty."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refused = carries_nul(request)
        except RequestDataTooBig:
            return _refusal(request, 413, "too_large", TOO_BIG_MESSAGE)
        except (SuspiciousOperation, MultiPartParserError):
            return _refusal(request, 400, "invalid", MALFORMED_MESSAGE)
        if refused:
            return _refusal(request, 400, "invalid", NUL_MESSAGE)
        return self.get_response(request)


def _refusal(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    """The API's error shape (``gongwen.api.errors``) under /api/, else the platform's
    error page."""
    if _is_api(request):
        return JsonResponse({"error": code, "message": message}, status=status)
    return error_page(status, "请求有误", message)(request)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


# -- refusals a browser or an API client would otherwise get without a word ----------------

METHOD_NOT_ALLOWED_TITLE = "无法直接打开该地址"
POST_ONLY_MESSAGE = "该地址只能通过页面上的按钮提交，请返回上一页。"
METHOD_MESSAGE = "该地址不支持这种请求方式，请返回上一页后重试。"


class ExplainMethodNotAllowed:
    """A 405 (``require_POST`` and friends answer it with an empty body, django-ninja with
    English text) becomes the platform's error page with a way back, or under /api/ the
    API's error shape (``method_not_allowed``). It is met by opening a button's address:
    typed, bookmarked, or the page after a login. The ``Allow`` header is kept."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405:
            return response
        allowed = [m.strip() for m in response.get("Allow", "").split(",") if m.strip()]
        if _is_api(request):
            answer: HttpResponse = JsonResponse(
                {"error": "method_not_allowed",
                 "message": f"该接口不支持 {request.method} 请求"
                            + (f"（可用：{'、'.join(sorted(allowed))}）。" if allowed else "。")},
                status=405)
        else:
            back = local_page(request, request.headers.get("Referer", ""))
            if back == request.get_full_path():
                back = ""
            answer = render(request, "web/error.html", {
                "status": 405, "title": METHOD_NOT_ALLOWED_TITLE,
                "message": METHOD_MESSAGE if "GET" in allowed else POST_ONLY_MESSAGE,
                "back_url": back or page_for(request.path),
                "back_label": "返回上一页" if back else "打开相关页面"}, status=405)
        if allowed:
            answer["Allow"] = ", ".join(allowed)
        return answer


class LoginRedirects:
    """What a request that needs a login gets once the session has ended (R-UI-1).

    - An HTMX request (the live 版式预览, a search that swaps in its rows) gets a short
      notice with a link to the login page for the page it was made from, not the login
      page itself swapped into a panel. Not an ``HX-Redirect``: the preview asks on its
      own while the user types, and leaving the editor then would throw the typing away.
      It is a 200 because htmx swaps only successful answers.
    - A refused POST (a button, a form) is sent to the login page with ``next`` the page
      the form was on (its Referer), not the form's address, which may take POST only.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 302 or _is_api(request):
            return response
        location = urlsplit(response.get("Location", ""))
        login_path = resolve_url(settings.LOGIN_URL)
        # login_required's redirect always names the page (``next``); 退出's does not.
        if (location.path != login_path or location.netloc
                or REDIRECT_FIELD_NAME not in parse_qs(location.query)):
            return response
        if request.headers.get("HX-Request"):
            page = local_page(request, request.headers.get("HX-Current-URL", ""))
            url = login_path + (f"?{urlencode({'next': page}, safe='/')}" if page else "")
            return render(request, "web/_login_expired.html", {"login_url": url})
        if request.method in ("GET", "HEAD"):
            return response
        page = local_page(request, request.headers.get("Referer", ""))
        if not page or urlsplit(page).path == login_path:
            page = page_for(request.path)
        response["Location"] = f"{login_path}?{urlencode({'next': page}, safe='/')}"
        return response
