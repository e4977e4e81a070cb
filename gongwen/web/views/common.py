"""Small helpers shared by the views: permission decorator, error pages, pagination."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render

from gongwen.policy.permissions import Perm, require


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


def error_messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None  # a malformed date is ignored (the browser's date field sends ISO dates)


def search_params(request) -> dict:
    """The shared search form (web/_search.html): text, date from, date to."""
    return {"q": request.GET.get("q", "").strip()[:100],
            "date_from": _date(request.GET.get("from", "")),
            "date_to": _date(request.GET.get("to", ""))}


def paginate(request, queryset, per_page: int = 25):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def error_page(status: int, title: str, message: str):
    def view(request, exception=None):
        return render(request, "web/error.html",
                      {"status": status, "title": title, "message": message}, status=status)

    return view


handler403 = error_page(403, "无权访问", "您没有访问此页面的权限。如需开通，请联系本单位负责人或平台管理员。")
handler404 = error_page(404, "页面不存在", "您访问的页面不存在，或您无权查看该内容。")
handler500 = error_page(500, "系统错误", "服务器处理请求时出错，您的数据未丢失。请稍后重试，或联系平台管理员。")
handler400 = error_page(400, "请求有误", "请求格式不正确，请返回重试。")


def csrf_failure(request, reason=""):
    return render(request, "web/error.html",
                  {"status": 403, "title": "页面已过期",
                   "message": "表单已过期或来源不明，请刷新页面后重新提交。"}, status=403)
