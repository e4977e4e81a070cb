"""Checks every request passes before any view: one place, for the pages and the API."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

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
