"""The auditor's page (R-AUDIT-1): filters, HTMX table, chain verification."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from gongwen.audit import actions, export
from gongwen.audit.selectors import filter_entries
from gongwen.audit.services import algorithm, record, verify_chain
from gongwen.policy.permissions import Perm, audit_entries_for, is_platform_user

from ..forms import AuditFilterForm
from .common import SEARCH_MAX, paginate, requires


def _filters(form: AuditFilterForm) -> dict:
    """The page's filters as given (empty ones left out), for the export link and the trail."""
    if not form.is_valid():
        return {}
    data = form.cleaned_data
    shown = {"actor": data["actor"].strip()[:SEARCH_MAX],
             "unit": data["unit"].pk if data["unit"] else None,
             "action": data["action"].strip()[:SEARCH_MAX],
             "date_from": data["date_from"].isoformat() if data["date_from"] else None,
             "date_to": data["date_to"].isoformat() if data["date_to"] else None}
    return {key: value for key, value in shown.items() if value}


def _filtered(request, form: AuditFilterForm):
    entries = audit_entries_for(request.user).select_related("unit")
    if form.is_valid():
        data = form.cleaned_data
        entries = filter_entries(
            entries, actor=data["actor"].strip()[:SEARCH_MAX],
            unit_id=data["unit"].pk if data["unit"] else None,
            action=data["action"].strip()[:SEARCH_MAX],
            date_from=data["date_from"], date_to=data["date_to"])
    return entries.order_by("-seq")


@requires(Perm.VIEW_AUDIT)
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    page = paginate(request, _filtered(request, form), 50)
    for entry in page:
        entry.action_label = actions.label(entry.action)
        entry.detail_items = actions.detail_items(entry.detail)
    context = {"form": form, "page": page, "algorithm": algorithm().upper(),
               "platform": is_platform_user(request.user),
               "export_query": urlencode(_filters(form))}
    template = "audit/_rows.html" if request.htmx else "audit/list.html"
    return render(request, template, context)


@require_POST
@requires(Perm.VIEW_AUDIT)
def audit_verify(request):
    broken = verify_chain()
    record(request.user, "audit.verified",
           detail={"ok": broken is None, "seq": broken.seq if broken else None},
           request=request)
    if broken is None:
        messages.success(request, "审计链校验通过：所有记录完整，未发现修改、删除或插入。")
    else:
        messages.error(request, f"审计链校验失败：第 {broken.seq} 条记录异常——{broken.reason_zh}。")
    return redirect("web:audit")


@requires(Perm.VIEW_AUDIT)
def audit_export(request):
    """导出CSV: the entries the page's filters select, all of them, streamed."""
    form = AuditFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        problems = "；".join(f"{form[name].label}：{'，'.join(errs)}"
                            for name, errs in form.errors.items())
        return HttpResponse(f"筛选条件有误，未导出。{problems}",
                            content_type="text/plain; charset=utf-8", status=400)
    record(request.user, "audit.exported", detail={"filters": _filters(form)}, request=request)
    entries = _filtered(request, form).iterator(chunk_size=2000)
    response = StreamingHttpResponse(export.csv_lines(entries),
                                     content_type="text/csv; charset=utf-8")
    name = f"audit-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
