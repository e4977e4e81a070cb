"""The Django admin shows; it never changes. Every change of a unit, a user, a document or
the audit trail goes through the services, which check permissions, keep the history and
write the tamper-evident audit trail (R-AUDIT-1); the admin's own change log is neither."""

from __future__ import annotations

from django.contrib import admin


class _ChangesNothing:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(_ChangesNothing, admin.ModelAdmin):
    pass


class ReadOnlyInline(_ChangesNothing, admin.TabularInline):
    extra = 0
    can_delete = False
