"""Verbs on units and recipient groups (R-UNIT-1..3). One verb, one transaction, one audit row.

Merging, renaming and revoking never delete: the unit row stays (old documents keep pointing
at it and stay readable), its state changes, its successor is recorded, and a UnitEvent keeps
the history. Seal return applications are opened by the seals app when it exists
(attachment art. 9) through the ``unit_retired`` signal.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.dispatch import Signal

from gongwen.audit.services import audited, record
from gongwen.policy.permissions import PLATFORM, Perm, can, require

from .models import RecipientGroup, Unit, UnitEvent, UnitState

# Sent inside the transaction when a unit is merged, renamed into a new unit, or revoked.
unit_retired = Signal()

EDITABLE_FIELDS = ("code", "name", "short_name", "level", "kind", "parent", "networked",
                   "networked_since", "address", "phone")
# What a unit's own operator edits; the rest (code, level, parent, networking) decides who
# makes the unit's seal and the roll-out scope, and stays with the platform operator unit.
UNIT_OWN_FIELDS = ("short_name", "address", "phone")


def _require_registry(actor, request=None) -> None:
    """Creating, renaming, merging and revoking units change the registry of the whole
    platform (users move, seals are returned): the platform operator unit's operators only.
    Checked before the verb's transaction, so that a denial's audit row survives it."""
    require(actor, Perm.MANAGE_UNITS, request=request)
    require(actor, Perm.MANAGE_UNITS, PLATFORM, request=request)


def _check_active(unit: Unit) -> None:
    if unit.state != UnitState.ACTIVE:
        raise ValidationError(f"单位“{unit.name}”已{unit.get_state_display()}，不能再变更。")


def _require_printable(**named: str) -> None:
    """Names are printed: in 主送 lines, 署名, 发文字号 and seals. The documents' character
    rules (no invisible control character, every character drawable by the GB/T 9704
    fonts) apply to them as to a document's own text; a unit named with an emoji would
    make every document addressed to it unprintable."""
    from gongwen.documents.characters import Element
    from gongwen.documents.services import character_problems

    errors = character_problems(Element(label, text or "") for label, text in named.items())
    if errors:
        raise ValidationError(errors)


def _tidy(name: str) -> str:
    """A name without the invisible paste litter the documents' text loses too
    (``characters.tidy``): a name copied from a web page must not be refused for it."""
    from gongwen.documents.characters import tidy

    return tidy(name or "").strip()


def _tidy_names(fields: dict) -> dict:
    """``fields`` with the names as they will be stored, before anything compares them."""
    return {k: _tidy(v) if k in ("name", "short_name") and isinstance(v, str) else v
            for k, v in fields.items()}


def _validate(unit: Unit) -> None:
    _require_printable(单位名称=unit.name, 发文字号简称=unit.short_name)
    if unit.networked and not unit.networked_since:
        raise ValidationError("已联网单位须填写联网日期。")
    if unit.parent_id and unit.parent_id == unit.pk:
        raise ValidationError("上级单位不能是本单位。")
    unit.full_clean()


def create_unit(*, actor, request=None, **fields) -> Unit:
    _require_registry(actor, request)
    return _create_unit(actor=actor, request=request, **fields)


@audited()
def _create_unit(*, actor, request, **fields) -> Unit:
    fields = _tidy_names(fields)
    unit = Unit(**{k: v for k, v in fields.items() if k in EDITABLE_FIELDS
                   or k in ("is_platform_operator", "is_seal_authority")})
    _validate(unit)
    unit.save()
    UnitEvent.objects.create(unit=unit, kind=UnitEvent.Kind.CREATED, by=actor,
                             new_name=unit.name)
    record(actor, "unit.created", unit, detail={"code": unit.code, "name": unit.name},
           request=request)
    return unit


def update_unit(*, actor, unit_id: int, request=None, **fields) -> Unit:
    """Edit a unit's entry: the platform operator unit's operators any unit's, another
    unit's operator his own (``policy.permissions._manages``)."""
    require(actor, Perm.MANAGE_UNITS, request=request)
    require(actor, Perm.MANAGE_UNITS, Unit.objects.get(pk=unit_id), request=request)
    return _update_unit(actor=actor, unit_id=unit_id, request=request, **fields)


@audited()
def _update_unit(*, actor, unit_id: int, request, **fields) -> Unit:
    unit = Unit.objects.select_for_update().get(pk=unit_id)
    _check_active(unit)
    fields = _tidy_names(fields)
    changes = {}
    for name in EDITABLE_FIELDS:
        if name in fields:
            old = getattr(unit, name)
            new = fields[name]
            if old != new:
                changes[name] = [str(old) if old is not None else None,
                                 str(new) if new is not None else None]
                setattr(unit, name, new)
    if not changes:
        return unit
    if "name" in changes:
        # A change of name is a rename with its own history (use ``rename_unit``).
        raise ValidationError("修改单位名称请使用“更名”。")
    if set(changes) - set(UNIT_OWN_FIELDS) and not can(actor, Perm.MANAGE_UNITS, PLATFORM):
        raise ValidationError("单位代码、级别、类别、上级单位和联网状态由平台运营单位维护，"
                              "本单位只能修改发文字号简称、地址和电话。")
    _validate(unit)
    unit.save()
    kind = UnitEvent.Kind.NETWORKED if set(changes) <= {"networked", "networked_since"} \
        else UnitEvent.Kind.EDITED
    UnitEvent.objects.create(unit=unit, kind=kind, by=actor, changes=changes)
    record(actor, "unit.edited", unit, detail={"changes": changes}, request=request)
    return unit


def rename_unit(*, actor, unit_id: int, new_name: str, new_short_name: str = "",
                new_code: str = "", request=None, note: str = "") -> Unit:
    """Rename. With a new code the renamed organ becomes a new unit and the old one is kept
    as ``renamed`` with the new one as its successor; without, the name changes in place and
    the old name stays in the history (documents keep the sender name they were sent with)."""
    _require_registry(actor, request)
    return _rename_unit(actor=actor, unit_id=unit_id, new_name=new_name,
                        new_short_name=new_short_name, new_code=new_code, request=request,
                        note=note)


@audited()
def _rename_unit(*, actor, unit_id: int, new_name: str, new_short_name: str, new_code: str,
                 request, note: str) -> Unit:
    unit = Unit.objects.select_for_update().get(pk=unit_id)
    _check_active(unit)
    new_name, new_short_name = _tidy(new_name), _tidy(new_short_name)
    if not new_name:
        raise ValidationError("请填写新名称。")
    if new_name == unit.name:
        raise ValidationError("新名称与原名称相同。")
    _require_printable(新名称=new_name, 发文字号简称=new_short_name)
    old_name = unit.name
    if new_code:
        successor = Unit(code=new_code, name=new_name,
                         short_name=new_short_name or unit.short_name, level=unit.level,
                         kind=unit.kind, parent=unit.parent, networked=unit.networked,
                         networked_since=unit.networked_since, address=unit.address,
                         phone=unit.phone)
        _validate(successor)
        successor.save()
        UnitEvent.objects.create(unit=successor, kind=UnitEvent.Kind.CREATED, by=actor,
                                 old_name=old_name, new_name=new_name,
                                 note=f"由“{old_name}”更名设立")
        unit.state = UnitState.RENAMED
        unit.successor = successor
        unit.save()
        UnitEvent.objects.create(unit=unit, kind=UnitEvent.Kind.RENAMED, by=actor,
                                 old_name=old_name, new_name=new_name, successor=successor,
                                 note=note)
        _move_members(unit, successor)
        unit_retired.send(sender=Unit, unit=unit, reason="renamed", actor=actor)
        record(actor, "unit.renamed", unit,
               detail={"old_name": old_name, "new_name": new_name,
                       "successor_id": successor.pk}, request=request)
        return successor
    unit.name = new_name
    if new_short_name:
        unit.short_name = new_short_name
    _validate(unit)
    unit.save()
    UnitEvent.objects.create(unit=unit, kind=UnitEvent.Kind.RENAMED, by=actor,
                             old_name=old_name, new_name=new_name, note=note)
    # The seal carries the name: it must be returned and remade (attachment art. 9).
    unit_retired.send(sender=Unit, unit=unit, reason="renamed", actor=actor)
    record(actor, "unit.renamed", unit, detail={"old_name": old_name, "new_name": new_name},
           request=request)
    return unit


def _move_members(old: Unit, new: Unit) -> None:
    old.users.update(unit=new)
    for group in old.groups.all():
        group.members.add(new)


def merge_unit(*, actor, unit_id: int, into_id: int, request=None, note: str = "") -> Unit:
    _require_registry(actor, request)
    return _merge_unit(actor=actor, unit_id=unit_id, into_id=into_id, request=request,
                       note=note)


@audited()
def _merge_unit(*, actor, unit_id: int, into_id: int, request, note: str) -> Unit:
    if unit_id == into_id:
        raise ValidationError("不能并入本单位。")
    unit = Unit.objects.select_for_update().get(pk=unit_id)
    into = Unit.objects.select_for_update().get(pk=into_id)
    _check_active(unit)
    if into.state != UnitState.ACTIVE:
        raise ValidationError("承继单位必须处于正常状态。")
    unit.state = UnitState.MERGED
    unit.successor = into
    unit.save()
    UnitEvent.objects.create(unit=unit, kind=UnitEvent.Kind.MERGED, by=actor,
                             old_name=unit.name, successor=into, note=note)
    _move_members(unit, into)
    unit_retired.send(sender=Unit, unit=unit, reason="merged", actor=actor)
    record(actor, "unit.merged", unit, detail={"into_id": into.pk, "into": into.name},
           request=request)
    return unit


def revoke_unit(*, actor, unit_id: int, successor_id: int | None = None, request=None,
                note: str = "") -> Unit:
    _require_registry(actor, request)
    return _revoke_unit(actor=actor, unit_id=unit_id, successor_id=successor_id,
                        request=request, note=note)


@audited()
def _revoke_unit(*, actor, unit_id: int, successor_id: int | None, request,
                 note: str) -> Unit:
    unit = Unit.objects.select_for_update().get(pk=unit_id)
    _check_active(unit)
    successor = Unit.objects.get(pk=successor_id) if successor_id else None
    if successor is not None and successor.pk == unit.pk:
        raise ValidationError("承继单位不能是本单位。")
    unit.state = UnitState.REVOKED
    unit.successor = successor
    unit.save()
    UnitEvent.objects.create(unit=unit, kind=UnitEvent.Kind.REVOKED, by=actor,
                             old_name=unit.name, successor=successor, note=note)
    # Accounts of a revoked unit can no longer log in; their history stays.
    unit.users.update(is_active=False)
    if successor is not None:
        for group in unit.groups.all():
            group.members.add(successor)
    unit_retired.send(sender=Unit, unit=unit, reason="revoked", actor=actor)
    record(actor, "unit.revoked", unit,
           detail={"successor_id": successor.pk if successor else None, "note": note},
           request=request)
    return unit


@audited()
def save_group(*, actor, name: str, member_ids: list[int], group_id: int | None = None,
               description: str = "", request=None) -> RecipientGroup:
    require(actor, Perm.MANAGE_GROUPS, request=request)
    name = _tidy(name)
    if not name:
        raise ValidationError("请填写分组名称。")
    _require_printable(分组名称=name)
    if group_id:
        group = RecipientGroup.objects.select_for_update().get(pk=group_id, owner__isnull=True)
        action = "group.edited"
    else:
        if RecipientGroup.objects.filter(owner__isnull=True, name=name).exists():
            raise ValidationError(f"分组“{name}”已存在。")
        group = RecipientGroup(owner=None)
        action = "group.created"
    group.name, group.description = name, description
    group.save()
    group.members.set(Unit.objects.filter(pk__in=member_ids, state=UnitState.ACTIVE))
    record(actor, action, group, detail={"name": name, "members": sorted(member_ids)},
           request=request)
    return group


@audited()
def delete_group(*, actor, group_id: int, request=None) -> None:
    require(actor, Perm.MANAGE_GROUPS, request=request)
    group = RecipientGroup.objects.get(pk=group_id, owner__isnull=True)
    record(actor, "group.deleted", group, detail={"name": group.name}, request=request)
    group.delete()


def set_networked(*, actor, unit_id: int, networked: bool, since: date | None,
                  request=None) -> Unit:
    return update_unit(actor=actor, unit_id=unit_id, request=request, networked=networked,
                       networked_since=since if networked else None)
