from __future__ import annotations

from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from gongwen.accounts.services import attempt_login
from gongwen.audit.services import record


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return redirect("web:home")
    error = ""
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "")
        result = attempt_login(username, request.POST.get("password", ""), request=request)
        if result.user is not None:
            login(request, result.user)
            target = request.POST.get("next") or request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = ""
            return redirect(target or "web:home")
        error = result.error
    return render(request, "web/login.html",
                  {"error": error, "username": username, "next": request.GET.get("next", "")},
                  status=200 if not error else 401)


@require_http_methods(["POST"])
def logout_view(request):
    if request.user.is_authenticated:
        record(request.user, "logout", request.user, request=request)
    logout(request)
    return redirect("web:login")
