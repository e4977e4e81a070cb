"""三员分立 (QA backlog 5): the system administrator (平台管理员) and the security auditor
(审计员) are never one account, and no operator changes his own roles (he could otherwise
make himself the auditor of his own actions)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from gongwen.accounts import services
from gongwen.accounts.models import Role, User

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _roles(user) -> set[str]:
    return set(User.objects.get(pk=user.pk).role_grants.values_list("role", flat=True))


def _update(actor, user, roles):
    return services.update_user(actor=actor, user_id=user.pk, full_name=user.full_name,
                                unit=user.unit, roles=roles)


def test_operator_cannot_grant_himself_the_auditor_role(operator):
    """GIVEN an operator WHEN he gives himself 审计员 THEN it is refused in Chinese and his
    roles stay as they were."""
    with pytest.raises(ValidationError, match="不能修改自己的角色"):
        _update(operator, operator, [Role.OPERATOR, Role.AUDITOR])
    assert _roles(operator) == {Role.OPERATOR}


def test_operator_cannot_change_his_own_roles_at_all(operator):
    with pytest.raises(ValidationError, match="不能修改自己的角色"):
        _update(operator, operator, [Role.OPERATOR, Role.CLERK])
    assert _roles(operator) == {Role.OPERATOR}
    # Editing his own name with the same roles is fine.
    services.update_user(actor=operator, user_id=operator.pk, full_name="周建国",
                         unit=operator.unit, roles=[Role.OPERATOR])


def test_operator_and_auditor_are_never_one_account(operator, make_user, unit_a):
    other = make_user(unit_a, Role.OPERATOR)
    with pytest.raises(ValidationError, match="三员分立"):
        _update(operator, other, [Role.OPERATOR, Role.AUDITOR])
    assert _roles(other) == {Role.OPERATOR}
    with pytest.raises(ValidationError, match="三员分立"):
        services.create_user(actor=operator, username="both", full_name="两者", unit=unit_a,
                             roles=[Role.OPERATOR, Role.AUDITOR], password=PASSWORD)
    assert not User.objects.filter(username="both").exists()
    # The auditor role alone, or with a unit role, is granted as before.
    clerk = make_user(unit_a, Role.CLERK)
    _update(operator, clerk, [Role.CLERK, Role.AUDITOR])
    assert _roles(clerk) == {Role.CLERK, Role.AUDITOR}


def test_the_page_does_not_offer_ones_own_roles(client, operator):
    client.force_login(operator)
    page = client.get(reverse("web:user_edit", args=[operator.pk])).content.decode()
    assert "不能修改自己的角色" in page
    client.post(reverse("web:user_edit", args=[operator.pk]), {
        "full_name": "周建国", "unit": operator.unit_id,
        "roles": [Role.OPERATOR, Role.AUDITOR], "is_active": "on"})
    assert _roles(operator) == {Role.OPERATOR}


def test_the_page_says_why_roles_are_refused(client, operator, make_user, unit_a):
    other = make_user(unit_a, Role.OPERATOR)
    client.force_login(operator)
    response = client.post(reverse("web:user_edit", args=[other.pk]), {
        "full_name": "某人", "unit": unit_a.pk, "roles": [Role.OPERATOR, Role.AUDITOR],
        "is_active": "on"})
    assert response.status_code == 200 and "三员分立" in response.content.decode()
    assert _roles(other) == {Role.OPERATOR}
