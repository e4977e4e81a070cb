from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only (R-AUDIT-1)."""

    list_display = ("seq", "at", "actor_name", "action", "target_repr")
    list_filter = ("action",)
    search_fields = ("actor_name", "action", "target_repr")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
