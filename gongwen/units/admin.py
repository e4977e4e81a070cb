from django.contrib import admin

from gongwen.readonly_admin import ReadOnlyAdmin

from .models import RecipientGroup, Unit, UnitEvent


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    """Changed on the platform's 单位管理 pages (history, name rules, audit)."""

    list_display = ("code", "name", "short_name", "level", "networked", "state")
    list_filter = ("level", "state", "networked")
    search_fields = ("code", "name", "short_name")


@admin.register(UnitEvent)
class UnitEventAdmin(ReadOnlyAdmin):
    list_display = ("unit", "kind", "at", "by")


@admin.register(RecipientGroup)
class RecipientGroupAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner")
