"""A refusal raised inside an audited transaction keeps its audit row: the transaction is
rolled back, but the trail still says who tried what (R-AUDIT-1). Before, a service that
checked the permission inside its transaction lost the denial with the rollback."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from gongwen.audit.models import AuditEntry
from gongwen.audit.services import audited, record, verify_chain
from gongwen.policy.permissions import NotVisible, Perm, require
from gongwen.units.models import Unit


def test_a_denial_inside_an_audited_block_survives_its_rollback(make_user, unit_a, unit_b):
    clerk = make_user(unit_b, "clerk")
    with pytest.raises(PermissionDenied), audited():
        record(clerk, "group.created", unit_a)  # the work the refusal undoes
        require(clerk, Perm.MANAGE_GROUPS)
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions == ["permission.denied"]
    assert verify_chain() is None


def test_a_scope_denial_answered_404_survives_too(make_user, unit_a, unit_b):
    operator = make_user(unit_b, "operator")
    with pytest.raises(NotVisible), audited():
        require(operator, Perm.MANAGE_UNITS, Unit.objects.get(pk=unit_a.pk))
    assert AuditEntry.objects.get().detail["why"] == "scope"


def test_other_failures_roll_everything_back(make_user, unit_b):
    clerk = make_user(unit_b, "clerk")
    with pytest.raises(ValidationError), audited():
        record(clerk, "group.created", unit_b)
        raise ValidationError("不行")
    assert not AuditEntry.objects.exists()
