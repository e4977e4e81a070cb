from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from gongwen.readonly_admin import ReadOnlyAdmin, ReadOnlyInline

from .models import RoleGrant, User


class RoleGrantInline(ReadOnlyInline):
    model = RoleGrant


@admin.register(User)
class UserAdmin(ReadOnlyAdmin, BaseUserAdmin):
    """Users, roles, passwords and lockouts are changed on the platform's 用户管理 pages,
    which audit each change (user.password_reset, user.unlocked, …)."""

    list_display = ("username", "full_name", "unit", "is_active", "locked_until")
    list_filter = ("is_active", "unit__level")
    search_fields = ("username", "full_name")
    fieldsets = (*BaseUserAdmin.fieldsets, ("单位与安全", {"fields": ("full_name", "unit", "phone",
                                                               "failed_logins", "locked_until")}))
    inlines = [RoleGrantInline]
