"""Operator pages for units and recipient groups (R-UNIT). Thin: parse, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from gongwen.policy import rollout
from gongwen.policy.permissions import PLATFORM, Perm, can, managed_units, require
from gongwen.units import services
from gongwen.units.models import RecipientGroup, Unit, UnitState

from ..forms import GroupForm, MergeForm, RenameForm, RevokeForm, UnitForm
from .common import error_messages, paginate, requires, search_text


@requires(Perm.MANAGE_UNITS)
def unit_list(request):
    units = managed_units(request.user).select_related("parent",
                                                       "successor").in_directory_order()
    state = request.GET.get("state", "")
    if state in UnitState.values:
        units = units.filter(state=state)
    query = search_text(request)
    if query:
        units = units.filter(name__icontains=query)
    return render(request, "units/list.html",
                  {"page": paginate(request, units, 50), "state": state, "q": query,
                   "states": UnitState.choices,
                   "can_create": can(request.user, Perm.MANAGE_UNITS, PLATFORM)})


def _unit_form_fields(form: UnitForm) -> dict:
    data = dict(form.cleaned_data)
    return {k: v for k, v in data.items() if k in services.EDITABLE_FIELDS}


@requires(Perm.MANAGE_UNITS)
def unit_create(request):
    require(request.user, Perm.MANAGE_UNITS, PLATFORM, request=request)
    form = UnitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.create_unit(actor=request.user, request=request,
                                        **_unit_form_fields(form))
        except ValidationError as exc:
            for message in error_messages(exc):
                form.add_error(None, message)
        else:
            messages.success(request, f"已新建单位“{unit.name}”。")
            return redirect("web:unit_detail", unit_id=unit.pk)
    return render(request, "units/form.html", {"form": form, "title": "新建单位"})


def _load_unit(request, unit_id: int, perm: Perm) -> Unit:
    unit = get_object_or_404(Unit, pk=unit_id)
    require(request.user, perm, unit, request=request)
    return unit


@requires(Perm.VIEW_UNIT)
def unit_detail(request, unit_id: int):
    unit = _load_unit(request, unit_id, Perm.VIEW_UNIT)
    return render(request, "units/detail.html", {
        "unit": unit,
        "members": unit.users.prefetch_related("role_grants").order_by("username"),
        "events": unit.events.select_related("by", "successor")[:50],
        "predecessors": unit.predecessors.all(),
        "can_edit": unit.is_active and can(request.user, Perm.MANAGE_UNITS, unit),
        "can_change_registry": unit.is_active and can(request.user, Perm.MANAGE_UNITS, PLATFORM),
        "can_manage_users": can(request.user, Perm.MANAGE_USERS, unit),
        # A merged, renamed or revoked unit takes no new users (the service refuses too).
        "can_add_user": unit.is_active and can(request.user, Perm.MANAGE_USERS, unit),
        "phase_scope": rollout.Scope().unit_scope(unit),
    })


@requires(Perm.MANAGE_UNITS)
def unit_edit(request, unit_id: int):
    unit = _load_unit(request, unit_id, Perm.MANAGE_UNITS)
    initial = {f: getattr(unit, f) for f in services.EDITABLE_FIELDS}
    form = UnitForm(request.POST or None, initial=initial, editing=True)
    if not can(request.user, Perm.MANAGE_UNITS, PLATFORM):
        for name in set(services.EDITABLE_FIELDS) - set(services.UNIT_OWN_FIELDS):
            form.fields[name].disabled = True  # the platform operator unit's to change
    if request.method == "POST" and form.is_valid():
        try:
            services.update_unit(actor=request.user, unit_id=unit.pk, request=request,
                                 **{k: v for k, v in _unit_form_fields(form).items()
                                    if k != "name"})
        except ValidationError as exc:
            for message in error_messages(exc):
                form.add_error(None, message)
        else:
            messages.success(request, "单位信息已保存。")
            return redirect("web:unit_detail", unit_id=unit.pk)
    return render(request, "units/form.html", {"form": form, "title": f"修改：{unit.name}",
                                               "unit": unit})


def _state_change(request, unit_id: int, form_class, title: str, apply):
    require(request.user, Perm.MANAGE_UNITS, PLATFORM, request=request)
    unit = _load_unit(request, unit_id, Perm.MANAGE_UNITS)
    kwargs = {} if form_class is RenameForm else {"unit": unit}
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            result = apply(unit, form.cleaned_data)
        except ValidationError as exc:
            for message in error_messages(exc):
                form.add_error(None, message)
        else:
            messages.success(request, f"{title}已完成。")
            return redirect("web:unit_detail", unit_id=result.pk)
    return render(request, "units/form.html",
                  {"form": form, "title": f"{title}：{unit.name}", "unit": unit,
                   "danger": True})


@requires(Perm.MANAGE_UNITS)
def unit_rename(request, unit_id: int):
    return _state_change(request, unit_id, RenameForm, "更名", lambda unit, d: services.rename_unit(
        actor=request.user, unit_id=unit.pk, new_name=d["new_name"],
        new_short_name=d["new_short_name"], new_code=d["new_code"].strip(), note=d["note"],
        request=request))


@requires(Perm.MANAGE_UNITS)
def unit_merge(request, unit_id: int):
    return _state_change(request, unit_id, MergeForm, "合并", lambda unit, d: services.merge_unit(
        actor=request.user, unit_id=unit.pk, into_id=d["into"].pk, note=d["note"],
        request=request))


@requires(Perm.MANAGE_UNITS)
def unit_revoke(request, unit_id: int):
    return _state_change(request, unit_id, RevokeForm, "撤销", lambda unit, d: services.revoke_unit(
        actor=request.user, unit_id=unit.pk,
        successor_id=d["successor"].pk if d["successor"] else None, note=d["note"],
        request=request))


@requires(Perm.MANAGE_GROUPS)
def group_list(request):
    groups = RecipientGroup.objects.filter(owner__isnull=True).prefetch_related("members")
    return render(request, "units/groups.html", {"groups": groups})


@requires(Perm.MANAGE_GROUPS)
def group_edit(request, group_id: int | None = None):
    group = get_object_or_404(RecipientGroup, pk=group_id, owner__isnull=True) \
        if group_id else None
    initial = {"name": group.name, "description": group.description,
               "members": list(group.members.all())} if group else None
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if request.POST.get("delete") and group is not None:
            services.delete_group(actor=request.user, group_id=group.pk, request=request)
            messages.success(request, f"已删除分组“{group.name}”。")
            return redirect("web:groups")
        if form.is_valid():
            try:
                saved = services.save_group(
                    actor=request.user, name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    member_ids=[u.pk for u in form.cleaned_data["members"]],
                    group_id=group.pk if group else None, request=request)
            except ValidationError as exc:
                for message in error_messages(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, f"分组“{saved.name}”已保存。")
                return redirect("web:groups")
    return render(request, "units/group_form.html", {"form": form, "group": group})
