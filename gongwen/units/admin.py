from django.contrib import admin

from .models import RecipientGroup, Unit, UnitEvent


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "short_name", "level", "networked", "state")
    list_filter = ("level", "state", "networked")
    search_fields = ("code", "name", "short_name")


@admin.register(UnitEvent)
class UnitEventAdmin(admin.ModelAdmin):
    list_display = ("unit", "kind", "at", "by")
    readonly_fields = [f.name for f in UnitEvent._meta.fields]


@admin.register(RecipientGroup)
class RecipientGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "owner")
    filter_horizontal = ("members",)
