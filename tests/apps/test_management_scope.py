"""Management scope (QA backlog 4): platform-wide management only for the platform operator
unit's operators (市政府办公室电子政务中心, SPEC §1); an operator of another unit manages his
own unit and its users. Lists and pickers show only what he may manage, an object outside
that gives 404 (audited), a platform-wide feature 403.

unit A is the platform operator unit, unit B a county government (tests/conftest.py).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from gongwen.accounts import services as accounts
from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.policy.permissions import NotVisible, Perm, can
from gongwen.units import services as units
from gongwen.units.models import UnitState

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Another-pass-2007"


@pytest.fixture
def operator_b(make_user, unit_b):
    return make_user(unit_b, Role.OPERATOR, username="dhx_admin")


def _denials(user) -> int:
    return AuditEntry.objects.filter(action="permission.denied", actor=user).count()


def test_unit_operator_cannot_reset_the_platform_operators_password(client, operator,
                                                                    operator_b):
    """GIVEN an operator of a county (not the platform operator unit)
    WHEN he resets the platform operator's password through the page
    THEN the answer is 404, the password is unchanged and the refusal is audited."""
    client.force_login(operator_b)
    response = client.post(reverse("web:user_password", args=[operator.pk]),
                           {"password": NEW_PASSWORD})
    assert response.status_code == 404
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD)
    assert _denials(operator_b) == 1
    for page in ("web:user_edit", "web:user_unlock"):
        assert client.post(reverse(page, args=[operator.pk])).status_code == 404


def test_unit_operator_services_refuse_other_units_users(operator, operator_b, clerk_a,
                                                         clerk_b):
    with pytest.raises(NotVisible):
        accounts.reset_password(actor=operator_b, user_id=operator.pk, password=NEW_PASSWORD)
    with pytest.raises(NotVisible):
        accounts.unlock_user(actor=operator_b, user_id=clerk_a.pk)
    with pytest.raises(NotVisible):
        accounts.update_user(actor=operator_b, user_id=clerk_a.pk, full_name="改", unit=None,
                             roles=[Role.CLERK])
    with pytest.raises(NotVisible):
        accounts.create_api_token(actor=operator_b, user_id=clerk_a.pk, name="OA")
    assert _denials(operator_b) == 4
    # His own unit's users he manages.
    accounts.reset_password(actor=operator_b, user_id=clerk_b.pk, password=NEW_PASSWORD)
    clerk_b.refresh_from_db()
    assert clerk_b.check_password(NEW_PASSWORD)


def test_unit_operator_cannot_move_users_into_another_unit(operator_b, clerk_b, unit_a):
    """Moving his own clerk into the platform operator unit would make her a platform
    user: the new unit must be one he manages too."""
    with pytest.raises(NotVisible):
        accounts.update_user(actor=operator_b, user_id=clerk_b.pk, full_name="张三",
                             unit=unit_a, roles=[Role.CLERK])
    clerk_b.refresh_from_db()
    assert clerk_b.unit_id != unit_a.pk
    with pytest.raises(NotVisible):
        accounts.create_user(actor=operator_b, username="new_in_a", full_name="新人",
                             unit=unit_a, roles=[Role.CLERK], password=NEW_PASSWORD)


def test_unit_operator_lists_and_pickers_show_his_own_unit_only(client, operator, operator_b,
                                                                clerk_a, clerk_b, unit_a,
                                                                unit_b):
    client.force_login(operator_b)
    users = client.get(reverse("web:users")).content.decode()
    assert clerk_b.username in users and clerk_a.username not in users
    assert operator.full_name not in users
    form = client.get(reverse("web:user_create")).content.decode()
    assert f'<option value="{unit_b.pk}"' in form and f'<option value="{unit_a.pk}"' not in form
    unit_list = client.get(reverse("web:units")).content.decode()
    assert reverse("web:unit_detail", args=[unit_b.pk]) in unit_list
    assert reverse("web:unit_detail", args=[unit_a.pk]) not in unit_list
    assert "新建单位" not in unit_list
    # A unit page outside his scope is not even confirmed to exist.
    assert client.get(reverse("web:unit_detail", args=[unit_a.pk])).status_code == 404
    assert client.get(reverse("web:unit_edit", args=[unit_a.pk])).status_code == 404


def test_platform_operator_still_manages_every_unit(client, operator, clerk_b, unit_b):
    client.force_login(operator)
    assert clerk_b.username in client.get(reverse("web:users")).content.decode()
    response = client.post(reverse("web:user_password", args=[clerk_b.pk]),
                           {"password": NEW_PASSWORD})
    assert response.status_code == 302
    clerk_b.refresh_from_db()
    assert clerk_b.check_password(NEW_PASSWORD)
    assert "新建单位" in client.get(reverse("web:units")).content.decode()


def test_registry_changes_are_the_platform_operators(client, operator_b, unit_a, unit_b):
    """A new unit, a rename, a merge and a revocation move users and seals between units:
    only the platform operator unit does them. The unit operator edits his own unit."""
    client.force_login(operator_b)
    assert client.get(reverse("web:unit_create")).status_code == 403
    for page in ("web:unit_rename", "web:unit_merge", "web:unit_revoke"):
        assert client.get(reverse(page, args=[unit_b.pk])).status_code == 403, page
    with pytest.raises(PermissionDenied):
        units.merge_unit(actor=operator_b, unit_id=unit_b.pk, into_id=unit_a.pk)
    unit_b.refresh_from_db()
    assert unit_b.state == UnitState.ACTIVE
    detail = client.get(reverse("web:unit_detail", args=[unit_b.pk])).content.decode()
    assert "修改" in detail and "合并" not in detail and "撤销" not in detail
    units.update_unit(actor=operator_b, unit_id=unit_b.pk, phone="0518-1234567")
    unit_b.refresh_from_db()
    assert unit_b.phone == "0518-1234567"
    with pytest.raises(NotVisible):
        units.update_unit(actor=operator_b, unit_id=unit_a.pk, phone="0518-7654321")


def test_platform_wide_features_are_not_offered_to_unit_operators(client, operator_b):
    """收文分组 (platform-wide groups) and 推行阶段 management are the platform's."""
    assert not can(operator_b, Perm.MANAGE_GROUPS)
    assert not can(operator_b, Perm.MANAGE_POLICY)
    client.force_login(operator_b)
    home = client.get(reverse("web:home")).content.decode()
    assert "收文分组" not in home and "用户管理" in home
    assert client.get(reverse("web:groups")).status_code == 403


def test_unit_operator_edits_his_units_contact_fields_only(client, operator_b, unit_b):
    """Code, level, parent and networking decide who makes the unit's seal and the roll-out
    scope: they stay with the platform operator unit."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="由平台运营单位维护"):
        units.update_unit(actor=operator_b, unit_id=unit_b.pk, level="department")
    client.force_login(operator_b)
    data = {"code": "HACKED", "short_name": "东政", "level": "department", "kind": "government",
            "address": "新地址", "phone": "0518-1"}
    response = client.post(reverse("web:unit_edit", args=[unit_b.pk]), data)
    assert response.status_code == 302
    unit_b.refresh_from_db()
    assert (unit_b.code, unit_b.level, unit_b.address) != ("HACKED", "department", "")
    assert unit_b.address == "新地址" and unit_b.level == "county"
