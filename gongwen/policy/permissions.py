"""The one permission layer (R-SEC-1): every view, API endpoint and CLI action asks here.

Two kinds of question:
- ``can(user, perm)``: may this user use a feature at all (role-based);
- ``can(user, perm, obj)``: may this user act on this object (unit scope).

``require`` raises ``PermissionDenied`` (403) for a missing role and ``NotVisible`` (404)
for an object outside the user's scope, so that other units' objects are not even
confirmed to exist. Both denials are audited.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404

from gongwen.accounts.models import Role


class Perm(StrEnum):
    VIEW_INBOX = "view_inbox"          # 收文
    VIEW_OUTBOX = "view_outbox"        # 发文
    DRAFT = "draft"                    # 草稿
    APPROVE = "approve"                # 待核批
    SEAL = "seal"                      # 用印
    TRACK = "track"                    # 跟踪
    VIEW_SEALS = "view_seals"          # 印章管理
    VIEW_DIRECTORY = "view_directory"  # 通讯录
    VIEW_UNIT = "view_unit"            # a unit's page with its members
    MANAGE_UNITS = "manage_units"      # 单位管理
    MANAGE_USERS = "manage_users"
    MANAGE_GROUPS = "manage_groups"
    VIEW_STATS = "view_stats"          # 统计
    VIEW_AUDIT = "view_audit"          # 审计
    USE_API = "use_api"
    MANAGE_PKI = "manage_pki"          # 证书管理 (CAs, certificates, CRLs, key disks)
    VIEW_POLICY = "view_policy"        # 推行阶段: the phase in force (everyone)
    MANAGE_POLICY = "manage_policy"    # 推行阶段 (roll-out phases, R-POLICY)
    VIEW_DOCUMENT = "view_document"    # a document's page and its files (unit scope, R-SEC-1)
    # Electronic seal lifecycle (attachment art. 3-9, R-SEAL-4..6).
    APPLY_SEAL = "apply_seal"          # 填写电子印章申请表
    SIGN_SEAL_APPLICATION = "sign_seal_application"        # 单位负责人签字
    APPROVE_SEAL_APPLICATION = "approve_seal_application"  # 市政府办公室审批
    EXECUTE_SEAL_APPLICATION = "execute_seal_application"  # 制章单位办理（制发、注销）
    MANAGE_WORKSTATIONS = "manage_workstations"            # 专用计算机登记
    # Document exchange (R-FLOW-1..3): objects are Dispatch/Delivery rows of the exchange app.
    DISPATCH = "dispatch"              # 分发 a sealed document of one's unit; 撤回
    RECEIVE = "receive"                # 签收 / 退回 a delivery to one's unit
    VIEW_DELIVERY = "view_delivery"    # a delivery: its sender or recipient unit only
    PRINT = "print"                    # 打印 a signed delivery (recipient unit; R-FLOW-6)


_ALL_ROLES = frozenset(Role.values)

ROLE_PERMS: dict[Perm, frozenset[str]] = {
    Perm.VIEW_INBOX: frozenset({Role.CLERK, Role.HEAD, Role.LEADER}),
    Perm.VIEW_OUTBOX: frozenset({Role.CLERK, Role.HEAD, Role.LEADER}),
    Perm.DRAFT: frozenset({Role.CLERK}),
    Perm.APPROVE: frozenset({Role.HEAD, Role.LEADER}),
    Perm.SEAL: frozenset({Role.SEAL_KEEPER}),
    Perm.TRACK: frozenset({Role.CLERK, Role.HEAD, Role.LEADER}),
    Perm.VIEW_SEALS: frozenset({Role.SEAL_KEEPER, Role.HEAD, Role.OPERATOR}),
    Perm.VIEW_DIRECTORY: _ALL_ROLES,
    Perm.VIEW_UNIT: _ALL_ROLES,
    Perm.MANAGE_UNITS: frozenset({Role.OPERATOR}),
    Perm.MANAGE_USERS: frozenset({Role.OPERATOR}),
    Perm.MANAGE_GROUPS: frozenset({Role.OPERATOR}),
    Perm.VIEW_STATS: frozenset({Role.HEAD, Role.LEADER, Role.OPERATOR, Role.AUDITOR}),
    Perm.VIEW_AUDIT: frozenset({Role.AUDITOR}),
    Perm.USE_API: _ALL_ROLES,
    Perm.MANAGE_PKI: frozenset({Role.OPERATOR}),
    Perm.VIEW_POLICY: _ALL_ROLES,
    Perm.MANAGE_POLICY: frozenset({Role.OPERATOR}),
    Perm.VIEW_DOCUMENT: frozenset({Role.CLERK, Role.HEAD, Role.LEADER, Role.SEAL_KEEPER}),
    Perm.APPLY_SEAL: frozenset({Role.CLERK, Role.SEAL_KEEPER, Role.HEAD}),
    Perm.SIGN_SEAL_APPLICATION: frozenset({Role.HEAD}),
    # Only users of the platform operator unit (市政府办公室) pass the object check.
    Perm.APPROVE_SEAL_APPLICATION: frozenset({Role.HEAD, Role.OPERATOR}),
    # Operators of a seal authority (市政府办公室, 省政府办公厅) execute.
    Perm.EXECUTE_SEAL_APPLICATION: frozenset({Role.OPERATOR}),
    Perm.MANAGE_WORKSTATIONS: frozenset({Role.OPERATOR}),
    Perm.DISPATCH: frozenset({Role.CLERK}),
    Perm.RECEIVE: frozenset({Role.CLERK}),
    Perm.VIEW_DELIVERY: frozenset({Role.CLERK, Role.HEAD, Role.LEADER}),
    Perm.PRINT: frozenset({Role.CLERK, Role.HEAD, Role.LEADER}),
}

# Seal permissions whose objects the city office sees across units (art. 4, 7).
_PLATFORM_WIDE_SEAL_PERMS = frozenset({Perm.VIEW_SEALS, Perm.APPROVE_SEAL_APPLICATION,
                                       Perm.MANAGE_WORKSTATIONS})

# Features about the platform as a whole (the platform-wide recipient groups, the roll-out
# phases): only users of the platform operator unit (市政府办公室电子政务中心, SPEC §1) have
# them; an operator of another unit does not even see them offered.
_PLATFORM_ONLY_PERMS = frozenset({Perm.MANAGE_GROUPS, Perm.MANAGE_POLICY})

# Management whose objects are units, their users and the CAs: the platform operator unit's
# operators manage every one, an operator of another unit his own unit and the CA his unit
# runs (the province its provincial CA).
_MANAGEMENT_PERMS = frozenset({Perm.MANAGE_UNITS, Perm.MANAGE_USERS, Perm.MANAGE_PKI})


class _Platform:
    """The platform as a whole, as the object of a verb that is no one unit's business:
    creating a unit, renaming, merging or revoking one (users move between units, seals are
    returned), initialising the CAs. Only the platform operator unit's operators act on it."""

    pk = None

    def __repr__(self) -> str:
        return "PLATFORM"


PLATFORM = _Platform()


class NotVisible(Http404):
    """The object exists for someone, but not for this user: answered as 404."""


def is_platform_user(user) -> bool:
    """Users of the operator unit see platform-wide data where their role allows it."""
    unit = getattr(user, "unit", None)
    return bool(unit and unit.is_platform_operator)


def _has_role_for(user, perm: Perm) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if perm in _PLATFORM_ONLY_PERMS and not is_platform_user(user):
        return False
    return bool(user.roles & ROLE_PERMS[perm])


def _object_unit_id(obj) -> int | None:
    from gongwen.units.models import Unit

    if isinstance(obj, Unit):
        return obj.pk
    return getattr(obj, "unit_id", None)


def _pki_unit_id(obj) -> int | None:
    """The unit that runs the CA a PKI object belongs to (the CA's 运营单位)."""
    from gongwen.authority.models import Certificate, CertificateAuthority, KeyDisk

    if isinstance(obj, KeyDisk):
        obj = obj.certificate
    if isinstance(obj, Certificate):
        obj = obj.issuer
    if isinstance(obj, CertificateAuthority):
        return obj.unit_id
    return None


def _manages(user, perm: Perm, obj) -> bool:
    """Management scope (units, users, CAs): everything for the platform operator unit's
    operators; for another unit's operator his own unit, its users and the CA it runs."""
    if is_platform_user(user):
        return True
    if obj is PLATFORM or user.unit_id is None:
        return False
    unit_id = _pki_unit_id(obj) if perm == Perm.MANAGE_PKI else _object_unit_id(obj)
    return unit_id == user.unit_id


def _sees_object(user, perm: Perm, obj) -> bool:
    """Unit scope. The platform operator unit's operators manage every unit, others their
    own (``_manages``); platform auditors see the whole trail; everyone else sees objects
    of their own unit only."""
    if perm in _MANAGEMENT_PERMS:
        return _manages(user, perm, obj)
    if perm == Perm.MANAGE_GROUPS:
        return is_platform_user(user)
    if perm == Perm.VIEW_UNIT and user.has_role(Role.OPERATOR) and is_platform_user(user):
        return True
    if perm == Perm.VIEW_AUDIT and is_platform_user(user):
        return True
    if perm == Perm.VIEW_DOCUMENT:
        return visible_documents(user).filter(pk=obj.pk).exists()
    if perm in _EXCHANGE_PERMS:
        return _sees_exchange_object(user, perm, obj)
    if perm in _PLATFORM_WIDE_SEAL_PERMS and is_platform_user(user):
        return True
    if perm == Perm.APPROVE_SEAL_APPLICATION:
        return False
    if perm == Perm.EXECUTE_SEAL_APPLICATION:
        return _makes_seals_of(user, obj)
    unit_id = _object_unit_id(obj)
    return unit_id is not None and unit_id == user.unit_id


def _makes_seals_of(user, obj) -> bool:
    """Attachment art. 4 (R-SEAL-3): the authority that makes a unit's seal carries out
    every form about it, 制作 as well as 注销 and 交回: the province for the province and the
    county/district governments, the city office for the city's units. The same rule as
    making the seal itself (``seals.services.authority_unit_for``), not a second copy."""
    from gongwen.pki.errors import PKIError
    from gongwen.seals.services import authority_unit_for
    from gongwen.units.models import Unit

    unit = obj if isinstance(obj, Unit) else getattr(obj, "unit", None)
    if unit is None or user.unit_id is None:
        return False
    try:
        maker = authority_unit_for(unit)
    except PKIError:  # no CAs yet: nobody makes seals
        return False
    return maker is not None and maker.pk == user.unit_id


_EXCHANGE_PERMS = frozenset({Perm.DISPATCH, Perm.RECEIVE, Perm.VIEW_DELIVERY, Perm.TRACK,
                             Perm.PRINT})


def _sees_exchange_object(user, perm: Perm, obj) -> bool:
    """R-SEC-1 for the exchange: a delivery is seen by its sender and its recipient unit;
    only the recipient receives it (签收/退回), only the sender dispatches, withdraws and
    follows up (催办)."""
    from gongwen.exchange.models import Delivery, Dispatch

    unit_id = user.unit_id
    if unit_id is None:
        return False
    if isinstance(obj, Delivery):
        sender = obj.dispatch.sender_unit_id
        if perm in (Perm.RECEIVE, Perm.PRINT):
            return obj.recipient_unit_id == unit_id
        if perm == Perm.VIEW_DELIVERY:
            return unit_id in (sender, obj.recipient_unit_id)
        return sender == unit_id  # DISPATCH, TRACK
    if isinstance(obj, Dispatch):
        return obj.sender_unit_id == unit_id
    return _object_unit_id(obj) == unit_id


def visible_deliveries(user):
    """Deliveries the user's unit sent or received (R-SEC-1)."""
    from django.db.models import Q

    from gongwen.exchange.models import Delivery

    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.unit_id:
        return Delivery.objects.none()
    return Delivery.objects.filter(Q(recipient_unit_id=user.unit_id)
                                   | Q(dispatch__sender_unit_id=user.unit_id))


def can(user, perm: Perm, obj=None) -> bool:
    if not _has_role_for(user, perm):
        return False
    return obj is None or _sees_object(user, perm, obj)


def require(user, perm: Perm, obj=None, *, request=None) -> None:
    """Raise unless allowed; the denial is written to the audit trail."""
    if not _has_role_for(user, perm):
        _audit_denial(user, perm, obj, request, "role")
        raise PermissionDenied("您没有执行此操作的权限。")
    if obj is not None and not _sees_object(user, perm, obj):
        _audit_denial(user, perm, obj, request, "scope")
        if obj is PLATFORM:
            # A feature the user's unit does not have (a new unit, a merge): nothing is
            # hidden, so the answer is the plain refusal.
            raise PermissionDenied("只有平台运营单位的平台管理员可以执行此操作。")
        raise NotVisible("未找到该对象。")


def _audit_denial(user, perm: Perm, obj, request, why: str) -> None:
    from gongwen.audit.services import record

    actor = user if getattr(user, "is_authenticated", False) else None
    target = obj if getattr(obj, "pk", None) else None
    # The entry goes to the trail of the actor's unit, whose auditor reads it: the object is
    # named by type and id, never by its own text (a document title of another unit).
    record(actor, "permission.denied", target,
           detail={"perm": str(perm), "why": why,
                   "path": request.path if request is not None else ""},
           request=request,
           target_repr=f"{target._meta.verbose_name} #{target.pk}" if target else None)


def _managed(user, perm: Perm, model, own_unit_field: str):
    """Everything of ``model`` for the platform operator unit's operators, what belongs to
    their own unit (``own_unit_field``) for another unit's operator, nothing for others."""
    if not can(user, perm) or not user.unit_id:
        return model.objects.none()
    if is_platform_user(user):
        return model.objects.all()
    return model.objects.filter(**{own_unit_field: user.unit_id})


def managed_units(user, perm: Perm = Perm.MANAGE_UNITS):
    """The units whose registry entry (``MANAGE_UNITS``) or users (``MANAGE_USERS``) the
    user manages, for lists and pickers."""
    from gongwen.units.models import Unit

    return _managed(user, perm, Unit, "pk")


def managed_users(user):
    """The users the user manages (``MANAGE_USERS``), for 用户管理's list."""
    from gongwen.accounts.models import User

    return _managed(user, Perm.MANAGE_USERS, User, "unit_id")


def managed_cas(user):
    """The CAs whose certificates, CRLs and key disks the user manages (``MANAGE_PKI``)."""
    from gongwen.authority.models import CertificateAuthority

    return _managed(user, Perm.MANAGE_PKI, CertificateAuthority, "unit_id")


def stats_units(user):
    """The units whose statistics the user reads (R-AUDIT-2): every unit for the city
    office (the platform operator unit), whose role allows statistics at all; the user's own
    unit for everyone else; none without the permission."""
    from gongwen.units.models import Unit

    if not can(user, Perm.VIEW_STATS) or not user.unit_id:
        return Unit.objects.none()
    if is_platform_user(user):
        return Unit.objects.all()
    return Unit.objects.filter(pk=user.unit_id)


def audit_entries_for(user):
    """The auditor's view of the trail: platform auditors see all, others their unit's."""
    from gongwen.audit.models import AuditEntry

    if not can(user, Perm.VIEW_AUDIT):
        return AuditEntry.objects.none()
    if is_platform_user(user):
        return AuditEntry.objects.all()
    return AuditEntry.objects.filter(unit_id=user.unit_id)


def visible_documents(user):
    """The one gate for reading documents across units (R-SEC-1): documents of the user's
    unit, documents the unit co-issues (联合行文), and documents sent to the unit as a 主送 or
    抄送 recipient (directly or through a recipient group) once they have been dispatched.
    Before dispatch only the issuing units see a document, and a recipient whose delivery was
    withdrawn (撤回) no longer sees it."""
    from django.db.models import Q

    from gongwen.documents.models import RECIPIENT_VISIBLE_STATES, OfficialDocument
    from gongwen.exchange.models import Delivery, DeliveryState

    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.unit_id:
        return OfficialDocument.objects.none()
    unit_id = user.unit_id
    as_recipient = (Q(recipients__unit_id=unit_id)
                    | Q(recipients__group__members__id=unit_id))
    ids = OfficialDocument.objects.filter(
        Q(unit_id=unit_id) | Q(issuers__unit_id=unit_id)
        | (as_recipient & Q(state__in=RECIPIENT_VISIBLE_STATES)
           & ~Q(pk__in=Delivery.objects.filter(recipient_unit_id=unit_id,
                                               state=DeliveryState.WITHDRAWN)
                .values("dispatch__document_id")))
    ).values("pk")
    return OfficialDocument.objects.filter(pk__in=ids)
