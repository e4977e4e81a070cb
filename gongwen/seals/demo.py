"""Demo seals on top of the demo units and the demo PKI (issue 6 item 8). Idempotent.

Every active, networked demo unit with a seal keeper gets an active seal, made through the
real application flow of :mod:`gongwen.seals.services` (art. 4, 7): its keeper fills the
form → its head signs → 市政府办公室 (``admin``) approves → the issuing authority executes
with its seal-maker key disk. County/district governments' seals (and the province's own)
come from 江苏省人民政府办公厅, city units' from 市政府办公室. The keeper's new key disk has
the demo PIN (:data:`gongwen.authority.demo.DEMO_PIN`).

The province has no operator among the demo units' users, and executing needs one
(``Perm.EXECUTE_SEAL_APPLICATION``): the demo adds ``sheng.admin`` with a seal-maker key
disk of the provincial CA.

Then each demo seal gets an enrolled workstation (专用计算机, art. 3) bound to it; its device
credential is written once to ``var/workstations/<name>.cred`` (mode 0600) and returned so
that ``gongwen demo`` prints it. A workstation whose file is gone is retired and enrolled
anew (the platform keeps only the credential's SHA-256).

For the register to show more than happy paths: 东海县人民政府's first seal was reported lost
and reissued (a revoked seal in its history), and 连云港市财政局 has a pending 损坏换领
application waiting for 市政府办公室's approval.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from gongwen.accounts.models import Role, RoleGrant, User
from gongwen.authority import services as authority
from gongwen.authority.demo import DEMO_PIN
from gongwen.authority.models import Certificate, CertStatus, Profile
from gongwen.units.models import Level, Unit, UnitState

from . import services
from .models import (
    ApplicationKind,
    ApplicationState,
    Seal,
    SealApplication,
    SealStatus,
    Workstation,
)

log = logging.getLogger("gongwen.seals")

PROVINCE_OPERATOR = ("sheng.admin", "陆振东")
LOST_DEMO_UNIT = "11320722014000001D"     # 东海县人民政府: a seal reported lost, reissued
PENDING_DEMO_UNIT = "11320700014100102L"  # 连云港市财政局: a pending 损坏换领 application


@dataclass
class NewCredential:
    workstation: str
    unit: str
    es_id: str
    path: Path
    credential: str = field(repr=False)


@dataclass
class SealDemoResult:
    seals: list[str] = field(default_factory=list)          # es_ids issued by this run
    skipped: list[str] = field(default_factory=list)        # units without a head etc.
    credentials: list[NewCredential] = field(default_factory=list)
    users: int = 0
    applications: int = 0

    def counts(self) -> dict[str, int]:
        return {"seals": len(self.seals), "workstations": len(self.credentials),
                "users": self.users, "applications": self.applications}


def workstation_dir() -> Path:
    return Path(settings.VAR_DIR) / "workstations"


def _first(unit: Unit, *roles: str) -> User | None:
    for role in roles:
        user = (User.objects.filter(unit=unit, is_active=True, role_grants__role=role)
                .order_by("id").first())
        if user is not None:
            return user
    return None


def _platform_unit() -> Unit:
    return Unit.objects.filter(is_platform_operator=True).order_by("id").first()


def _ensure_province_operator(result: SealDemoResult) -> None:
    province = Unit.objects.filter(is_seal_authority=True, level=Level.PROVINCE).first()
    if province is None or _first(province, Role.OPERATOR) is not None:
        return
    from gongwen.units.demo import DEMO_PASSWORD

    username, full_name = PROVINCE_OPERATOR
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, full_name=full_name, unit=province,
                    email=f"{username.replace('.', '_')}@js.gov.cn.example")
        user.set_password(DEMO_PASSWORD)
        user.save()
        result.users += 1
    RoleGrant.objects.get_or_create(user=user, role=Role.OPERATOR)


def _executor_for(unit: Unit) -> User | None:
    """The operator of ``unit``'s issuing authority, with a valid seal-maker key disk of the
    right CA (issued here with the demo PIN if missing)."""
    maker_unit = services.authority_unit_for(unit)
    if maker_unit is None:
        return None
    operator = _first(maker_unit, Role.OPERATOR)
    if operator is None:
        return None
    ca = authority.issuing_ca_for(unit)
    if not Certificate.objects.filter(profile=Profile.SEAL_MAKER, status=CertStatus.VALID,
                                      issuer=ca, unit=maker_unit, holder=operator).exists():
        authority.issue_certificate(unit=maker_unit, profile=Profile.SEAL_MAKER,
                                    holder=operator, pin=DEMO_PIN)
    return operator


def _run(app: SealApplication, *, head: User, approver: User, executor: User,
         stop_at: str = ApplicationState.EXECUTED) -> SealApplication:
    """Carry ``app`` on from its current state up to ``stop_at``."""
    if app.state == ApplicationState.FILLED and stop_at != ApplicationState.FILLED:
        app = services.sign_application(actor=head, application_id=app.pk)
    if app.state == ApplicationState.HEAD_SIGNED and stop_at not in (
            ApplicationState.FILLED, ApplicationState.HEAD_SIGNED):
        app = services.approve_application(actor=approver, application_id=app.pk)
    if app.state == ApplicationState.APPROVED and stop_at == ApplicationState.EXECUTED:
        app = services.execute_application(actor=executor, application_id=app.pk,
                                           keeper_pin=DEMO_PIN, maker_pin=DEMO_PIN)
    return app


def demo_units() -> list[Unit]:
    """Active networked units with a seal keeper, in a stable order."""
    return [u for u in Unit.objects.filter(state=UnitState.ACTIVE, networked=True)
            .order_by("level", "code") if _first(u, Role.SEAL_KEEPER) is not None]


def _make_seal(unit: Unit, approver: User, result: SealDemoResult) -> Seal | None:
    active = Seal.objects.filter(unit=unit, status=SealStatus.ACTIVE).order_by("-id").first()
    if active is not None:
        return active
    keeper, head = _first(unit, Role.SEAL_KEEPER), _first(unit, Role.HEAD)
    executor = _executor_for(unit)
    if head is None or executor is None:
        result.skipped.append(unit.name)
        log.warning("demo seal for %s skipped: no head or no authority operator", unit.code)
        return None
    app = (SealApplication.objects.filter(
        unit=unit, state__in=[ApplicationState.FILLED, ApplicationState.HEAD_SIGNED,
                              ApplicationState.APPROVED],
        kind__in=[ApplicationKind.MAKE, ApplicationKind.REISSUE_LOST]).order_by("id").first())
    if app is None:
        app = services.fill_application(actor=keeper, kind=ApplicationKind.MAKE,
                                        reason="本单位已接入电子公文传输平台，申请制作电子印章"
                                               "（演示数据）。", keeper_id=keeper.pk)
        result.applications += 1
    app = _run(app, head=head, approver=approver, executor=executor)
    seal = app.result_seal
    result.seals.append(seal.es_id)
    return seal


def _lost_and_reissued(unit: Unit, seal: Seal, approver: User,
                       result: SealDemoResult) -> Seal:
    """东海县: the first seal's key disk was reported lost and the seal reissued."""
    if SealApplication.objects.filter(unit=unit, kind=ApplicationKind.REISSUE_LOST).exists():
        return seal
    clerk = _first(unit, Role.CLERK, Role.SEAL_KEEPER)
    app = services.fill_application(actor=clerk, kind=ApplicationKind.REISSUE_LOST,
                                    reason="印章管理员外出时密钥盘遗失，已登报声明，申请挂失补发"
                                           "（演示数据）。", seal_id=seal.pk)
    result.applications += 1
    app = _run(app, head=_first(unit, Role.HEAD), approver=approver,
               executor=_executor_for(unit))
    result.seals.append(app.result_seal.es_id)
    return app.result_seal


def _pending_replacement(unit: Unit, seal: Seal, result: SealDemoResult) -> None:
    """财政局: a 损坏换领 form signed by the head, waiting for 市政府办公室."""
    if SealApplication.objects.filter(unit=unit, kind=ApplicationKind.REPLACE_DAMAGED).exists():
        return
    keeper, head = _first(unit, Role.SEAL_KEEPER), _first(unit, Role.HEAD)
    if head is None:
        return
    app = services.fill_application(actor=keeper, kind=ApplicationKind.REPLACE_DAMAGED,
                                    reason="密钥盘接口损坏无法读取，申请换领（演示数据）。",
                                    seal_id=seal.pk)
    services.sign_application(actor=head, application_id=app.pk)
    result.applications += 1


# ----------------------------------------------------------------------- workstations


def _write_credential(path: Path, credential: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(credential + "\n")
    os.chmod(path, 0o600)


def read_credential(path: Path) -> str:
    return Path(path).read_text(encoding="ascii").strip()


def workstation_name(seal: Seal) -> str:
    return f"{seal.keeper.username}-pc"


def _ensure_workstation(seal: Seal, operator: User, directory: Path,
                        result: SealDemoResult) -> None:
    name = workstation_name(seal)
    path = directory / f"{name}.cred"
    ws = Workstation.objects.filter(unit=seal.unit, name=name, active=True).first()
    if ws is not None:
        good = False
        if path.is_file():
            try:
                good = services.credential_fingerprint(read_credential(path)) == \
                    ws.credential_sha256
            except (OSError, UnicodeError):
                good = False
        if good:
            if not ws.seals.filter(pk=seal.pk).exists():
                services.bind_seals(actor=operator, workstation_id=ws.pk,
                                    seal_ids=[*ws.seals.values_list("pk", flat=True), seal.pk])
            return
        # The credential on "that computer" is gone: retire and enrol anew.
        services.retire_workstation(actor=operator, workstation_id=ws.pk)
    enrolment = services.enrol_workstation(actor=operator, unit_id=seal.unit_id, name=name,
                                           seal_ids=[seal.pk])
    _write_credential(path, enrolment.credential)
    result.credentials.append(NewCredential(name, seal.unit.name, seal.es_id, path,
                                            enrolment.credential))


# ------------------------------------------------------------------------------ entry


def load_seal_demo(directory: Path | None = None) -> SealDemoResult:
    """Issue the missing demo seals through the application flow and enrol their
    workstations. Safe to run again: nothing is duplicated. Not one transaction: each
    verb commits on its own (key disk attempts are durable), and a rerun resumes."""
    result = SealDemoResult()
    from django.conf import settings

    if settings.GONGWEN.get("SUITE", "GM").upper() != "GM":
        # GB/T 38540 seals are SM2 (SM3withSM2) only: an INTL deployment has certificates
        # and PAdES signatures, but no electronic seals to make.
        result.skipped.append("所有单位（电子印章仅支持 GM 算法套件 / seals need the GM suite）")
        return result
    platform = _platform_unit()
    if platform is None or not authority.active_cas():
        return result
    approver = _first(platform, Role.OPERATOR, Role.HEAD)
    if approver is None:
        return result
    _ensure_province_operator(result)
    directory = Path(directory) if directory is not None else workstation_dir()
    for unit in demo_units():
        seal = _make_seal(unit, approver, result)
        if seal is None:
            continue
        if unit.code == LOST_DEMO_UNIT:
            seal = _lost_and_reissued(unit, seal, approver, result)
        elif unit.code == PENDING_DEMO_UNIT:
            _pending_replacement(unit, seal, result)
        _ensure_workstation(seal, approver, directory, result)
    return result


def demo_extra_logins() -> list[tuple[str, str, str, str]]:
    """Logins this demo adds (for ``gongwen logins``), if present."""
    username, _ = PROVINCE_OPERATOR
    user = User.objects.filter(username=username).select_related("unit").first()
    if user is None:
        return []
    return [(user.username, user.full_name, user.unit.name if user.unit else "",
             "、".join(Role(r).label for r in sorted(user.roles)))]
