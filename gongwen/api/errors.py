"""One error shape for the whole API: ``{"error": code, "message": "<Chinese>"}``.

Statuses: 400 bad input, 401 no or bad credentials, 403 not allowed, 404 missing or not
visible (another unit's object is never confirmed to exist), 409 a state conflict, 413 an
oversized request. A bad request never answers 500. What django-ninja does not answer gets
the same shape elsewhere: an address under /api/ that no endpoint answers (404
``not_found``) and a server error (500 ``server_error``) from the URL configuration's error
handlers (``gongwen.web.views.common``), a method an endpoint does not take (405
``method_not_allowed``) from ``gongwen.web.middleware.ExplainMethodNotAllowed``.

The services raise Django's ``ValidationError`` both for bad input and for a verb that does
not fit the object's state; the API tells them apart by the exception class (the transition
errors of the documents and exchange models), by the error's code (``policy.errors``: a
state conflict, an idempotency key used for another object), by a stable ``why`` code
(sealing refusals), or by an explicit ``Conflict`` raised from an endpoint that re-read the
object's state.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from gongwen.documents.models import InvalidTransition
from gongwen.exchange.models import InvalidDeliveryTransition
from gongwen.pki.errors import KeyDiskLocked, PINFormatError, PKIError, WrongPIN
from gongwen.policy.errors import CONFLICT, KEY_REUSED

# Sealing refusals (documents.sealing.SealingRefused, seals.services.SealUseRefused) whose
# ``why`` is a state of the document rather than a missing right.
_CONFLICT_WHY = frozenset({"state", "order", "conflict"})


class Conflict(Exception):
    """409: the object's state does not allow the verb now."""

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message)
        self.message, self.code = message, code


def error(api: NinjaAPI, request, status: int, code: str, message: str):
    return api.create_response(request, {"error": code, "message": message}, status=status)


def messages_of(exc: DjangoValidationError) -> str:
    return "；".join(m for m in exc.messages if m) or "请求内容不正确。"


_FIELD_NAMES = {"body": "请求体", "query": "查询参数", "path": "路径参数", "header": "请求头",
                "form": "表单", "cookie": "Cookie"}


def _describe(errors: list[dict]) -> str:
    """A short Chinese description of pydantic/ninja input errors (first three)."""
    parts = []
    for err in errors[:3]:
        loc = [str(p) for p in err.get("loc", ())]
        where = _FIELD_NAMES.get(loc[0], loc[0]) if loc else ""
        # ninja nests a schema parameter under its own name: ("body", "body", "pin").
        rest = loc[2:] if len(loc) > 2 and loc[1] in ("body", "query") else loc[1:]
        field = ".".join(rest)
        kind = err.get("type", "")
        if kind == "missing":
            what = "缺少必填项"
        elif kind in ("string_too_long", "too_long"):
            what = "内容过长"
        elif kind in ("json_invalid", "json_type") or "json" in kind:
            what = "不是有效的 JSON"
        elif kind.startswith(("greater_than", "less_than")):
            what = "数值超出范围"
        elif kind in ("literal_error", "enum"):
            what = "取值不在允许范围内"
        elif kind == "extra_forbidden":
            what = "不是可接受的字段（请核对字段名）"
        else:
            what = "格式或类型不正确"
        parts.append(f"{where}{(' ' + field) if field else ''}：{what}")
    return "请求参数不正确（" + "；".join(parts) + "）。" if parts else "请求参数不正确。"


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api`` (replacing ninja's defaults)."""

    @api.exception_handler(NinjaValidationError)
    def _input(request, exc):
        return error(api, request, 400, "invalid", _describe(list(exc.errors)))

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        return error(api, request, 401, "unauthorized", "未登录或访问令牌无效。")

    @api.exception_handler(HttpError)
    def _http(request, exc):
        if exc.status_code == 403:  # e.g. the CSRF check of a browser session
            return error(api, request, 403, "forbidden", "请求未通过安全校验（CSRF），请刷新页面后重试。")
        if exc.status_code == 401:
            return error(api, request, 401, "unauthorized", "未登录或访问令牌无效。")
        if exc.status_code == 400:  # a request body that is not JSON
            return error(api, request, 400, "invalid", "请求体不是有效的 JSON。")
        return error(api, request, exc.status_code, "error", "请求未能处理。")

    @api.exception_handler(Conflict)
    def _conflict(request, exc):
        return error(api, request, 409, exc.code, exc.message)

    @api.exception_handler(PermissionDenied)
    def _denied(request, exc):
        why = getattr(exc, "why", "")
        text = str(exc)
        message = (getattr(exc, "message_zh", "")
                   or (text if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "")
                   or "您没有执行此操作的权限。")
        if why in _CONFLICT_WHY:
            return error(api, request, 409, "conflict", message)
        if why == "pin":
            return error(api, request, 400, "wrong_pin", message)
        return error(api, request, 403, "forbidden", message)

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return error(api, request, 404, "not_found", "未找到该对象，或您无权查看。")

    @api.exception_handler(DjangoValidationError)
    def _invalid(request, exc):
        message = messages_of(exc)
        code = getattr(exc, "code", None)
        if isinstance(exc, (InvalidTransition, InvalidDeliveryTransition)) or code == CONFLICT:
            return error(api, request, 409, "conflict", message)
        if code == KEY_REUSED:
            return error(api, request, 409, "idempotency_key_reused",
                         "该幂等键已用于其他请求，请为新的操作生成新的幂等键。")
        return error(api, request, 400, "invalid", message)

    @api.exception_handler(PKIError)
    def _pki(request, exc):
        if isinstance(exc, (WrongPIN, PINFormatError)):
            return error(api, request, 400, "wrong_pin", exc.message_zh)
        if isinstance(exc, KeyDiskLocked):
            return error(api, request, 403, "key_disk_locked", exc.message_zh)
        return error(api, request, 400, "pki_error", exc.message_zh)

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request, exc):
        return error(api, request, 413, "too_large", "请求内容过大。")

    @api.exception_handler(SuspiciousOperation)
    def _suspicious(request, exc):
        return error(api, request, 400, "invalid", "请求格式不正确。")
