"""Verbs on users: login with lockout, user management, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from gongwen.audit.services import audited, record
from gongwen.policy.permissions import PLATFORM, Perm, require

from .models import USERNAME_TAKEN, ApiToken, Role, RoleGrant, User


@dataclass
class LoginResult:
    user: User | None
    error: str = ""  # Chinese, shown on the login page


def _limits() -> tuple[int, int]:
    conf = settings.GONGWEN
    return conf["LOGIN_MAX_FAILURES"], conf["LOGIN_LOCK_MINUTES"]


def lockout_warning() -> str:
    max_failures, lock_minutes = _limits()
    return f"连续 {max_failures} 次输入错误，账户将被锁定 {lock_minutes} 分钟。"


def login_failed_message() -> str:
    """The one answer to a wrong password, an unknown username or a disabled account, so
    that the login page never tells which usernames exist; the lockout warning is the same
    for every name."""
    return "用户名或密码错误。" + lockout_warning()


def attempt_login(username: str, password: str, *, request=None) -> LoginResult:
    """Check a password with lockout after repeated failures. Every outcome is audited.

    The username is matched whatever its case (unique that way). A wrong password, an
    unknown name and a disabled account get the same message, after the same work (a
    password hash: Django's backend hashes the password for an unknown name too), so
    neither the text nor the time tells whether a name exists. Only a locked account is
    told so, since its owner must know to wait or to call the operator: someone guessing
    learns that the name exists only by locking that account, which is audited.

    The counter is kept on the user row under a row lock so two parallel guesses cannot both
    pass the limit."""
    max_failures, lock_minutes = _limits()
    username = (username or "").strip()
    with audited():
        user = User.objects.named(username).select_for_update().first()
        if user is None:
            authenticate(request, username=username, password=password)  # the same cost
            record(None, "login.failed", detail={"username": username[:150]}, request=request,
                   actor_name=username or "?")
            return LoginResult(None, login_failed_message())
        now = timezone.now()
        if user.is_locked(now):
            record(user, "login.locked", user, request=request)
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            return LoginResult(None, f"账户已因连续登录失败被锁定，请约 {minutes} 分钟后再试，"
                                     "或联系平台管理员解锁。")
        checked = authenticate(request, username=user.username, password=password)
        if checked is None:
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + timedelta(minutes=lock_minutes)
                user.failed_logins = 0
                user.save(update_fields=["failed_logins", "locked_until"])
                record(user, "login.lockout", user,
                       detail={"minutes": lock_minutes}, request=request)
                return LoginResult(None, f"连续 {max_failures} 次登录失败，账户已锁定 "
                                         f"{lock_minutes} 分钟。")
            user.save(update_fields=["failed_logins"])
            record(user, "login.failed", user, detail={"failures": user.failed_logins},
                   request=request)
            return LoginResult(None, login_failed_message())
        user.failed_logins = 0
        user.locked_until = None
        user.save(update_fields=["failed_logins", "locked_until"])
        record(user, "login.success", user, request=request)
        return LoginResult(checked)


# 三员分立: the system administrator and the security auditor are separate people, so
# that no one audits his own administration. (The platform has no separate 安全保密管理员
# role: the operator holds both administrative duties, which keeps the auditor apart.)
SEPARATED_ROLES = frozenset({Role.OPERATOR, Role.AUDITOR})


def _wanted_roles(roles: list[str]) -> set[str]:
    wanted = {r for r in roles if r in Role.values}
    if wanted >= SEPARATED_ROLES:
        raise ValidationError("按“三员分立”要求，平台管理员与审计员不能由同一账户兼任，"
                              "请为审计员另设账户。")
    return wanted


def _set_roles(user: User, roles: list[str]) -> tuple[list[str], list[str]]:
    wanted = _wanted_roles(roles)
    current = set(user.role_grants.values_list("role", flat=True))
    added, removed = sorted(wanted - current), sorted(current - wanted)
    RoleGrant.objects.filter(user=user, role__in=removed).delete()
    RoleGrant.objects.bulk_create([RoleGrant(user=user, role=r) for r in added])
    user.__dict__.pop("roles", None)
    return added, removed


def _require_manages(actor, target, request=None) -> None:
    """``MANAGE_USERS`` on a user or a unit (the platform operator unit's operators manage
    all, another unit's operator his own). Checked before the verb's transaction: the
    denial's audit row must survive the refusal."""
    require(actor, Perm.MANAGE_USERS, request=request)
    require(actor, Perm.MANAGE_USERS, target, request=request)


def _check_unit_takes_users(unit) -> None:
    if unit is None:
        raise ValidationError("请选择所属单位。")
    if not unit.is_active:
        raise ValidationError(f"单位“{unit.name}”已{unit.get_state_display()}，"
                              "不能再为其新建或调入用户。")


def create_user(*, actor, username: str, full_name: str, unit, roles: list[str],
                password: str, email: str = "", phone: str = "", request=None) -> User:
    _require_manages(actor, unit if unit is not None else PLATFORM, request)
    return _create_user(actor=actor, username=username, full_name=full_name, unit=unit,
                        roles=roles, password=password, email=email, phone=phone,
                        request=request)


@audited()
def _create_user(*, actor, username: str, full_name: str, unit, roles: list[str],
                 password: str, email: str, phone: str, request) -> User:
    username = username.strip()
    if not username:
        raise ValidationError("请填写用户名。")
    taken = User.objects.named(username).values_list("username", flat=True).first()
    if taken is not None:
        raise ValidationError(f"用户名“{username}”已被使用" + (
            "。" if taken == username else f"（已有用户“{taken}”，用户名不区分大小写）。"))
    _check_unit_takes_users(unit)
    _wanted_roles(roles)
    user = User(username=username, full_name=full_name.strip(), unit=unit, email=email,
                phone=phone)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Another operator created the same name (in some case) since the check above.
        raise ValidationError(USERNAME_TAKEN) from None
    added, _ = _set_roles(user, roles)
    record(actor, "user.created", user,
           detail={"username": username, "unit_id": unit.pk, "roles": added}, request=request)
    return user


def _target(user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationError("未找到该用户。")
    return user


def update_user(*, actor, user_id: int, full_name: str, unit, roles: list[str],
                email: str = "", phone: str = "", is_active: bool = True,
                request=None) -> User:
    _require_manages(actor, _target(user_id), request)
    if unit is not None:
        _require_manages(actor, unit, request)  # no moving users out of one's scope
    return _update_user(actor=actor, user_id=user_id, full_name=full_name, unit=unit,
                        roles=roles, email=email, phone=phone, is_active=is_active,
                        request=request)


@audited()
def _update_user(*, actor, user_id: int, full_name: str, unit, roles: list[str], email: str,
                 phone: str, is_active: bool, request) -> User:
    user = User.objects.select_for_update().get(pk=user_id)
    # Under the row lock: the user may have moved since the check before the transaction.
    require(actor, Perm.MANAGE_USERS, user, request=request)
    if user.pk == actor.pk and {r for r in roles if r in Role.values} != set(user.roles):
        # An operator who grants himself 审计员 audits himself (三员分立); one who drops his
        # own 平台管理员 role may leave the platform without one.
        raise ValidationError("不能修改自己的角色，请由其他平台管理员办理。")
    changes = {}
    for field, value in (("full_name", full_name.strip()), ("email", email), ("phone", phone),
                         ("is_active", is_active)):
        if getattr(user, field) != value:
            changes[field] = [getattr(user, field), value]
            setattr(user, field, value)
    if unit is not None and unit.pk != user.unit_id:
        _check_unit_takes_users(unit)
        changes["unit_id"] = [user.unit_id, unit.pk]
        user.unit = unit
    if user.pk == actor.pk and not is_active:
        raise ValidationError("不能停用自己的账户。")
    user.save()
    added, removed = _set_roles(user, roles)
    if changes:
        record(actor, "user.edited", user, detail={"changes": changes}, request=request)
    if added or removed:
        record(actor, "user.roles_changed", user, detail={"added": added, "removed": removed},
               request=request)
    return user


def unlock_user(*, actor, user_id: int, request=None) -> User:
    _require_manages(actor, _target(user_id), request)
    return _unlock_user(actor=actor, user_id=user_id, request=request)


@audited()
def _unlock_user(*, actor, user_id: int, request) -> User:
    user = User.objects.select_for_update().get(pk=user_id)
    require(actor, Perm.MANAGE_USERS, user, request=request)
    user.failed_logins = 0
    user.locked_until = None
    user.save(update_fields=["failed_logins", "locked_until"])
    record(actor, "user.unlocked", user, request=request)
    return user


def reset_password(*, actor, user_id: int, password: str, request=None) -> User:
    _require_manages(actor, _target(user_id), request)
    return _reset_password(actor=actor, user_id=user_id, password=password, request=request)


@audited()
def _reset_password(*, actor, user_id: int, password: str, request) -> User:
    user = User.objects.select_for_update().get(pk=user_id)
    require(actor, Perm.MANAGE_USERS, user, request=request)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    record(actor, "user.password_reset", user, request=request)
    return user


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


MAX_TOKEN_NAME = 60


def create_api_token(*, actor, user_id: int, name: str, request=None) -> str:
    """Issue a bearer token for a user's OA integration (R-UI-2). Only its digest is stored:
    the clear token is returned once, to be shown once. A user issues their own tokens; an
    operator (用户管理) issues them for the users he manages; ``actor=None`` is the server
    console."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationError("用户不存在或已停用。")
    if actor is not None and user.pk != actor.pk:
        _require_manages(actor, user, request)
    return _create_api_token(actor=actor, user=user, name=name, request=request)


@audited()
def _create_api_token(*, actor, user: User, name: str, request) -> str:
    name = (name or "").strip() or "OA"
    if len(name) > MAX_TOKEN_NAME:
        raise ValidationError(f"用途不能超过 {MAX_TOKEN_NAME} 个字。")
    token = "gw_" + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name, digest=token_digest(token))
    record(actor, "api_token.created", user, detail={"token_id": row.pk, "name": name},
           request=request, actor_name="" if actor else "gongwen cli")
    return token


def revoke_api_token(*, actor, token_id: int, request=None) -> ApiToken:
    """Revoke a token at once (idempotent): its holder, an operator managing the holder, or
    the console."""
    row = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if row is None:
        raise ValidationError("未找到该令牌。")
    if actor is not None and row.user_id != actor.pk:
        _require_manages(actor, row.user, request)
    return _revoke_api_token(actor=actor, token_id=token_id, request=request)


@audited()
def _revoke_api_token(*, actor, token_id: int, request) -> ApiToken:
    row = ApiToken.objects.select_for_update().select_related("user").get(pk=token_id)
    if not row.revoked:
        row.revoked = True
        row.save(update_fields=["revoked"])
        record(actor, "api_token.revoked", row.user, detail={"token_id": row.pk, "name": row.name},
               request=request, actor_name="" if actor else "gongwen cli")
    return row


def user_for_token(token: str) -> User | None:
    found = (ApiToken.objects.select_related("user", "user__unit")
             .filter(digest=token_digest(token), revoked=False, user__is_active=True).first())
    if found is None:
        return None
    ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
    return found.user
