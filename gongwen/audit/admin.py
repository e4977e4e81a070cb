from django.contrib import admin

from gongwen.readonly_admin import ReadOnlyAdmin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The trail is append-only (R-AUDIT-1)."""

    list_display = ("seq", "at", "actor_name", "action", "target_repr")
    list_filter = ("action",)
    search_fields = ("actor_name", "action", "target_repr")
