"""打印 and the public check of a printed copy (R-FLOW-6): parse, call one verb, answer."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from gongwen.exchange import printing
from gongwen.policy.permissions import Perm

from .common import flash_errors, requires


@require_POST
@requires(Perm.PRINT)
def delivery_print(request, delivery_id: int):
    """A new numbered copy, answered with its PDF (a retry of the same form: the same copy)."""
    try:
        copy = printing.print_copy(actor=request.user, delivery_id=delivery_id,
                                   key=request.POST.get("key"), request=request)
        data = printing.printed_pdf(copy)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("web:delivery", delivery_id=delivery_id)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        False, f"打印件-第{copy.number}份-{copy.code}.pdf")
    return response


@require_POST
@requires(Perm.DISPATCH)
def dispatch_print_limit(request, dispatch_id: int):
    raw = request.POST.get("limit", "").strip()
    try:
        sent = printing.set_print_limit(actor=request.user, dispatch_id=dispatch_id,
                                        limit=raw or None, request=request)
        messages.success(request, f"已设定每个收文单位最多打印 {sent.print_limit} 份。"
                         if sent.print_limit is not None else "已取消打印份数限制。")
        if over := printing.recipients_over_limit(sent):
            messages.warning(request, f"已有 {over} 个收文单位打印的份数超过该上限：已打印的"
                                      "仍然有效，今后不能再打印。")
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("web:dispatch", dispatch_id=dispatch_id)


def public_verify(request, code: str = ""):
    """No login: a code (typed, or from the QR code) → the copy's public facts."""
    code = code or request.GET.get("code", "")
    check = printing.copy_by_code(code) if code else None
    status = 404 if code and check is None else 200
    return render(request, "exchange/public_verify.html",
                  {"title": "打印件核验", "code": code[:40], "check": check}, status=status)
