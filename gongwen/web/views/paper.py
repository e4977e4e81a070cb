"""推行阶段 and the paper kept beside the platform (R-POLICY-1/2, R-FLOW-4): parse, call one
verb, answer. The verbs check every permission again."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from gongwen.exchange import paper, selectors
from gongwen.exchange.models import PaperArrival
from gongwen.policy import rollout
from gongwen.policy.errors import object_id
from gongwen.policy.models import RolloutPhase
from gongwen.policy.permissions import Perm, can
from gongwen.units.models import Unit, UnitState

from .common import error_messages, flash_errors, paginate, requires


class PhaseForm(forms.ModelForm):
    class Meta:
        model = RolloutPhase
        fields = ["name", "starts_on", "all_documents", "networked_only", "senders",
                  "request_recipients", "allow_forwarding", "paper_parallel", "note"]
        widgets = {"starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "senders": forms.CheckboxSelectMultiple,
                   "request_recipients": forms.CheckboxSelectMultiple}
        error_messages = {"starts_on": {
            "unique": "已有推行阶段从这一天开始：同一天只能开始一个阶段，请改用其他起始日期，"
                      "或修改已有的阶段。"}}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        units = Unit.objects.filter(state=UnitState.ACTIVE).in_directory_order()
        self.fields["senders"].queryset = units
        self.fields["request_recipients"].queryset = units


@requires(Perm.VIEW_POLICY)
def phases(request):
    manage = can(request.user, Perm.MANAGE_POLICY)
    rows = rollout.phase_rows()
    edit_id = request.GET.get("edit", "")
    editing = next((r.phase for r in rows if str(r.phase.pk) == edit_id), None) if manage \
        else None
    return _phases_page(request, rows, manage, editing,
                        PhaseForm(instance=editing) if manage else None)


def _phases_page(request, rows, manage: bool, editing, form, status: int = 200):
    return render(request, "policy/phases.html", {
        "title": "推行阶段", "rows": [(r, rollout.scope_description(r.phase)) for r in rows],
        "manage": manage, "editing": editing, "form": form,
        "current": next((r.phase for r in rows if r.current), None)}, status=status)


@require_POST
@requires(Perm.MANAGE_POLICY)
def phase_save(request):
    phase_id = object_id(request.POST.get("phase")) if request.POST.get("phase") else None
    instance = RolloutPhase.objects.filter(pk=phase_id).first() if phase_id else None
    if request.POST.get("phase") and instance is None:
        messages.error(request, "未找到该推行阶段，可能已被删除。")
        return redirect("web:policy")
    form = PhaseForm(request.POST, instance=instance)
    if form.is_valid():
        data = {name: form.cleaned_data[name] for name in rollout.PHASE_FIELDS}
        try:
            phase = rollout.save_phase(
                actor=request.user, phase_id=instance.pk if instance else None, data=data,
                senders=[u.pk for u in form.cleaned_data["senders"]],
                request_recipients=[u.pk for u in form.cleaned_data["request_recipients"]],
                request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"已保存推行阶段“{phase.name}”。")
            return redirect("web:policy")
    # Refused: the page again, with the messages at the fields and the input kept (QA: a
    # redirect emptied the form and showed Django's own wording).
    return _phases_page(request, rollout.phase_rows(), True, instance, form, status=400)


@require_POST
@requires(Perm.MANAGE_POLICY)
def phase_delete(request, phase_id: int):
    if rollout.delete_phase(actor=request.user, phase_id=phase_id, request=request):
        messages.success(request, "已删除该推行阶段。")
    return redirect("web:policy")


@require_POST
@requires(Perm.DISPATCH)
def dispatch_paper(request, dispatch_id: int):
    """The sender's record of the paper copies that went out with a dispatch."""
    ids = request.POST.getlist("deliveries")
    try:
        rows = paper.record_paper_copies(
            actor=request.user, dispatch_id=dispatch_id, delivery_ids=ids,
            copies=request.POST.get("copies", "1"), sent_on=request.POST.get("sent_on"),
            note=request.POST.get("note", ""), request=request)
        messages.success(request, f"已登记 {len(rows)} 个收文单位的纸质件。")
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("web:dispatch", dispatch_id=dispatch_id)


@require_POST
@requires(Perm.RECEIVE)
def delivery_paper_received(request, delivery_id: int):
    try:
        paper.record_paper_received(actor=request.user, delivery_id=delivery_id,
                                    received_on=request.POST.get("received_on"),
                                    request=request)
        messages.success(request, "已登记收到纸质件。")
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("web:delivery", delivery_id=delivery_id)


@requires(Perm.RECEIVE)
def arrivals(request):
    """纸质来文登记: the unit's register, and the form for a paper document that arrived."""
    if request.method == "POST":
        try:
            arrival = paper.register_arrival(
                actor=request.user, sender_unit_id=request.POST.get("sender"),
                title=request.POST.get("title", ""),
                doc_number=request.POST.get("doc_number", ""),
                is_request=request.POST.get("is_request") == "1",
                received_on=request.POST.get("received_on"),
                note=request.POST.get("note", ""), key=request.POST.get("key"),
                request=request)
            text = {PaperArrival.Outcome.MATCHED: "已与平台上的电子件对应，并登记纸质件已收到。",
                    PaperArrival.Outcome.REFUSED: "该请示只报送了纸质件，按规定不予受理；"
                                                  "平台已通知来文单位报送电子件。",
                    PaperArrival.Outcome.RECORDED: "已登记；平台上没有对应的电子件。"}
            (messages.warning if arrival.outcome == PaperArrival.Outcome.REFUSED
             else messages.success)(request, text[arrival.outcome])
        except ValidationError as exc:
            # The form again with what was typed and why (QA: a bad 发文字号 emptied it);
            # the same key, as nothing was registered under it.
            return _arrivals_page(request, errors=error_messages(exc), entered=request.POST,
                                  key=request.POST.get("key") or uuid.uuid4(), status=400)
        return redirect("web:paper_arrivals")
    return _arrivals_page(request)


def _arrivals_page(request, *, errors=(), entered=None, key=None, status: int = 200):
    rows = (PaperArrival.objects.filter(unit_id=request.user.unit_id)
            .select_related("sender_unit", "by", "delivery"))
    return render(request, "exchange/paper_arrivals.html", {
        "title": "纸质来文登记", "page": paginate(request, rows), "key": key or uuid.uuid4(),
        "errors": errors, "entered": entered or {},
        "senders": Unit.objects.filter(state=UnitState.ACTIVE)
        .exclude(pk=request.user.unit_id).in_directory_order(),
        "awaiting": selectors.paper_awaited(request.user),
        "parallel_run": rollout.parallel_run_on()}, status=status)
