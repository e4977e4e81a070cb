from django.contrib import admin

from gongwen.readonly_admin import ReadOnlyAdmin

from .models import AuditCheckpoint, AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The trail is append-only (R-AUDIT-1)."""

    list_display = ("seq", "at", "actor_name", "action", "target_repr")
    list_filter = ("action",)
    search_fields = ("actor_name", "action", "target_repr")


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    """Signed checkpoints of the chain head (R-AUDIT-1): made by the platform only."""

    list_display = ("seq", "at", "key_id", "hash")
