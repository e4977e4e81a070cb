"""The auditor's page (R-AUDIT-1): filters, HTMX table, chain verification."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from gongwen.audit import actions
from gongwen.audit.services import algorithm, record, verify_chain
from gongwen.policy.permissions import Perm, audit_entries_for, is_platform_user

from ..forms import AuditFilterForm
from .common import SEARCH_MAX, paginate, requires


def _filtered(request, form: AuditFilterForm):
    entries = audit_entries_for(request.user).select_related("unit")
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            entries = entries.filter(actor_name__icontains=data["actor"].strip()[:SEARCH_MAX])
        if data["unit"]:
            entries = entries.filter(unit=data["unit"])
        if text := data["action"].strip()[:SEARCH_MAX]:
            # 事项 as shown (the Chinese label) or as stored (the action code).
            entries = entries.filter(Q(action__icontains=text)
                                     | Q(action__in=actions.codes_labelled(text)))
        tz = timezone.get_current_timezone()
        if data["date_from"]:
            entries = entries.filter(at__gte=datetime.combine(data["date_from"], time.min, tz))
        if data["date_to"]:
            entries = entries.filter(at__lte=datetime.combine(data["date_to"], time.max, tz))
    return entries.order_by("-seq")


@requires(Perm.VIEW_AUDIT)
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    page = paginate(request, _filtered(request, form), 50)
    for entry in page:
        entry.action_label = actions.label(entry.action)
        entry.detail_items = actions.detail_items(entry.detail)
    context = {"form": form, "page": page, "algorithm": algorithm().upper(),
               "platform": is_platform_user(request.user)}
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
