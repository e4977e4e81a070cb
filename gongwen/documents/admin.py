"""Read-only admin views of documents: every change goes through the services (audit,
permissions, numbering), never through the admin."""

from django.contrib import admin

from .models import Attachment, Issuer, NumberCounter, OfficialDocument, Recipient, Review


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class IssuerInline(_ReadOnlyInline):
    model = Issuer


class RecipientInline(_ReadOnlyInline):
    model = Recipient


class AttachmentInline(_ReadOnlyInline):
    model = Attachment
    exclude = ("body",)


class ReviewInline(_ReadOnlyInline):
    model = Review


@admin.register(OfficialDocument)
class OfficialDocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "doc_type", "state", "number_serial", "updated_at")
    list_filter = ("state", "doc_type")
    search_fields = ("title",)
    inlines = [IssuerInline, RecipientInline, AttachmentInline, ReviewInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(NumberCounter)
class NumberCounterAdmin(admin.ModelAdmin):
    list_display = ("unit", "series", "year", "last")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
