"""Read-only admin views of documents: every change goes through the services (audit,
permissions, numbering), never through the admin."""

from django.contrib import admin

from gongwen.readonly_admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Attachment, Issuer, NumberCounter, OfficialDocument, Recipient, Review


class IssuerInline(ReadOnlyInline):
    model = Issuer


class RecipientInline(ReadOnlyInline):
    model = Recipient


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    exclude = ("body",)


class ReviewInline(ReadOnlyInline):
    model = Review


@admin.register(OfficialDocument)
class OfficialDocumentAdmin(ReadOnlyAdmin):
    list_display = ("title", "unit", "doc_type", "state", "number_serial", "updated_at")
    list_filter = ("state", "doc_type")
    search_fields = ("title",)
    inlines = [IssuerInline, RecipientInline, AttachmentInline, ReviewInline]


@admin.register(NumberCounter)
class NumberCounterAdmin(ReadOnlyAdmin):
    list_display = ("unit", "series", "year", "last")
