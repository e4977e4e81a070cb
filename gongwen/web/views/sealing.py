"""用印 pages (R-SEAL-5, R-FLOW-1; issue 8): the seal keeper's queue, the seal form and the
verification report of a sealed document.

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
from gongwen.policy.permissions import Perm, require
from gongwen.seals.models import Seal, SealStatus

from .common import requires

SESSION_KEY = "gongwen_workstation_credential"
HEADER = "HTTP_X_GONGWEN_WORKSTATION"


def workstation_credential(request) -> str:
    return (request.META.get(HEADER, "").strip()
            or request.session.get(SESSION_KEY, ""))


@requires(Perm.SEAL)
def queue(request):
    docs = sealing_service.awaiting_seal(request.user)
    return render(request, "sealing/queue.html", {"title": "用印", "docs": docs})


def _doc(request, doc_id: int) -> OfficialDocument:
    doc = OfficialDocument.objects.select_related("unit").filter(pk=doc_id).first()
    if doc is None:
        raise Http404("未找到该公文。")
    require(request.user, Perm.VIEW_DOCUMENT, doc, request=request)
    return doc


@requires(Perm.SEAL)
def seal_form(request, doc_id: int):
    doc = _doc(request, doc_id)
    seals = Seal.objects.filter(unit_id=request.user.unit_id, keeper=request.user,
                                status=SealStatus.ACTIVE).order_by("id")
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("credential_file")
        if upload is not None:
            request.session[SESSION_KEY] = upload.read(512).decode("utf-8", "ignore").strip()
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
        "issuers": sealing_service.sealing_issuers(doc),
        "applied": sealing_service.seals_applied(doc)})


@requires(Perm.VIEW_DOCUMENT)
def report(request, doc_id: int):
    doc = _doc(request, doc_id)
    fmt = request.GET.get("format", "pdf")
    if fmt not in ("pdf", "ofd"):
        fmt = "pdf"
    rep = verification.verify_document(doc, file_format=fmt)
    rows = [(verification.CHECK_LABELS_ZH[n], c) for n, c in rep.checks()] if rep else []
    return render(request, "sealing/report.html", {
        "title": "验章报告", "doc": doc, "report": rep, "rows": rows, "fmt": fmt})
