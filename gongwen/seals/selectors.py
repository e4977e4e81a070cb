"""Who sees which seals and applications (R-SEC-1): the city office (platform operator
unit) sees every unit's, everyone else their own unit's only."""

from __future__ import annotations

from django.db.models import Q

from gongwen.policy.permissions import Perm, can, is_platform_user

from .models import Seal, SealApplication, SealEvent, Workstation


def _platform(user) -> bool:
    return is_platform_user(user)


def visible_seals(user):
    if not can(user, Perm.VIEW_SEALS) and not can(user, Perm.APPLY_SEAL):
        return Seal.objects.none()
    qs = Seal.objects.select_related("unit", "keeper", "authority")
    return qs if _platform(user) else qs.filter(unit_id=user.unit_id)


def visible_applications(user):
    qs = SealApplication.objects.select_related("unit", "seal", "applicant")
    if _platform(user) and (can(user, Perm.APPROVE_SEAL_APPLICATION)
                            or can(user, Perm.EXECUTE_SEAL_APPLICATION)):
        return qs
    if can(user, Perm.EXECUTE_SEAL_APPLICATION) and user.unit.is_seal_authority:
        return qs.filter(Q(unit_id=user.unit_id) | Q(state="approved", unit__level="county")
                         | Q(executor=user))
    # Also the applications of a predecessor unit (merge/rename: its users moved here).
    return qs.filter(Q(unit_id=user.unit_id) | Q(unit__successor_id=user.unit_id))


def _own_seal(viewer, seal: Seal) -> bool:
    """The seal's unit, or its successor after a merge or rename (its users moved there)."""
    return viewer.unit_id is not None and viewer.unit_id in (seal.unit_id,
                                                             seal.unit.successor_id)


def seal_history(seal: Seal, viewer) -> list[dict]:
    """Applications, issue and every use of one seal, oldest first (R-SEAL-6). A use names
    its document by number and title for the seal's own unit only; the city office, which
    reads every unit's register, gets the document's id (the title is the parties')."""
    full = _own_seal(viewer, seal)
    rows: list[dict] = []
    for app in SealApplication.objects.filter(Q(seal=seal) | Q(result_seal=seal)).select_related(
            "applicant", "head_signer", "approver", "rejected_by", "executor"):
        steps = [("填表", app.filled_at, app.applicant), ("负责人签字", app.head_signed_at,
                                                          app.head_signer),
                 ("市政府办公室批准", app.approved_at, app.approver),
                 ("退回：" + app.rejection_reason, app.rejected_at, app.rejected_by),
                 ("办理", app.executed_at, app.executor)]
        for label, at, who in steps:
            if at:
                rows.append({"at": at, "what": f"申请表#{app.pk}（{app.get_kind_display()}）{label}",
                             "user": who.display_name if who else "系统", "workstation": "",
                             "document": ""})
    for ev in SealEvent.objects.filter(seal=seal).select_related("user", "workstation"):
        rows.append({"at": ev.at, "what": ev.get_kind_display() + (f"：{ev.note}" if ev.note else ""),
                     "user": ev.user.display_name if ev.user else "系统",
                     "workstation": ev.workstation.name if ev.workstation else "",
                     "document": _document_of(ev, full)})
    rows.sort(key=lambda r: r["at"])
    return rows


def _document_of(event: SealEvent, full: bool) -> str:
    if full and event.document_ref:
        return event.document_ref
    return f"公文#{event.document_id_ref}" if event.document_id_ref else ""


def workstations_for(user):
    qs = Workstation.objects.select_related("unit").prefetch_related("seals")
    return qs if _platform(user) else qs.filter(unit_id=user.unit_id)


def self_system_approvals():
    """The city office's approvals of units' own seal systems (art. 4 para. 2)."""
    from .models import SelfSealSystemApproval

    return SelfSealSystemApproval.objects.select_related("unit", "approved_by").order_by(
        "-approved_at", "-id")
