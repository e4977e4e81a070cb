"""Operator pages for users and roles."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from gongwen.accounts import services
from gongwen.accounts.models import ApiToken, Role, User
from gongwen.policy.permissions import Perm, managed_units, managed_users, require
from gongwen.units.models import Unit, UnitState

from ..forms import PasswordForm, UserForm
from .common import error_messages, flash_errors, paginate, requires, search_text


@requires(Perm.MANAGE_USERS)
def user_list(request):
    users = managed_users(request.user).select_related("unit").prefetch_related("role_grants")
    query = search_text(request)
    if query:
        users = users.filter(Q(username__icontains=query) | Q(full_name__icontains=query)
                             | Q(unit__name__icontains=query))
    role = request.GET.get("role", "")
    if role in Role.values:
        users = users.filter(role_grants__role=role)
    return render(request, "accounts/list.html",
                  {"page": paginate(request, users.order_by("unit__code", "username"), 50),
                   "q": query, "role": role, "roles": Role.choices})


def _apply_errors(form, exc: ValidationError) -> None:
    for message in error_messages(exc):
        form.add_error(None, message)


def _unit_choices(user, current: Unit | None = None):
    """The units the operator may put users in: active units he manages, and the edited
    user's own unit as it is (so that saving a user of a revoked unit keeps it)."""
    units = managed_units(user, Perm.MANAGE_USERS).filter(state=UnitState.ACTIVE)
    if current is not None:
        units = units | Unit.objects.filter(pk=current.pk)
    return units.in_directory_order()


@requires(Perm.MANAGE_USERS)
def user_create(request):
    units = _unit_choices(request.user)
    wanted = request.GET.get("unit", "")
    initial = {"unit": wanted} if wanted.isdigit() and units.filter(pk=wanted).exists() else {}
    form = UserForm(request.POST or None, initial=initial, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_user(actor=request.user, username=data["username"],
                                        full_name=data["full_name"], unit=data["unit"],
                                        roles=data["roles"], password=data["password"],
                                        email=data["email"], phone=data["phone"],
                                        request=request)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"已新建用户“{user.display_name}”。")
            return redirect("web:users")
    return render(request, "accounts/form.html", {"form": form, "title": "新建用户"})


@requires(Perm.MANAGE_USERS)
def user_edit(request, user_id: int):
    target = get_object_or_404(User, pk=user_id)
    require(request.user, Perm.MANAGE_USERS, target, request=request)
    initial = {"username": target.username, "full_name": target.full_name, "unit": target.unit,
               "roles": list(target.roles), "email": target.email, "phone": target.phone,
               "is_active": target.is_active}
    form = UserForm(request.POST or None, initial=initial, editing=True,
                    units=_unit_choices(request.user, target.unit))
    if target.pk == request.user.pk:
        # 三员分立: nobody grants himself roles (the service refuses it too).
        form.fields["roles"].disabled = True
        form.fields["roles"].help_text = "不能修改自己的角色，请由其他平台管理员办理。"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_user(actor=request.user, user_id=target.pk,
                                 full_name=data["full_name"], unit=data["unit"],
                                 roles=data["roles"], email=data["email"], phone=data["phone"],
                                 is_active=data["is_active"], request=request)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "用户信息已保存。")
            return redirect("web:users")
    return render(request, "accounts/form.html",
                  {"form": form, "title": f"修改用户：{target.display_name}", "target": target,
                   "password_form": PasswordForm()})


@require_POST
@requires(Perm.MANAGE_USERS)
def user_unlock(request, user_id: int):
    target = get_object_or_404(User, pk=user_id)
    services.unlock_user(actor=request.user, user_id=target.pk, request=request)
    messages.success(request, f"已解除“{target.display_name}”的登录锁定。")
    return redirect("web:user_edit", user_id=target.pk)


@require_POST
@requires(Perm.MANAGE_USERS)
def user_password(request, user_id: int):
    target = get_object_or_404(User, pk=user_id)
    form = PasswordForm(request.POST)
    if form.is_valid():
        try:
            services.reset_password(actor=request.user, user_id=target.pk,
                                    password=form.cleaned_data["password"], request=request)
        except ValidationError as exc:
            messages.error(request, "；".join(error_messages(exc)))
        else:
            messages.success(request, "密码已重置。")
    else:
        messages.error(request, "请填写新密码。")
    return redirect("web:user_edit", user_id=target.pk)


# -- the user's own REST API tokens (R-UI-2) ------------------------------------------------


@login_required
def my_tokens(request):
    """我的 API 令牌: issue (the clear token is shown once, on this response only) and revoke."""
    new_token = None
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                token_id = int(request.POST.get("revoke", ""))
                row = ApiToken.objects.filter(pk=token_id, user=request.user).first()
                if row is None:
                    raise ValidationError("未找到该令牌。")
                services.revoke_api_token(actor=request.user, token_id=row.pk, request=request)
                messages.success(request, f"令牌“{row.name}”已吊销。")
                return redirect("web:my_tokens")
            new_token = services.create_api_token(actor=request.user, user_id=request.user.pk,
                                                  name=request.POST.get("name", ""),
                                                  request=request)
        except ValueError:
            messages.error(request, "请求无效。")
        except ValidationError as exc:
            flash_errors(request, exc)
    tokens = ApiToken.objects.filter(user=request.user).order_by("-id")
    return render(request, "accounts/tokens.html", {"tokens": tokens, "new_token": new_token,
                                                    "max_name": services.MAX_TOKEN_NAME})
