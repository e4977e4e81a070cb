from __future__ import annotations

from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from gongwen.accounts.services import attempt_login, lockout_warning
from gongwen.audit.services import record

from ..targets import local_page
from .common import handler403

# Shown when a page that needs a login sent the browser here (``next``): most often the
# session ended (SESSION_COOKIE_AGE) while a page was open. A first visit through a
# bookmark looks the same to the server, hence "或尚未登录".
SESSION_EXPIRED = "登录已过期或尚未登录，请重新登录。"


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return redirect("web:home")
    error = ""
    username = ""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST":
        username = request.POST.get("username", "")
        result = attempt_login(username, request.POST.get("password", ""), request=request)
        if result.user is not None:
            login(request, result.user)
            # Never an address elsewhere, nor one that takes a button's POST only (a login
            # that followed a refused 分发 must not land on an empty 405).
            return redirect(local_page(request, next_url) or "web:home")
        error = result.error
    return render(request, "web/login.html",
                  {"error": error, "username": username, "next": next_url,
                   "notice": SESSION_EXPIRED if next_url and not error else "",
                   "lockout_warning": lockout_warning()},
                  status=200 if not error else 401)


@require_http_methods(["POST"])
def logout_view(request):
    if request.user.is_authenticated:
        record(request.user, "logout", request.user, request=request)
    logout(request)
    return redirect("web:login")


def admin_login(request, extra_context=None):
    """The Django admin's login (``admin.site.login``). Its own form would go around the
    platform's lockout and audit trail (``attempt_login``): a password could be guessed
    there without end and unrecorded. So the admin signs in on the platform's login page,
    which returns to the admin. A logged-in user without admin rights gets the 403 page
    (the platform's login would send them straight back here: a loop)."""
    target = local_page(request, request.GET.get("next", "")) or reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect_to_login(target)
    if request.user.is_active and request.user.is_staff:
        return redirect(target)
    return handler403(request)


def admin_logout(request, extra_context=None):
    """The admin's 注销 (``admin.site.logout``): the platform's own, which is audited."""
    return logout_view(request)


def admin_password_change(request, extra_context=None):
    """The admin's 修改密码 (``admin.site.password_change``) would check the old password
    with no lockout and change it unaudited: passwords are reset by the platform
    administrator on the 用户管理 pages."""
    return render(request, "web/error.html", {
        "status": 403, "title": "请在平台中办理",
        "message": "密码由平台管理员在“用户管理”中重置，系统管理后台不修改密码。",
        "back_url": reverse("admin:index"), "back_label": "返回系统管理"}, status=403)
