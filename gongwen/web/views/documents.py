"""Pages of official documents: drafts (草稿), the draft editor, the approval queue (待核批),
the document page with PDF/OFD download and a live preview. Thin: parse, call one service,
render; the permission layer is asked here for pages and again inside every service."""

from __future__ import annotations

import logging
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from gongwen.documents import blobs, rendering, replies, selectors, services
from gongwen.documents import sealing as sealing_service
from gongwen.documents.forms import DraftForm, ReviewForm, UploadForm
from gongwen.documents.models import (
    CORRECTABLE_STATES,
    EDITABLE_STATES,
    Action,
    Attachment,
    BodySource,
    OfficialDocument,
    State,
)
from gongwen.exchange import selectors as exchange_selectors
from gongwen.policy.errors import KEY_REUSED
from gongwen.policy.permissions import Perm, can, require, visible_documents

from .common import REOPENED, error_messages, flash_errors, paginate, requires, search_params

log = logging.getLogger(__name__)


def _load(request, doc_id: int, perm: Perm) -> OfficialDocument:
    """The document if the user may act on it; others' documents answer 404 (audited)."""
    doc = OfficialDocument.objects.select_related("unit", "created_by", "approved_by") \
        .filter(pk=doc_id).first()
    if doc is None:
        raise Http404("未找到该公文。")
    require(request.user, perm, doc, request=request)
    return doc


def _form_errors(form, exc: ValidationError) -> None:
    for message in error_messages(exc):
        form.add_error(None, message)


# -- 草稿 ---------------------------------------------------------------------------------------
@requires(Perm.DRAFT)
def drafts(request):
    state = request.GET.get("status") or request.GET.get("state", "")
    search = search_params(request)
    docs = selectors.search_documents(selectors.drafts_for(request.user, state),
                                      date_field="updated_at", **search)
    template = "documents/_draft_rows.html" if request.htmx else "documents/drafts.html"
    return render(request, template, {
        "title": "草稿", "page": paginate(request, docs), "status": state, "search": search,
        "search_hint": "标题或发文字号",
        "statuses": [("", "全部"), *((s.value, s.label) for s in selectors.DRAFT_LIST_STATES)],
    })


@requires(Perm.DRAFT)
def draft_create(request):
    form = DraftForm(request.POST or None, unit=request.user.unit)
    if request.method == "POST" and form.is_valid():
        try:
            doc = services.create_draft(actor=request.user, request=request,
                                        idempotency_key=form.cleaned_data["idempotency_key"],
                                        **form.service_fields())
        except ValidationError as exc:
            if getattr(exc, "code", None) == KEY_REUSED:
                # The page's key saved another draft already (the page came back with the
                # browser's Back button, or the first answer was lost): the input is kept
                # with a fresh key, so the next click saves it as a new draft.
                form.data = form.data.copy()
                form.data["idempotency_key"] = str(uuid.uuid4())
                form.add_error(None, "此页面已保存过一份草稿（可在“草稿”中查看），本次修改尚未保存。"
                                     "如需另存为新草稿，请再次点击“保存草稿”。")
            else:
                _form_errors(form, exc)
        else:
            messages.success(request, "草稿已保存。")
            return redirect("web:draft_edit", doc_id=doc.pk)
    return render(request, "documents/editor.html",
                  {"title": "起草公文", "form": form, "doc": None})


@requires(Perm.DRAFT)
def draft_edit(request, doc_id: int):
    doc = _load(request, doc_id, Perm.DRAFT)
    if not doc.editable:
        return redirect("web:document", doc_id=doc.pk)
    if request.method == "POST":
        form = DraftForm(request.POST, unit=doc.unit)
        if form.is_valid():
            try:
                services.update_draft(actor=request.user, doc_id=doc.pk, request=request,
                                      expected_revision=form.cleaned_data["revision"],
                                      **form.service_fields())
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                if "submit" in request.POST:
                    return _submit(request, doc.pk)
                messages.success(request, "草稿已保存。")
                return redirect("web:draft_edit", doc_id=doc.pk)
    else:
        form = DraftForm(initial=DraftForm.initial_for(doc), unit=doc.unit)
    return render(request, "documents/editor.html", {
        "title": f"编辑：{doc.title}", "form": form, "doc": doc,
        "attachments": doc.attachments.order_by("position"),
        "upload_form": UploadForm(), "reviews": doc.reviews.select_related("by")[:10],
    })


def _submit(request, doc_id: int):
    try:
        services.submit(actor=request.user, doc_id=doc_id, request=request)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("web:draft_edit", doc_id=doc_id)
    messages.success(request, "已提交单位负责人核批。")
    return redirect("web:document", doc_id=doc_id)


@require_POST
@requires(Perm.DRAFT)
def draft_submit(request, doc_id: int):
    _load(request, doc_id, Perm.DRAFT)
    return _submit(request, doc_id)


@require_POST
@requires(Perm.DRAFT)
def draft_withdraw(request, doc_id: int):
    _load(request, doc_id, Perm.DRAFT)
    try:
        services.withdraw(actor=request.user, doc_id=doc_id, request=request)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("web:document", doc_id=doc_id)
    messages.success(request, "已撤回，可继续修改。")
    return redirect("web:draft_edit", doc_id=doc_id)


@require_POST
@requires(Perm.DRAFT)
def draft_discard(request, doc_id: int):
    """删除草稿; a second click (the draft is gone) lands on the list with a note."""
    try:
        facts = services.discard_draft(actor=request.user, doc_id=doc_id, request=request)
    except Http404:
        messages.info(request, "该草稿已删除或不存在。")
        return redirect("web:drafts")
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("web:document", doc_id=doc_id)
    messages.success(request, f"已删除草稿《{facts['title']}》。")
    return redirect("web:drafts")


def _upload_redirect(request, doc_id: int, call, ok: str):
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("web:draft_edit", doc_id=doc_id)
    upload = form.cleaned_data["file"]
    try:
        call(upload, form.cleaned_data.get("title", ""))
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, ok)
    return redirect("web:draft_edit", doc_id=doc_id)


@require_POST
@requires(Perm.DRAFT)
def attachment_add(request, doc_id: int):
    _load(request, doc_id, Perm.DRAFT)
    return _upload_redirect(request, doc_id, lambda f, title: services.add_attachment(
        actor=request.user, doc_id=doc_id, file=f, filename=f.name, title=title,
        request=request), "附件已上传。")


@require_POST
@requires(Perm.DRAFT)
def body_upload(request, doc_id: int):
    _load(request, doc_id, Perm.DRAFT)
    return _upload_redirect(request, doc_id, lambda f, _title: services.set_body_file(
        actor=request.user, doc_id=doc_id, file=f, filename=f.name, request=request),
        "正文文件已上传。")


@require_POST
@requires(Perm.DRAFT)
def body_remove(request, doc_id: int):
    _load(request, doc_id, Perm.DRAFT)
    try:
        services.remove_body_file(actor=request.user, doc_id=doc_id, request=request)
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("web:draft_edit", doc_id=doc_id)


@require_POST
@requires(Perm.DRAFT)
def attachment_change(request, doc_id: int, attachment_id: int, how: str):
    _load(request, doc_id, Perm.DRAFT)
    try:
        if how == "remove":
            services.remove_attachment(actor=request.user, doc_id=doc_id,
                                       attachment_id=attachment_id, request=request)
        else:
            services.move_attachment(actor=request.user, doc_id=doc_id,
                                     attachment_id=attachment_id,
                                     offset=-1 if how == "up" else 1, request=request)
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("web:draft_edit", doc_id=doc_id)


# -- preview ----------------------------------------------------------------------------------
def _preview_response(request, build):
    try:
        doc, parts = build()
        pages = rendering.preview_pages(rendering.layout(doc, parts))
        error = ""
    except rendering.RenderError as exc:
        pages, error = [], exc.message_zh
    except ValidationError as exc:
        pages, error = [], "；".join(error_messages(exc))
    except Exception:  # a preview must never break the editor
        log.exception("preview failed")
        pages, error = [], "预览生成失败，请检查各要素后重试；保存草稿不受影响。"
    return render(request, "documents/_preview.html", {"pages": pages, "error": error})


@require_POST
@requires(Perm.DRAFT)
def draft_preview(request):
    """Live preview of the editor's unsaved content (HTMX): nothing is stored."""

    def build():
        form = DraftForm(request.POST, unit=request.user.unit)
        if not form.is_valid():
            raise ValidationError([str(e) for errs in form.errors.values() for e in errs])
        fields = form.service_fields()
        doc = services.unsaved_document(actor=request.user, **fields)
        saved = None
        doc_id = request.POST.get("doc_id")
        if doc_id and doc_id.isdigit():
            saved = visible_documents(request.user).filter(pk=int(doc_id),
                                                           unit_id=request.user.unit_id).first()
        if saved is not None and saved.body_source == BodySource.FILE:
            doc.body_source, doc.body_filename = saved.body_source, saved.body_filename
            doc.body_format = saved.body_format
        return doc, _preview_parts(request, form, saved)

    return _preview_response(request, build)


def _preview_parts(request, form, saved) -> rendering.Parts:
    d = form.cleaned_data
    issuers = [request.user.unit.name] + [
        d[f"co_issuer_{n}"].name for n in range(1, 5) if d.get(f"co_issuer_{n}")]
    main = [g.name for g in d.get("main_groups") or []] + [u.name for u in d.get("main_units")
                                                           or []]
    if d.get("main_recipients_text"):
        main.append(d["main_recipients_text"])
    copy = [g.name for g in d.get("copy_groups") or []] + [u.name for u in d.get("copy_units")
                                                           or []]
    if d.get("copy_to_text"):
        copy.append(d["copy_to_text"])
    attachments = list(rendering.parts_of(saved).attachments) if saved is not None else []
    return rendering.Parts(issuers=issuers, main_recipients="，".join(main), copy_to=copy,
                           attachments=attachments)


@requires(Perm.VIEW_DOCUMENT)
def document_preview(request, doc_id: int):
    doc = _load(request, doc_id, Perm.VIEW_DOCUMENT)
    return _preview_response(request, lambda: (doc, None))


# -- the document page ------------------------------------------------------------------------
@requires(Perm.VIEW_DOCUMENT)
def document_detail(request, doc_id: int):
    doc = _load(request, doc_id, Perm.VIEW_DOCUMENT)
    own = doc.unit_id == request.user.unit_id
    exchange = exchange_selectors.document_exchange(request.user, doc)
    carried = _carried(doc)
    return render(request, "documents/detail.html", {
        "exchange": exchange,
        "carried": carried, "carried_warnings": [c for c in carried if c.warning],
        "forwarded_from": _forwarded_from(request.user, doc),
        "answered": replies.answered_request(request.user, doc),
        "timeline": exchange_selectors.document_timeline(request.user, doc, exchange),
        "can_correct": own and doc.state in CORRECTABLE_STATES
        and can(request.user, Perm.DRAFT, doc),
        "corrections": doc.corrections.order_by("created_at", "id") if own else [],
        "corrected": selectors.corrected_document(request.user, doc),
        "correction_key": uuid.uuid4(),
        "title": doc.title, "doc": doc,
        "issuers": doc.issuer_names(),
        "attachments": doc.attachments.order_by("position"),
        "reviews": doc.reviews.select_related("by") if own else [],
        "can_edit": own and doc.state in EDITABLE_STATES and can(request.user, Perm.DRAFT, doc),
        "can_withdraw": own and doc.can_apply(Action.WITHDRAW)
        and can(request.user, Perm.DRAFT, doc),
        "can_review": own and doc.state == State.SUBMITTED
        and can(request.user, Perm.APPROVE, doc),
        # 用印 where the keeper's unit seals next (the same turn as the seal form's).
        "can_seal": doc.state == State.APPROVED and can(request.user, Perm.SEAL)
        and sealing_service.sealing_turn(doc, request.user.unit).ready,
        "review_form": ReviewForm(),
    })


def _carried(doc: OfficialDocument) -> list:
    """The files the sealed file carries (R-FLOW-5), each checked (原件印章核验)."""
    from gongwen.documents import sealing, verification

    if doc.state not in CORRECTABLE_STATES:  # not sealed yet: the uploads are listed as such
        return []
    data = sealing.sealed_bytes(doc, "pdf") or sealing.sealed_bytes(doc, "ofd")
    return verification.verify_carried(data) if data else []


def _forwarded_from(user, doc: OfficialDocument) -> dict | None:
    """转发自: the forwarded original (R-FLOW-5); the link to the delivery only for its
    receiving unit."""
    if not doc.forwards_id:
        return None
    d = doc.forwards
    original = d.dispatch.document
    return {"title": original.title, "doc_number": original.doc_number,
            "issuer": "、".join(original.issuer_names()) or original.unit.name,
            "delivery_id": d.pk if d.recipient_unit_id == user.unit_id else None,
            # The forwarding unit's own 收文登记号 is not its recipients' business.
            "registration_number": d.registration_number
            if d.recipient_unit_id == user.unit_id else ""}


@require_POST
@requires(Perm.DRAFT)
def document_correct(request, doc_id: int):
    """更正: a new draft referencing this sealed (or withdrawn) document."""
    doc = _load(request, doc_id, Perm.VIEW_DOCUMENT)
    try:
        new = services.start_correction(actor=request.user, doc_id=doc.pk,
                                        idempotency_key=request.POST.get("key"),
                                        request=request)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("web:document", doc_id=doc.pk)
    if getattr(new, "reopened", False):
        messages.info(request, REOPENED.format(title=new.title))
    else:
        messages.success(request, f"已起草更正公文，原公文为《{doc.title}》；修改后提交核批。")
    return redirect("web:draft_edit", doc_id=new.pk)


def _download(data: bytes, filename: str, content_type: str, inline: bool = False):
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


_TYPES = {"pdf": "application/pdf", "ofd": "application/ofd"}


@requires(Perm.VIEW_DOCUMENT)
def document_rendition(request, doc_id: int, fmt: str):
    doc = _load(request, doc_id, Perm.VIEW_DOCUMENT)
    if fmt not in _TYPES:
        raise Http404("未找到该格式。")
    try:
        data, _ = rendering.rendition(doc, fmt)
    except rendering.RenderError as exc:
        messages.error(request, f"无法生成{fmt.upper()}：{exc.message_zh}")
        return redirect("web:document", doc_id=doc.pk)
    name = doc.doc_number or f"草稿{doc.pk}"
    return _download(data, f"{name} {doc.title}.{fmt}", _TYPES[fmt],
                     inline=request.GET.get("inline") == "1" and fmt == "pdf")


def _blob_response(digest: str, filename: str, fmt: str):
    try:
        handle = blobs.open_blob(digest)
    except blobs.BlobError:
        raise Http404("文件不存在。") from None
    response = FileResponse(handle, as_attachment=True, filename=filename,
                            content_type=_TYPES.get(fmt, "application/octet-stream"))
    response["X-Content-Type-Options"] = "nosniff"
    return response


@requires(Perm.VIEW_DOCUMENT)
def body_file(request, doc_id: int):
    doc = _load(request, doc_id, Perm.VIEW_DOCUMENT)
    if not doc.body_blob:
        raise Http404("该公文没有上传的正文文件。")
    return _blob_response(doc.body_blob, doc.body_filename, doc.body_format)


@requires(Perm.VIEW_DOCUMENT)
def attachment_file(request, doc_id: int, attachment_id: int):
    doc = _load(request, doc_id, Perm.VIEW_DOCUMENT)
    att = Attachment.objects.filter(document=doc, pk=attachment_id).first()
    if att is None or not att.blob:
        raise Http404("未找到该附件。")
    return _blob_response(att.blob, att.filename, att.file_format)


# -- 待核批 -------------------------------------------------------------------------------------
@requires(Perm.APPROVE)
def approvals(request):
    search = search_params(request)
    q = search["q"]
    docs = selectors.search_documents(selectors.approval_queue_for(request.user),
                                      date_field="submitted_at", date_from=search["date_from"],
                                      date_to=search["date_to"])
    if q:  # 标题 or 拟稿人 (the queue is the unit's own: no 字号 yet)
        docs = docs.filter(Q(title__icontains=q) | Q(created_by__full_name__icontains=q)
                           | Q(created_by__username__icontains=q))
    template = "documents/_approval_rows.html" if request.htmx else "documents/approvals.html"
    return render(request, template, {"title": "待核批", "page": paginate(request, docs),
                                      "q": q, "search": search, "search_hint": "标题或拟稿人"})


@require_POST
@requires(Perm.APPROVE)
def document_review(request, doc_id: int, decision: str):
    _load(request, doc_id, Perm.APPROVE)
    form = ReviewForm(request.POST)
    comment = form.data.get("comment", "")
    try:
        if decision == "approve":
            doc = services.approve(actor=request.user, doc_id=doc_id, comment=comment,
                                   request=request)
            messages.success(request, f"已核批签发，发文字号：{doc.doc_number}。")
        else:
            services.return_with_comments(actor=request.user, doc_id=doc_id, comment=comment,
                                          request=request)
            messages.success(request, "已退回拟稿人修改。")
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("web:document", doc_id=doc_id)
    return redirect("web:approvals")
