"""Users and roles: a user has one unit and any number of roles (SPEC §1)."""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone


class Role(models.TextChoices):
    HEAD = "head", "单位负责人"
    LEADER = "leader", "分管领导"
    CLERK = "clerk", "收发员"
    SEAL_KEEPER = "seal_keeper", "印章管理员"
    OPERATOR = "operator", "平台管理员"
    AUDITOR = "auditor", "审计员"


USERNAME_TAKEN = "用户名已被使用（用户名不区分大小写）。"


class UserManager(BaseUserManager):
    """Usernames are unique whatever their case (``SFB.CLERK`` is ``sfb.clerk``): the
    constraint on ``Lower(username)`` holds it, and a user is found by name the same way,
    for the login page and for Django's own authentication (the admin, createsuperuser)."""

    def named(self, username: str):
        # Lower() on both sides, as in the constraint: the database decides what case is
        # (SQLite lowers ASCII letters only), so a lookup never disagrees with the index.
        return self.alias(username_lower=Lower("username")).filter(
            username_lower=Lower(Value(username)))

    def get_by_natural_key(self, username):
        return self.named(username).get()


class User(AbstractUser):
    full_name = models.CharField("姓名", max_length=40, blank=True)
    unit = models.ForeignKey("units.Unit", verbose_name="所属单位", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="users")
    phone = models.CharField("电话", max_length=40, blank=True)
    failed_logins = models.PositiveIntegerField("连续登录失败次数", default=0)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        ordering = ["unit_id", "username"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_uniq",
                                    violation_error_message=USERNAME_TAKEN),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @cached_property
    def roles(self) -> frozenset[str]:
        """The user's roles, loaded once per request (the permission layer asks often)."""
        if not self.pk:
            return frozenset()
        return frozenset(self.role_grants.values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def role_labels(self) -> list[str]:
        return [label for value, label in Role.choices if value in self.roles]

    def is_locked(self, now=None) -> bool:
        return bool(self.locked_until and self.locked_until > (now or timezone.now()))


class RoleGrant(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField("角色", max_length=16, choices=Role.choices)
    granted_at = models.DateTimeField("授予时间", auto_now_add=True)

    class Meta:
        verbose_name = "角色授予"
        verbose_name_plural = "角色授予"
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="uniq_user_role")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class ApiToken(models.Model):
    """Bearer token for the REST API (units' own OA systems, R-UI-2). Only a digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=60)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.user} · {self.name}"
