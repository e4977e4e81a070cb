"""Drafts started from a received delivery — 转发 (R-FLOW-5) and 答复 (批复 to a 请示, 复函
to a 函) — and the download of a file a sealed document carries, taken out of the sealed
file itself, so the recipient gets exactly what the seal covers. Parse, call one service,
render; the permission layer is asked here and again inside the verb."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from gongwen.documents import forwarding, replies, sealing
from gongwen.documents.models import OfficialDocument
from gongwen.exchange.models import Delivery
from gongwen.policy.permissions import Perm, require

from .common import REOPENED, flash_errors, requires


def _delivery(request, delivery_id: int) -> Delivery:
    delivery = (Delivery.objects.select_related("dispatch", "dispatch__document",
                                                "recipient_unit")
                .filter(pk=delivery_id).first())
    if delivery is None:
        raise Http404("未找到该来文。")
    require(request.user, Perm.VIEW_DELIVERY, delivery, request=request)
    return delivery


def _draft_from(request, delivery_id: int, start, done: str):
    try:
        doc = start(actor=request.user, delivery_id=delivery_id,
                    idempotency_key=request.POST.get("key") or None, request=request)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("web:delivery", delivery_id=delivery_id)
    except PermissionDenied as exc:
        messages.error(request, getattr(exc, "message_zh", "") or "您没有执行此操作的权限。")
        return redirect("web:delivery", delivery_id=delivery_id)
    if getattr(doc, "reopened", False):
        messages.info(request, REOPENED.format(title=doc.title))
    else:
        messages.success(request, done)
    return redirect("web:draft_edit", doc_id=doc.pk)



@require_POST
@requires(Perm.DRAFT)
def delivery_forward(request, delivery_id: int):
    """转发: a new draft forwarding this signed delivery; then the editor."""
    return _draft_from(request, delivery_id, forwarding.forward_delivery,
                       "已起草转发通知，来文原件已作为附件；请填写主送机关后提交核批。")


@require_POST
@requires(Perm.DRAFT)
def delivery_reply(request, delivery_id: int):
    """答复: a new 批复 (or 复函) to this signed 请示 (函), 主送 the asking unit; then the
    editor."""
    return _draft_from(request, delivery_id, replies.reply_to_delivery,
                       "已起草答复，主送来文单位；请写明答复意见后提交核批。")


def _serve(f, index: int):
    response = HttpResponse(f.data, content_type=forwarding.CARRIED_TYPES.get(
        f.file_format, "application/octet-stream"))
    response["Content-Disposition"] = content_disposition_header(True, f.name or
                                                                 f"原件{index + 1}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@requires(Perm.VIEW_DELIVERY)
def delivery_carried_file(request, delivery_id: int, index: int):
    """A file the received sealed file carries, extracted from it."""
    delivery = _delivery(request, delivery_id)
    return _serve(forwarding.delivery_carried_file(request.user, delivery, index), index)


@requires(Perm.VIEW_DOCUMENT)
def document_carried_file(request, doc_id: int, index: int):
    """A file the document's sealed file (PDF, else OFD) carries, extracted from it."""
    doc = OfficialDocument.objects.filter(pk=doc_id).first()
    if doc is None:
        raise Http404("未找到该公文。")
    require(request.user, Perm.VIEW_DOCUMENT, doc, request=request)
    data = sealing.sealed_bytes(doc, "pdf") or sealing.sealed_bytes(doc, "ofd")
    return _serve(forwarding.carried_file(data, index), index)
