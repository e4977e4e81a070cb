"""Demo PKI on top of the demo units (gongwen/units/demo.py). Idempotent.

* the CA hierarchy (root → 江苏省电子印章CA, 连云港市电子政务CA);
* a seal-maker certificate (制章单位证书) for each seal authority, held by its operator or head;
* for every networked demo unit: a unit-seal certificate on a key disk for its seal keeper
  (印章管理员) and a unit-receipt certificate for its clerk (收发员), for 签收.

Every demo key disk has the PIN :data:`DEMO_PIN` (printed by ``gongwen logins``).
"""

from __future__ import annotations

from django.db import transaction

from gongwen.accounts.models import Role, User
from gongwen.units.models import Unit, UnitState

from . import services
from .models import Certificate, CertStatus, Profile

DEMO_PIN = "123456"


def _first_holder(unit: Unit, *roles: str) -> User | None:
    for role in roles:
        user = (User.objects.filter(unit=unit, is_active=True, role_grants__role=role)
                .order_by("id").first())
        if user is not None:
            return user
    return None


def _has(unit: Unit, profile: str) -> bool:
    return Certificate.objects.filter(unit=unit, profile=profile,
                                      status=CertStatus.VALID).exists()


def demo_plan() -> list[tuple[Unit, str, User]]:
    """(unit, profile, holder) of every demo certificate, whether issued or not."""
    plan: list[tuple[Unit, str, User]] = []
    units = Unit.objects.filter(state=UnitState.ACTIVE).order_by("level", "code")
    for unit in units:
        if unit.is_seal_authority:
            holder = _first_holder(unit, Role.OPERATOR, Role.HEAD, Role.SEAL_KEEPER)
            if holder is not None:
                plan.append((unit, Profile.SEAL_MAKER, holder))
        if not unit.networked:
            continue
        keeper = _first_holder(unit, Role.SEAL_KEEPER)
        if keeper is not None:
            plan.append((unit, Profile.UNIT_SEAL, keeper))
        clerk = _first_holder(unit, Role.CLERK)
        if clerk is not None:
            plan.append((unit, Profile.UNIT_RECEIPT, clerk))
    return plan


@transaction.atomic
def load_pki_demo(pin: str = DEMO_PIN) -> dict[str, int]:
    """Initialise the PKI, renew CRLs that are due and issue the missing demo certificates."""
    result = services.init_pki()
    # A demo restarted after days keeps working: renew CRLs that are (nearly) stale.
    renewed = [] if result.created else services.refresh_due_crls()
    issued = 0
    for unit, profile, holder in demo_plan():
        if _has(unit, profile):
            continue
        services.issue_certificate(unit=unit, profile=profile, holder=holder, pin=pin)
        issued += 1
    return {"cas": len(result.created), "certificates": issued, "crls": len(renewed)}
