"""Verbs of the seal lifecycle (R-SEAL-3..6; attachment 电子印章管理暂行办法 art. 3-9).

Flow of every application (art. 7): the unit's clerk or seal keeper fills the unified form
(:func:`fill_application`) → the unit head signs (:func:`sign_application`) → 市政府办公室
approves or rejects with a reason (:func:`approve_application`, :func:`reject_application`)
→ the issuing authority executes (:func:`execute_application`). Art. 4: county/district
governments' seals are made by 江苏省人民政府办公厅 (provincial CA), city units' seals by
市政府办公室 (city CA); the executing operator must hold that authority's seal-maker key disk.

Each verb asks the permission layer first, outside its transaction (a denial's audit row
must survive), then runs in one transaction with its audit rows. Key disks are opened through
the authority app *before* the transaction (its wrong-PIN counter commits on its own).

Seals are used only for document transmission (art. 5): :func:`authorize_seal_use` is the
one way to a seal's key, and what it returns can only make an SES_Signature over a
document's Signature.xml.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from gongwen.accounts.models import Role, User
from gongwen.audit.services import audited, record
from gongwen.authority import services as authority
from gongwen.authority.models import Certificate, CertStatus, KeyDisk, Profile
from gongwen.pki import keystore
from gongwen.pki.errors import KeyMismatch, PKIError
from gongwen.pki.suites import sm3
from gongwen.policy.errors import conflict, key_reused, parse_key, replayed
from gongwen.policy.permissions import Perm, can, require
from gongwen.seals.ses.image import SealImageSpec, SealLevel, render_svg, seal_picture
from gongwen.seals.ses.seal import build_seal, matched_signer, signer_from_key
from gongwen.seals.ses.signature import build_signature
from gongwen.units.models import Kind, Level, Unit, UnitState

from .models import (
    ISSUING_KINDS,
    NEEDS_SEAL,
    OPEN_STATES,
    Action,
    ApplicationKind,
    ApplicationState,
    Seal,
    SealApplication,
    SealEvent,
    SealStatus,
    SelfSealSystemApproval,
    Workstation,
)

if TYPE_CHECKING:
    from gongwen.sealing.pdf import SealResult

log = logging.getLogger("gongwen.seals")


def _now() -> datetime:
    return timezone.now()


def _app_unit_ids(app: SealApplication) -> set[int]:
    """The applying unit, and after a merge/rename its successor (its users moved there)."""
    ids = {app.unit_id}
    successor = app.unit.current_successor() if app.unit.successor_id else None
    if successor is not None:
        ids.add(successor.pk)
    return ids


def _require_member(actor: User, perm: Perm, app: SealApplication, request=None) -> None:
    require(actor, perm, request=request)
    if actor.unit_id not in _app_unit_ids(app):
        require(actor, perm, app, request=request)  # audits the denial, raises 404


def _transition(app: SealApplication, action: str) -> str:
    new = app.next_state(action)
    if new is None:
        raise ValidationError(f"申请表当前状态为“{app.get_state_display()}”，不能"
                              f"{Action(action).label}。")
    return new


# ----------------------------------------------------------------------------- images


def seal_level_for(unit: Unit) -> SealLevel:
    """国发〔1999〕25号: people's governments carry the national emblem (province 50 mm,
    city/county 45 mm); departments and other units a star (42 mm)."""
    if unit.kind == Kind.GOVERNMENT:
        return SealLevel.PROVINCIAL if unit.level == Level.PROVINCE else SealLevel.LOCAL_GOVERNMENT
    return SealLevel.DEPARTMENT


def image_spec_for(unit: Unit, name: str = "") -> SealImageSpec:
    return SealImageSpec(name or unit.name, seal_level_for(unit))


# ------------------------------------------------------------------------ applications


def _open(*, actor: User | None, unit: Unit, kind: str, reason: str, seal: Seal | None,
          keeper: User | None, auto: str = "", key=None, request=None) -> SealApplication:
    app = SealApplication.objects.create(
        unit=unit, kind=kind, seal=seal, keeper=keeper, reason=reason,
        seal_name=(seal.name if seal else unit.name), applicant=actor, auto_opened=auto,
        idempotency_key=key)
    record(actor, "seal.application.filled", app, unit=unit, request=request,
           detail={"kind": kind, "seal": seal.es_id if seal else "", "auto": auto,
                   "keeper": keeper.username if keeper else ""})
    return app


def _validate_keeper(unit: Unit, keeper: User | None) -> None:
    if keeper is None:
        raise ValidationError("请指定印章管理员（第三条：电子印章由指定人员使用）。")
    if keeper.unit_id != unit.pk or not keeper.is_active:
        raise ValidationError(f"印章管理员“{keeper.display_name}”不是本单位的在职人员。")
    if not keeper.has_role(Role.SEAL_KEEPER):
        raise ValidationError(f"“{keeper.display_name}”没有印章管理员角色。")


def _open_forms(**where) -> list[SealApplication]:
    return list(SealApplication.objects.select_for_update()
                .filter(state__in=OPEN_STATES, **where).order_by("id"))


def _busy(form: SealApplication) -> ValidationError:
    return conflict(f"已有办理中的申请表 #{form.pk}（{form.get_kind_display()}，"
                    f"{form.get_state_display()}），请办结或退回后再申请。")


def _check_no_seal_yet(unit: Unit) -> None:
    """A 制作 form makes the unit's seal: none may be valid, none other in progress."""
    active = Seal.objects.filter(unit=unit, status=SealStatus.ACTIVE).order_by("id").first()
    if active is not None:
        raise conflict(f"本单位已有有效的电子印章“{active.name}”（{active.es_id}），"
                       "如需更换请申请变更、损坏换领或遗失补发。")
    if forms := _open_forms(unit=unit, kind__in=ISSUING_KINDS):
        raise _busy(forms[0])


def _close_forms(forms: list[SealApplication], *, actor: User | None, reason: str,
                 closed_by: str, request=None) -> None:
    """Close open forms another event made moot (a loss report, the unit's retirement):
    they are sent back with the reason, as a rejection, in the same transaction."""
    for form in forms:
        form.state, form.rejected_by = ApplicationState.REJECTED, actor
        form.rejected_at, form.rejection_reason = _now(), reason
        form.save(update_fields=["state", "rejected_by", "rejected_at", "rejection_reason"])
        record(actor, "seal.application.rejected", form, unit=form.unit, request=request,
               detail={"reason": reason, "closed_by": closed_by})


def fill_application(*, actor: User, kind: str, reason: str, seal_id: int | None = None,
                     keeper_id: int | None = None, key=None, request=None) -> SealApplication:
    """Fill the unified form (art. 7). A reissue after loss revokes the lost seal at once
    (its certificate is revoked and the CRL republished), before any approval (art. 8),
    and closes the seal's other open forms: a loss never waits for them.

    One open form per seal, one open 制作 form and one valid seal per unit (a database
    constraint backs the first two). ``key``: the form's idempotency key; the same form
    sent again returns the first one (replayed)."""
    require(actor, Perm.APPLY_SEAL, request=request)
    key = parse_key(key)
    if kind not in ApplicationKind.values:
        raise ValidationError("请选择申请事项。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写申请理由（书面证明）。")
    unit = actor.unit
    seal = None
    if kind in NEEDS_SEAL:
        seal = Seal.objects.filter(pk=seal_id).select_related("keeper").first() \
            if seal_id else None
        if seal is None:
            raise ValidationError("请选择原电子印章。")
        require(actor, Perm.APPLY_SEAL, seal, request=request)
    keeper = User.objects.filter(pk=keeper_id).first() if keeper_id else None
    if kind in (ApplicationKind.MAKE, ApplicationKind.CHANGE):
        _validate_keeper(unit, keeper)
    elif kind in (ApplicationKind.REPLACE_DAMAGED, ApplicationKind.REISSUE_LOST):
        keeper = keeper or seal.keeper
        _validate_keeper(unit, keeper)
    if unit.state != UnitState.ACTIVE and kind != ApplicationKind.RETURN:
        raise ValidationError(f"单位“{unit.name}”已{unit.get_state_display()}，只能办理交回。")
    with audited():
        # The seal's row (or, for 制作, the unit's) serialises the forms of one subject.
        if seal is not None:
            seal = Seal.objects.select_for_update().get(pk=seal.pk)
        else:
            Unit.objects.select_for_update().filter(pk=unit.pk).first()
        if key and (prior := SealApplication.objects.filter(idempotency_key=key).first()):
            if (prior.applicant_id, prior.kind, prior.seal_id) != (
                    actor.pk, kind, seal.pk if seal else None):
                raise key_reused()
            return replayed(prior)
        moot = []
        if seal is not None:
            if not seal.is_active:
                raise conflict(f"原印章已{seal.get_status_display()}，不能申请"
                               f"{ApplicationKind(kind).label}。")
            moot = _open_forms(seal=seal)
            if moot and kind != ApplicationKind.REISSUE_LOST:
                raise _busy(moot[0])
        elif kind == ApplicationKind.MAKE:
            _check_no_seal_yet(unit)
        # Out of the way of the one-open-form constraint first; closed with the new form's
        # number once it has one.
        SealApplication.objects.filter(pk__in=[f.pk for f in moot]).update(
            state=ApplicationState.REJECTED)
        app = _open(actor=actor, unit=unit, kind=kind, reason=reason, seal=seal, keeper=keeper,
                    key=key, request=request)
        _close_forms(moot, actor=actor, closed_by=f"#{app.pk}", request=request,
                     reason=f"原印章已挂失，另以申请表 #{app.pk} 办理遗失补发，本申请自动退回。")
        if kind == ApplicationKind.REISSUE_LOST:
            # Art. 8: a lost seal must not stay usable while the form travels.
            _end_seal(seal, SealStatus.LOST, actor=actor, app=app, request=request,
                      reason="key_compromise")
    return app


def sign_application(*, actor: User, application_id: int, request=None) -> SealApplication:
    """The unit head agrees and signs (art. 7: 经本单位负责人同意并签字)."""
    app = SealApplication.objects.select_related("unit").get(pk=application_id)
    _require_member(actor, Perm.SIGN_SEAL_APPLICATION, app, request)
    with audited():
        app = SealApplication.objects.select_for_update().get(pk=app.pk)
        if app.state == ApplicationState.HEAD_SIGNED and app.head_signer_id == actor.pk:
            return app
        app.state = _transition(app, Action.SIGN)
        app.head_signer, app.head_signed_at = actor, _now()
        app.save(update_fields=["state", "head_signer", "head_signed_at"])
        record(actor, "seal.application.signed", app, unit=app.unit, request=request)
    return app


def approve_application(*, actor: User, application_id: int, request=None) -> SealApplication:
    """市政府办公室 approves (art. 7: 报市政府办公室审批)."""
    app = SealApplication.objects.select_related("unit").get(pk=application_id)
    require(actor, Perm.APPROVE_SEAL_APPLICATION, app, request=request)
    with audited():
        app = SealApplication.objects.select_for_update().get(pk=app.pk)
        if app.state in (ApplicationState.APPROVED, ApplicationState.EXECUTED):
            return app
        app.state = _transition(app, Action.APPROVE)
        if app.head_signer_id == actor.pk:
            # 市政府办公室's own forms: its head's signature and the office's approval are
            # two checks, by two people.
            raise ValidationError("您已作为单位负责人在本申请表上签字，不能再审批；"
                                  "请由市政府办公室其他负责人审批。")
        if app.kind != ApplicationKind.RETURN and app.unit.state != UnitState.ACTIVE:
            raise conflict(f"单位“{app.unit.name}”已{app.unit.get_state_display()}，"
                           "本申请表不能批准（只能办理交回）。")
        app.approver, app.approved_at = actor, _now()
        app.save(update_fields=["state", "approver", "approved_at"])
        record(actor, "seal.application.approved", app, unit=app.unit, request=request)
    return app


def reject_application(*, actor: User, application_id: int, reason: str,
                       request=None) -> SealApplication:
    """The unit head or 市政府办公室 sends the form back; a reason is required."""
    app = SealApplication.objects.select_related("unit").get(pk=application_id)
    if app.state == ApplicationState.FILLED:
        _require_member(actor, Perm.SIGN_SEAL_APPLICATION, app, request)
    else:
        require(actor, Perm.APPROVE_SEAL_APPLICATION, app, request=request)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("退回时必须填写理由。")
    with audited():
        app = SealApplication.objects.select_for_update().get(pk=app.pk)
        if app.state == ApplicationState.REJECTED:
            return app
        app.state = _transition(app, Action.REJECT)
        app.rejected_by, app.rejected_at, app.rejection_reason = actor, _now(), reason
        app.save(update_fields=["state", "rejected_by", "rejected_at", "rejection_reason"])
        record(actor, "seal.application.rejected", app, unit=app.unit, request=request,
               detail={"reason": reason})
    return app


# ---------------------------------------------------------------------------- execute


def authority_unit_for(unit: Unit) -> Unit | None:
    """Art. 4: the unit that makes ``unit``'s seals (the operator of its issuing CA)."""
    ca = authority.issuing_ca_for(unit)
    if ca.unit_id:
        return ca.unit
    level = Level.PROVINCE if unit.level in (Level.PROVINCE, Level.COUNTY) else Level.CITY
    qs = Unit.objects.filter(is_seal_authority=True, level=level)
    if level == Level.CITY:
        qs = Unit.objects.filter(is_platform_operator=True)
    return qs.order_by("id").first()


def _maker_certificate(unit: Unit, actor: User) -> Certificate:
    maker_unit = authority_unit_for(unit)
    ca = authority.issuing_ca_for(unit)
    cert = (Certificate.objects.filter(profile=Profile.SEAL_MAKER, status=CertStatus.VALID,
                                       issuer=ca, unit=maker_unit, holder=actor)
            .select_related("key_disk").order_by("-id").first())
    if cert is None:
        name = maker_unit.name if maker_unit else ca.name
        raise PermissionDenied(f"您不持有“{name}”的制章单位证书（密钥盘），不能制发"
                               f"“{unit.name}”的电子印章（第四条）。")
    return cert


def _es_id(unit: Unit) -> str:
    n = Seal.objects.filter(unit=unit).count() + 1
    while True:
        es_id = f"{unit.code}{n:04d}"[:40]
        if not Seal.objects.filter(es_id=es_id).exists():
            return es_id
        n += 1


def _issue_seal(*, actor: User, app: SealApplication, keeper: User, keeper_pin: str,
                maker_cert: Certificate, maker_key: Any, replaces: Seal | None,
                request=None) -> Seal:
    unit = app.unit
    cert = authority.issue_certificate(actor=actor, unit=unit, profile=Profile.UNIT_SEAL,
                                       holder=keeper, pin=keeper_pin, request=request)
    spec = image_spec_for(unit, app.seal_name or unit.name)
    picture = seal_picture(spec)
    es_id = _es_id(unit)
    der = build_seal(
        es_id=es_id, name=spec.name, holder_certs=[bytes(cert.der)],
        valid_start=cert.not_before, valid_end=cert.not_after, picture_type=picture.type,
        picture_data=picture.data, picture_width_mm=picture.width_mm,
        picture_height_mm=picture.height_mm, maker_cert=bytes(maker_cert.der),
        sign=signer_from_key(maker_key))
    seal = Seal.objects.create(
        unit=unit, name=spec.name, es_id=es_id, authority=maker_cert.unit, keeper=keeper,
        certificate=cert, cert_serial=cert.serial, maker_certificate=maker_cert, der=der,
        image_png=picture.data, image_svg=render_svg(spec), diameter_mm=round(spec.diameter),
        emblem=str(spec.emblem), valid_from=cert.not_before, valid_to=cert.not_after,
        replaces=replaces, status_changed_at=_now())
    SealEvent.objects.create(seal=seal, kind=SealEvent.Kind.ISSUED, user=actor, application=app,
                             note=f"由{maker_cert.unit.name}制发")
    record(actor, "seal.issued", seal, unit=unit, request=request,
           detail={"es_id": es_id, "serial": cert.serial, "keeper": keeper.username,
                   "authority": maker_cert.unit.name, "application": app.pk,
                   "diameter_mm": seal.diameter_mm, "emblem": seal.emblem})
    return seal


_END_EVENT = {SealStatus.REVOKED: SealEvent.Kind.REVOKED, SealStatus.LOST: SealEvent.Kind.LOST,
              SealStatus.DESTROYED: SealEvent.Kind.DESTROYED,
              SealStatus.RETURNED: SealEvent.Kind.RETURNED}


# The audited action of each end of a seal (a literal each: the auditor page labels them).
_END_ACTION = {SealStatus.REVOKED: "seal.revoked", SealStatus.LOST: "seal.lost",
               SealStatus.DESTROYED: "seal.destroyed", SealStatus.RETURNED: "seal.returned"}


_PROCESS_FOR_STATUS = {SealStatus.LOST: "seal.lost", SealStatus.DESTROYED: "seal.replace_damaged",
                       SealStatus.RETURNED: "seal.return"}


def _end_seal(seal: Seal, status: str, *, actor: User, app: SealApplication | None,
              reason: str, destroy_key: bool = False, request=None) -> None:
    """Revoke the seal's certificate (the issuer's CRL is republished in the same
    transaction) and set the register status."""
    cert = Certificate.objects.get(pk=seal.certificate_id)
    if cert.status != CertStatus.REVOKED:
        # The seal verbs have authorised ``actor`` by their own rules (a loss is reported by
        # the unit's clerk or keeper, who hold no CA rights): the authority revokes on behalf
        # of this process and records the real actor.
        process = _PROCESS_FOR_STATUS.get(status) or (
            "seal.change" if app is not None and app.kind == ApplicationKind.CHANGE
            else "seal.revoke")
        authority.revoke_for_process(
            process=process, actor=actor, cert_id=cert.pk, reason=reason,
            note=f"电子印章{seal.es_id}：{SealStatus(status).label}"
                 + (f"（申请表#{app.pk}）" if app else ""),
            destroy_key=destroy_key, request=request)
    _record_end(seal, status, actor=actor, app=app, reason=reason, request=request)


def _record_end(seal: Seal, status: str, *, actor: User | None, app: SealApplication | None,
                reason: str, via: str = "", request=None) -> None:
    """The register's side of a seal's end, its certificate already revoked: status,
    history and audit. The key counts as destroyed when its key disk was emptied (a
    key_compromise revocation empties it even unasked)."""
    key_destroyed = KeyDisk.objects.filter(certificate_id=seal.certificate_id,
                                           destroyed_at__isnull=False).exists()
    seal.status = status
    seal.status_changed_at = _now()
    seal.save(update_fields=["status", "status_changed_at"])
    where = "证书已在证书管理中吊销" if via else "证书已吊销"
    SealEvent.objects.create(seal=seal, kind=_END_EVENT[status], user=actor, application=app,
                             note=f"{where}（{reason}）" + ("，密钥已销毁" if key_destroyed else ""))
    detail = {"es_id": seal.es_id, "serial": seal.cert_serial, "reason": reason,
              "application": app.pk if app else None, "key_destroyed": key_destroyed}
    if via:
        detail["via"] = via
    record(actor, _END_ACTION[status], seal, unit=seal.unit, request=request, detail=detail)


def on_certificate_revoked(sender, cert: Certificate, actor=None, process: str = "",
                           request=None, **kwargs) -> None:
    """A seal certificate revoked outside the seal process (an operator in 证书管理): the
    seal ends in the same transaction (已注销), and its open forms are closed."""
    if process:
        return  # the seal process ends the seal itself
    seal = Seal.objects.select_for_update().filter(certificate_id=cert.pk).first()
    if seal is None or not seal.is_active:
        return
    actor = actor if getattr(actor, "pk", None) else None
    _close_forms(_open_forms(seal=seal), actor=actor, closed_by="pki.cert.revoked",
                 request=request, reason="原印章的证书已在证书管理中吊销，印章已注销，"
                                         "本申请自动退回。")
    _record_end(seal, SealStatus.REVOKED, actor=actor, app=None,
                reason=cert.revocation_reason, via="pki.cert.revoked", request=request)


def execute_application(*, actor: User, application_id: int, keeper_pin: str = "",
                        maker_pin: str = "", request=None) -> SealApplication:
    """The authority carries out an approved application. Idempotent: executing an
    executed application returns it unchanged (with the same new seal)."""
    app = SealApplication.objects.select_related("unit", "seal").get(pk=application_id)
    require(actor, Perm.EXECUTE_SEAL_APPLICATION, app, request=request)
    if app.state == ApplicationState.EXECUTED:
        return app
    _transition(app, Action.EXECUTE)
    maker_cert = maker_key = None
    issuing = app.kind in (ApplicationKind.MAKE, ApplicationKind.CHANGE,
                           ApplicationKind.REPLACE_DAMAGED, ApplicationKind.REISSUE_LOST)
    if issuing:
        keystore.check_pin_format(keeper_pin)
        maker_cert = _maker_certificate(app.unit, actor)
        # Opened before our transaction: a wrong PIN is counted even though we fail.
        maker_key = authority.open_key_disk(user=actor, disk=maker_cert.key_disk,
                                            pin=maker_pin, request=request)
    return _execute(actor=actor, app_id=app.pk, keeper_pin=keeper_pin, maker_cert=maker_cert,
                    maker_key=maker_key, request=request)


def _check_still_due(app: SealApplication, old: Seal | None) -> None:
    """The form was approved some time ago: the seal it names (locked by the caller) must
    still be in the state the form was filled for, and its unit still in office."""
    if app.kind != ApplicationKind.RETURN and app.unit.state != UnitState.ACTIVE:
        raise conflict(f"单位“{app.unit.name}”已{app.unit.get_state_display()}，"
                       "本申请表不能办理（只能办理交回）。")
    if old is None:
        return
    if app.kind == ApplicationKind.REISSUE_LOST:
        if old.status not in (SealStatus.ACTIVE, SealStatus.LOST):
            raise conflict(f"原印章已{old.get_status_display()}，不能补发。")
        if Seal.objects.filter(replaces=old).exists():
            raise conflict("原印章已补发新印章，本申请表不能再办理。")
    elif not old.is_active:
        raise conflict(f"原印章已{old.get_status_display()}，本申请表不能办理。")


@audited(durable=True)
def _execute(*, actor: User, app_id: int, keeper_pin: str, maker_cert: Certificate | None,
             maker_key: Any, request=None) -> SealApplication:
    app = SealApplication.objects.select_for_update().select_related("unit").get(pk=app_id)
    if app.state == ApplicationState.EXECUTED:
        return app  # a concurrent execution won
    app.state = _transition(app, Action.EXECUTE)
    old = Seal.objects.select_for_update().get(pk=app.seal_id) if app.seal_id else None
    _check_still_due(app, old)
    new = None
    kind = app.kind
    if kind == ApplicationKind.REVOKE:
        _end_seal(old, SealStatus.REVOKED, actor=actor, app=app, request=request,
                  reason="cessation_of_operation")
    elif kind == ApplicationKind.RETURN:
        _end_seal(old, SealStatus.RETURNED, actor=actor, app=app, request=request,
                  reason="affiliation_changed", destroy_key=True)
    elif kind == ApplicationKind.REPLACE_DAMAGED:
        # Art. 8: 损坏的，须将原电子印章交市政府办公室销毁.
        _end_seal(old, SealStatus.DESTROYED, actor=actor, app=app, request=request,
                  reason="superseded", destroy_key=True)
    elif kind == ApplicationKind.CHANGE:
        _end_seal(old, SealStatus.REVOKED, actor=actor, app=app, request=request,
                  reason="superseded")
    elif kind == ApplicationKind.REISSUE_LOST and old.status == SealStatus.ACTIVE:
        _end_seal(old, SealStatus.LOST, actor=actor, app=app, request=request,
                  reason="key_compromise")
    if maker_cert is not None:
        if active := Seal.objects.filter(unit=app.unit, status=SealStatus.ACTIVE).first():
            raise conflict(f"“{app.unit.name}”已有有效的电子印章（{active.es_id}），"
                           "不能再制发第二枚；本申请表未办理。")
        keeper = app.keeper or (old.keeper if old else None)
        _validate_keeper(app.unit, keeper)
        new = _issue_seal(actor=actor, app=app, keeper=keeper, keeper_pin=keeper_pin,
                          maker_cert=maker_cert, maker_key=maker_key, replaces=old,
                          request=request)
    app.executor, app.executed_at, app.result_seal = actor, _now(), new
    app.save(update_fields=["state", "executor", "executed_at", "result_seal"])
    record(actor, "seal.application.executed", app, unit=app.unit, request=request,
           detail={"kind": kind, "old": old.es_id if old else "",
                   "new": new.es_id if new else ""})
    return app


# ------------------------------------------------------------------- unit retirement


def open_return_applications(*, unit: Unit, reason: str, actor: User | None = None) -> list:
    """Art. 9 / R-UNIT-2: a merged, renamed or revoked unit returns its seals. Runs inside
    the unit service's transaction (the ``unit_retired`` signal). The unit's other open
    forms are closed first (they would fail late: its people have moved on); at most one
    open return application per seal."""
    actor = actor if getattr(actor, "pk", None) else None
    label = {"merged": "合并", "renamed": "更名", "revoked": "撤销"}.get(reason, reason)
    moot = [f for f in _open_forms(unit=unit) if f.kind != ApplicationKind.RETURN]
    _close_forms(moot, actor=actor, closed_by=f"unit.{reason}",
                 reason=f"因单位{label}，本申请自动退回；原电子印章按第九条交回。")
    opened = []
    for seal in Seal.objects.select_for_update().filter(unit=unit, status=SealStatus.ACTIVE):
        if SealApplication.objects.filter(seal=seal, kind=ApplicationKind.RETURN,
                                          state__in=OPEN_STATES).exists():
            continue
        opened.append(_open(
            actor=actor, unit=unit, kind=ApplicationKind.RETURN, seal=seal,
            keeper=seal.keeper, auto=reason,
            reason=f"因单位{label}，按第九条将原电子印章交回市政府办公室处理。"))
    return opened


def retire_unit_workstations(*, unit: Unit, reason: str, actor: User | None = None) -> int:
    """A retired unit's 专用计算机 stop with its seals (art. 9): none stays usable."""
    actor = actor if getattr(actor, "pk", None) else None
    stopped = list(Workstation.objects.select_for_update().filter(unit=unit, active=True))
    for ws in stopped:
        ws.active, ws.retired_at = False, _now()
        ws.save(update_fields=["active", "retired_at"])
        record(actor, "seal.workstation.retired", ws, unit=unit, detail={"reason": reason})
    return len(stopped)


def on_unit_retired(sender, unit: Unit, reason: str, actor=None, **kwargs) -> None:
    open_return_applications(unit=unit, reason=reason, actor=actor)
    retire_unit_workstations(unit=unit, reason=reason, actor=actor)


# ----------------------------------------------------------------------- workstations


def credential_fingerprint(credential: str | bytes) -> str:
    data = credential.encode() if isinstance(credential, str) else credential
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Enrolment:
    workstation: Workstation
    credential: str = field(repr=False)  # shown once, stored on the computer only


def enrol_workstation(*, actor: User, unit_id: int, name: str, seal_ids: list[int] = (),
                      request=None) -> Enrolment:
    """The operator enrols a 专用计算机 (art. 3) and binds seals to it. The device
    credential is returned once; only its SHA-256 is kept."""
    unit = Unit.objects.get(pk=unit_id)
    require(actor, Perm.MANAGE_WORKSTATIONS, unit, request=request)
    name = (name or "").strip()[:60]
    if not name:
        raise ValidationError("请填写专用计算机名称。")
    if unit.state != UnitState.ACTIVE:
        raise ValidationError(f"单位“{unit.name}”已{unit.get_state_display()}，不能登记专用计算机。")
    credential = "gwws-" + secrets.token_urlsafe(32)
    with audited():
        Unit.objects.select_for_update().filter(pk=unit.pk).first()  # one enrolment at a time
        if same := Workstation.objects.filter(unit=unit, name=name, active=True).first():
            # A second click on 登记 lands here: the credential was shown after the first.
            raise conflict(
                f"本单位已有启用中的专用计算机“{name}”（"
                f"{timezone.localtime(same.enrolled_at):%Y-%m-%d %H:%M} 登记）。如是重复提交，"
                "设备凭据已在第一次提交后显示；未记下的，请停用该计算机后重新登记。")
        ws = Workstation.objects.create(name=name, unit=unit, enrolled_by=actor,
                                        credential_sha256=credential_fingerprint(credential))
        seals = list(Seal.objects.filter(pk__in=list(seal_ids), unit=unit))
        ws.seals.set(seals)
        record(actor, "seal.workstation.enrolled", ws, unit=unit, request=request,
               detail={"name": ws.name, "seals": [s.es_id for s in seals]})
    return Enrolment(ws, credential)


def bind_seals(*, actor: User, workstation_id: int, seal_ids: list[int],
               request=None) -> Workstation:
    ws = Workstation.objects.select_related("unit").get(pk=workstation_id)
    require(actor, Perm.MANAGE_WORKSTATIONS, ws, request=request)
    with audited():
        seals = list(Seal.objects.filter(pk__in=list(seal_ids), unit=ws.unit))
        ws.seals.set(seals)
        record(actor, "seal.workstation.bound", ws, unit=ws.unit, request=request,
               detail={"seals": [s.es_id for s in seals]})
    return ws


def retire_workstation(*, actor: User, workstation_id: int, request=None) -> Workstation:
    ws = Workstation.objects.select_related("unit").get(pk=workstation_id)
    require(actor, Perm.MANAGE_WORKSTATIONS, ws, request=request)
    with audited():
        if ws.active:
            ws.active, ws.retired_at = False, _now()
            ws.save(update_fields=["active", "retired_at"])
            record(actor, "seal.workstation.retired", ws, unit=ws.unit, request=request)
    return ws


def approve_self_seal_system(*, actor: User, unit_id: int, reference: str = "",
                             note: str = "", request=None) -> SelfSealSystemApproval:
    """Art. 4 para. 2: the city office consents to a unit's own seal system."""
    unit = Unit.objects.get(pk=unit_id)
    require(actor, Perm.APPROVE_SEAL_APPLICATION, unit, request=request)
    with audited():
        Unit.objects.select_for_update().filter(pk=unit.pk).first()  # one approval per unit
        if prior := SelfSealSystemApproval.objects.filter(unit=unit).first():
            raise conflict(f"“{unit.name}”的自建电子印章系统已于"
                           f"{timezone.localtime(prior.approved_at):%Y-%m-%d %H:%M} 批准"
                           f"（{prior.reference or '无文号'}），无需重复批准。")
        approval = SelfSealSystemApproval.objects.create(unit=unit, approved_by=actor,
                                                         reference=reference[:100],
                                                         note=note[:300])
        record(actor, "seal.self_system.approved", approval, unit=unit, request=request,
               detail={"reference": reference})
    return approval


# --------------------------------------------------------------------------- seal use


class SealUseRefused(PermissionDenied):
    """A factor of seal use is missing (art. 3, 5); ``why`` is a stable code."""

    def __init__(self, message_zh: str, why: str):
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.why = why


@dataclass(frozen=True)
class DocumentSealer:
    """An opened seal, good for one thing only: sealing a document for transmission
    (art. 5). It can make an SES_Signature over a document's Signature.xml and nothing
    else; the key stays inside. One sealer seals a whole stack (批量用印): what does not
    change from one document to the next (the seal's SM3 for the OFD's Seal.esl reference,
    the PDF signer with its certificate checks) is made once, on first use."""

    seal_id: int
    es_id: str
    seal_der: bytes = field(repr=False)
    signer_cert_der: bytes = field(repr=False)
    _sign: Callable[[bytes], bytes] = field(repr=False)
    _pdf_sealers: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def seal_document(self, *, signature_xml: bytes, property_info: str,
                      signing_time: datetime | None = None) -> bytes:
        """SES_Signature (GB/T 38540-2020 v4) over ``signature_xml`` of an OFD document."""
        return build_signature(seal_der=self.seal_der, data_hash=sm3(signature_xml),
                               property_info=property_info, signer_cert=self.signer_cert_der,
                               sign=self._sign, signing_time=signing_time or _now())

    @cached_property
    def _seal_sm3(self) -> bytes:
        return sm3(self.seal_der)

    def seal_ofd(self, ofd: bytes, *, box: Any, signing_time: datetime) -> bytes:
        """The OFD rendition of a document, sealed at ``box`` (GB/T 38540 in GB/T 33190)."""
        from gongwen.sealing.ofd_seal import seal_ofd

        return seal_ofd(ofd, signer=self._sign, signer_cert_der=self.signer_cert_der,
                        seal_der=self.seal_der, seal_sm3=self._seal_sm3, box=box,
                        signing_time=signing_time)

    def seal_pdf(self, pdf: bytes, *, box: Any, seal_image_png: bytes, signing_time: datetime,
                 name: str = "") -> SealResult:
        """The PDF rendition of a document, sealed at ``box`` with a visible seal and a GM CMS
        signature (GB/T 35275): the sealed bytes in ``.pdf``, their digest in ``.digest``."""
        sealer = self._pdf_sealers.get(seal_image_png)
        if sealer is None:
            from gongwen.sealing.pdf import Sealer

            sealer = self._pdf_sealers[seal_image_png] = Sealer(
                signer=_SealKey(self), cert_der=self.signer_cert_der, suite="GM",
                seal_image_png=seal_image_png)
        return sealer.seal_with_info(pdf, box=box, reason="公文用印", name=name or None,
                                     signing_time=signing_time)


class _SealKey:
    """The opened seal's key as a :class:`gongwen.pki.suites.ExternalSigner` for the PDF CMS
    signature; the key itself stays inside the :class:`DocumentSealer`."""

    def __init__(self, sealer: DocumentSealer) -> None:
        from gongwen.pki import suites

        self._sign = sealer._sign
        self._public = suites.certificate_public_key(sealer.signer_cert_der)

    def public_key(self) -> Any:
        return self._public

    def sign_der(self, data: bytes) -> bytes:
        return self._sign(data)


def _refuse(user: User, seal: Seal, why: str, message: str, request=None,
            workstation: Workstation | None = None) -> SealUseRefused:
    record(user if getattr(user, "pk", None) else None, "seal.use_refused", seal,
           unit=seal.unit, request=request,
           detail={"why": why, "es_id": seal.es_id,
                   "workstation": workstation.name if workstation else ""})
    return SealUseRefused(message, why)


@dataclass(frozen=True)
class SealSession:
    """A seal opened once for a stack of documents (批量用印: the keeper enters the key disk
    PIN once). Every factor of art. 3 and 5 was checked by :func:`open_seal_session`; each
    document's use goes through :meth:`use_for`, which re-checks that the seal is still
    active and enters the use in the seal register and the audit trail, one per document."""

    user: User
    seal: Seal
    workstation: Workstation
    _sealer: DocumentSealer = field(repr=False)

    @property
    def sealer(self) -> DocumentSealer:
        """The opened seal; every use must be entered with :meth:`register_uses` in the
        transaction that stores what it signed (or through :meth:`use_for`)."""
        return self._sealer

    def check_active(self, request=None) -> None:
        """Raise the audited refusal if the seal was lost or revoked since it was opened."""
        seal = self.seal
        status = Seal.objects.filter(pk=seal.pk).values_list("status", flat=True).first()
        if status != SealStatus.ACTIVE:
            seal.refresh_from_db(fields=["status"])
            raise _refuse(self.user, seal, "status",
                          f"该电子印章{seal.get_status_display()}，不能使用。", request,
                          self.workstation)

    def register_uses(self, documents: list[tuple[int | None, str]], *, request=None) -> None:
        """Enter the uses of a stack in the seal register and the audit trail (one each per
        document: one INSERT, entries appended with the caller's ``audited`` transaction),
        inside the caller's transaction. The seal's row is locked first, so a revocation
        either waits for the stack or is seen here: then ``SealUseRefused`` is raised *not
        audited* (the caller's transaction rolls back; :meth:`check_active` afterwards
        audits the refusal)."""
        seal = self.seal
        status = (Seal.objects.select_for_update(no_key=True, of=("self",))
                  .filter(pk=seal.pk).values_list("status", flat=True).first())
        if status != SealStatus.ACTIVE:
            raise SealUseRefused("该电子印章已不能使用。", "status")
        SealEvent.objects.bulk_create([
            SealEvent(seal=seal, kind=SealEvent.Kind.USED, user=self.user,
                      workstation=self.workstation, document_id_ref=document_id,
                      document_ref=document_ref[:200])
            for document_id, document_ref in documents])
        for document_id, document_ref in documents:
            record(self.user, "seal.used", seal, unit=seal.unit, request=request,
                   detail={"es_id": seal.es_id, "workstation": self.workstation.name,
                           "document_id": document_id, "document": document_ref})

    def use_for(self, *, document_id: int | None = None, document_ref: str = "",
                request=None) -> DocumentSealer:
        """One document's use, in a transaction of its own (``authorize_seal_use``)."""
        self.check_active(request)
        try:
            with audited():
                self.register_uses([(document_id, document_ref)], request=request)
        except SealUseRefused:
            self.check_active(request)  # revoked in between: audits the refusal
            raise
        return self._sealer


def open_seal_session(*, user: User, seal: Seal | int, workstation_credential: str, pin: str,
                      request=None) -> SealSession:
    """Every factor of art. 3 and 5, in order: the keeper role, being this seal's keeper,
    an active seal, an enrolled active workstation bound to the seal, the key disk PIN
    (counted and locked by the authority app). Each refusal is audited. The key disk is
    opened once; nothing is entered in the register until :meth:`SealSession.use_for`."""
    seal = Seal.objects.select_related("unit", "certificate").get(
        pk=seal.pk if isinstance(seal, Seal) else int(seal))
    if not can(user, Perm.SEAL):
        raise _refuse(user, seal, "role", "您不是印章管理员，不能使用电子印章（第三条）。",
                      request)
    if seal.keeper_id != user.pk:
        raise _refuse(user, seal, "keeper", "您不是该电子印章的指定保管人，不能使用该印章。",
                      request)
    now = _now()
    if not seal.is_active:
        raise _refuse(user, seal, "status",
                      f"该电子印章{seal.get_status_display()}，不能使用。", request)
    if not seal.valid_from <= now <= seal.valid_to:
        raise _refuse(user, seal, "validity", "该电子印章不在有效期内，不能使用。", request)
    ws = None
    if workstation_credential:
        ws = Workstation.objects.filter(
            credential_sha256=credential_fingerprint(workstation_credential)).first()
    if ws is None or not ws.active:
        raise _refuse(user, seal, "workstation",
                      "本计算机不是已登记的专用计算机，不能使用电子印章（第三条）。", request)
    if not ws.seals.filter(pk=seal.pk).exists():
        raise _refuse(user, seal, "workstation_not_bound",
                      f"专用计算机“{ws.name}”未绑定该电子印章，不能使用。", request, ws)
    try:
        key = authority.open_key_disk(user=user, disk=seal.certificate.key_disk, pin=pin,
                                      request=request)
    except (PKIError, PermissionDenied) as exc:
        message = getattr(exc, "message_zh", "") or str(exc)
        raise _refuse(user, seal, "pin", f"密钥盘口令验证未通过：{message}", request,
                      ws) from exc
    try:
        # The key is compared with the seal's certificate once here, so the signatures of a
        # stack need not each be verified after signing (MatchedSigner).
        sign = matched_signer(key, bytes(seal.certificate.der))
    except KeyMismatch as exc:
        raise _refuse(user, seal, "key_mismatch",
                      "密钥盘中的私钥与该印章的签章证书不匹配，不能使用，请联系制章单位。",
                      request, ws) from exc
    sealer = DocumentSealer(seal.pk, seal.es_id, bytes(seal.der), bytes(seal.certificate.der),
                            sign)
    return SealSession(user, seal, ws, sealer)


def authorize_seal_use(*, user: User, seal: Seal | int, workstation_credential: str,
                       pin: str, document_id: int | None = None, document_ref: str = "",
                       request=None) -> DocumentSealer:
    """One document's seal use: :func:`open_seal_session` (every factor of art. 3 and 5,
    each refusal audited) and the use entered in the seal's register."""
    session = open_seal_session(user=user, seal=seal, workstation_credential=workstation_credential,
                                pin=pin, request=request)
    return session.use_for(document_id=document_id, document_ref=document_ref, request=request)


# ------------------------------------------------------------------ seal verification


@dataclass(frozen=True)
class SealCheck:
    """Outcome of :func:`check_seal`: ``status`` is ``valid``, ``invalid`` or ``unreadable``
    (the CLI's exit codes 0, 1, 2). ``info`` is the parsed seal when it could be read."""

    status: str
    message_zh: str
    message_en: str
    info: Any = None
    registered: Seal | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "message_zh": self.message_zh,
                               "message_en": self.message_en, "warnings": list(self.warnings)}
        if self.registered is not None:
            s = self.registered
            out["register"] = {"es_id": s.es_id, "unit": s.unit.name, "status": s.status,
                               "status_zh": s.get_status_display(),
                               "keeper": s.keeper.username,
                               "authority": s.authority.name if s.authority else ""}
        return out


def check_seal(der: bytes, at: datetime | None = None) -> SealCheck:
    """Verify an SES_Seal as a relying party of this platform, without raising: structure,
    the maker's SM3withSM2 signature, the validity period, the maker certificate's chain to
    our root with the current CRLs, every holder certificate (chain and CRL), and — for a
    seal in our register — the bytes and the register status at ``at``."""
    from gongwen.seals.ses.seal import chain_check, parse_seal, verify_seal

    at = at or _now()
    try:
        info = parse_seal(bytes(der))
    except PKIError as exc:
        return SealCheck("unreadable", getattr(exc, "message_zh", "") or "电子印章数据无法解析",
                         str(exc))
    registered = (Seal.objects.filter(es_id=info.es_id)
                  .select_related("unit", "keeper", "authority").first())
    warnings = list(info.warnings)
    try:
        anchors, intermediates, crls = authority.trust_material()
        verify_seal(info, at, maker_check=chain_check(anchors, intermediates, crls))
        for cert in info.certs:
            authority.validate_certificate(cert, at)
    except PKIError as exc:
        return SealCheck("invalid", exc.message_zh, str(exc), info, registered, tuple(warnings))
    if registered is None:
        warnings.append("该印章不在本平台的印章登记中")
    else:
        if bytes(registered.der) != bytes(info.der):
            return SealCheck("invalid", "印章数据与平台登记的同编码印章不一致",
                             "seal bytes differ from the registered seal with this esID",
                             info, registered, tuple(warnings))
        ended = (not registered.is_active and registered.status_changed_at is not None
                 and registered.status_changed_at <= at)
        if ended:
            return SealCheck("invalid", f"该电子印章已于{timezone.localtime(registered.status_changed_at):%Y-%m-%d %H:%M}"
                                        f"{registered.get_status_display()}",
                             f"seal is {registered.status} in the register", info, registered,
                             tuple(warnings))
    return SealCheck("valid", "电子印章有效：制章者签名、有效期、证书链和吊销状态均已核验",
                     "seal is valid (maker signature, validity, chain and CRL checked)",
                     info, registered, tuple(warnings))
