from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import RoleGrant, User


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "unit", "is_active", "locked_until")
    list_filter = ("is_active", "unit__level")
    search_fields = ("username", "full_name")
    fieldsets = (*BaseUserAdmin.fieldsets, ("单位与安全", {"fields": ("full_name", "unit", "phone",
                                                               "failed_logins", "locked_until")}))
    inlines = [RoleGrantInline]
