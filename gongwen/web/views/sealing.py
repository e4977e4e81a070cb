"""用印 pages (R-SEAL-5, R-FLOW-1; issue 8): the seal keeper's queue with 批量用印 (several
documents, one PIN entry; issue 9), the seal form and the verification report of a sealed
document.

How the browser presents the workstation credential (art. 3 专用计算机): the operator
installs the credential file (``gwws-…``, shown once at enrolment) on the enrolled computer.
Either a local agent or the intranet proxy of that computer adds it to each request as the
``X-Gongwen-Workstation`` header, or the keeper selects the file in the seal form once per
login session; it is then kept in the server-side session only (never in a cookie) and
forgotten at logout. The platform stores only its SHA-256 (``Workstation``).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from gongwen.documents import sealing as sealing_service
from gongwen.documents import verification
from gongwen.documents.models import OfficialDocument
from gongwen.documents.selectors import search_documents, visible_document
from gongwen.policy.permissions import Perm
from gongwen.seals.models import Seal, SealStatus

from .common import paginate, requires, search_params

SESSION_KEY = "gongwen_workstation_credential"
HEADER = "HTTP_X_GONGWEN_WORKSTATION"


def workstation_credential(request) -> str:
    return (request.META.get(HEADER, "").strip()
            or request.session.get(SESSION_KEY, ""))


def _keeper_seals(user):
    return Seal.objects.filter(unit_id=user.unit_id, keeper=user,
                               status=SealStatus.ACTIVE).order_by("id")


def _remember_credential(request) -> None:
    upload = request.FILES.get("credential_file")
    if upload is not None:
        request.session[SESSION_KEY] = upload.read(512).decode("utf-8", "ignore").strip()


@requires(Perm.SEAL)
def queue(request):
    """The sealing queue; POST is 批量用印: the checked documents sealed with one PIN entry.
    The service checks every permission and rule again for each document. The list is
    searched (title, 字号, drafting unit, approval date) and paginated; 全选 checks the
    documents of the page shown only."""
    search = search_params(request)
    error, results = "", []
    checked: set[int] = set()
    if request.method == "POST":
        _remember_credential(request)
        try:
            ids = [int(v) for v in request.POST.getlist("doc")]
            seal_id = int(request.POST.get("seal") or 0)
        except ValueError:
            ids, seal_id = [], 0
        if not ids:
            error = "请勾选要用印的公文。"
        elif not seal_id:
            error = "请选择本人保管的有效电子印章。"
        else:
            checked = set(ids)
            try:
                items = sealing_service.seal_documents(
                    actor=request.user, doc_ids=ids, seal_id=seal_id,
                    workstation_credential=workstation_credential(request),
                    pin=request.POST.get("pin", ""),
                    idempotency_key=request.POST.get("key") or uuid.uuid4(), request=request)
            except PermissionDenied as exc:
                # A refusal of the seal itself (PIN, keeper, workstation, status): nothing was
                # sealed; one message, the selection kept.
                items, error = [], sealing_service.message_zh(exc)
            # Titles only of documents the keeper may see (the queue, or a sealed result).
            known = {d.pk: d for d in sealing_service.awaiting_seal(request.user)
                     .filter(pk__in=ids)}
            for item in items:
                doc = item.result.document if item.result else known.get(item.doc_id)
                label = (f"{doc.doc_number or ''} {doc.title}".strip() if doc
                         else f"公文（编号 {item.doc_id}）")
                if item.result is None:
                    outcome = item.error_zh
                elif item.result.already:
                    outcome = "此前已用印，未重复用印。"
                elif item.result.complete:
                    outcome = "用印完成，公文已用印。"
                else:
                    outcome = (f"已加盖第 {item.result.seals_applied} 枚印章，"
                               "等待其他发文机关用印。")
                results.append({"label": label, "ok": item.ok, "outcome": outcome})
            done = sum(1 for r in results if r["ok"])
            if done:
                messages.success(request, f"批量用印：{done} 件完成，"
                                          f"{len(results) - done} 件未用印。")
    page = paginate(request, search_documents(sealing_service.awaiting_seal(request.user),
                                              date_field="approved_at", **search))
    if request.method != "POST" and request.GET.get("all"):
        checked = {d.pk for d in page}
    template = "sealing/_queue_rows.html" if request.htmx else "sealing/queue.html"
    return render(request, template, {
        "title": "用印", "page": page, "search": search, "search_hint": "标题、发文字号或拟稿单位",
        "seals": _keeper_seals(request.user), "error": error,
        "results": results, "checked": checked, "key": uuid.uuid4(),
        "has_credential": bool(workstation_credential(request))})


def _doc(request, doc_id: int) -> OfficialDocument:
    return visible_document(request.user, doc_id, request=request)


@requires(Perm.SEAL)
def seal_form(request, doc_id: int):
    doc = _doc(request, doc_id)
    # The form only where the keeper's unit seals next: another unit's document (one it
    # received) is answered 404; a document sealed already, not approved or waiting for
    # another issuer's seal sends the keeper to its page, saying why.
    turn = sealing_service.seal_form_turn(actor=request.user, doc=doc, request=request)
    if turn.why == sealing_service.ALREADY:
        messages.info(request, turn.message_zh)
        return redirect("web:sealing_report", doc_id=doc.pk)
    if not turn.ready:
        messages.error(request, turn.message_zh)
        return redirect("web:document", doc_id=doc.pk)
    seals = _keeper_seals(request.user)
    error = ""
    if request.method == "POST":
        _remember_credential(request)
        try:
            result = sealing_service.seal_document(
                actor=request.user, doc_id=doc.pk, seal_id=int(request.POST.get("seal") or 0),
                workstation_credential=workstation_credential(request),
                pin=request.POST.get("pin", ""),
                idempotency_key=request.POST.get("key") or None, request=request)
        except (PermissionDenied, ValidationError) as exc:
            error = getattr(exc, "message_zh", "") or "；".join(getattr(exc, "messages", [])) \
                or str(exc)
        except (ValueError, Http404):
            error = "请选择本人保管的有效电子印章。"
        else:
            messages.success(request, "用印完成，公文已用印。" if result.complete else
                             f"已加盖第 {result.seals_applied} 枚印章，等待其他发文机关用印。")
            return redirect("web:sealing_report", doc_id=doc.pk)
    return render(request, "sealing/form.html", {
        "title": "用印", "doc": doc, "seals": seals, "error": error, "key": uuid.uuid4(),
        "has_credential": bool(workstation_credential(request)),
        "issuers": turn.issuers, "applied": turn.applied})


@requires(Perm.VIEW_DOCUMENT)
def report(request, doc_id: int):
    doc = _doc(request, doc_id)
    fmt = request.GET.get("format", "pdf")
    if fmt not in ("pdf", "ofd"):
        fmt = "pdf"
    rep = verification.verify_document(doc, file_format=fmt)
    rows = [(verification.CHECK_LABELS_ZH[n], c) for n, c in rep.checks()] if rep else []
    # The files the sealed file carries (R-FLOW-5): covered by the seal, originals' seals.
    data = sealing_service.sealed_bytes(doc, fmt) if rep else None
    carried = verification.verify_carried(data) if data else []
    return render(request, "sealing/report.html", {
        "title": "验章报告", "doc": doc, "report": rep, "rows": rows, "fmt": fmt,
        "carried": carried, "carried_warnings": [c for c in carried if c.warning]})
