"""Login with lockout after repeated failures; every outcome audited."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from gongwen.accounts.models import Role, User
from gongwen.audit.models import AuditEntry
from tests.conftest import PASSWORD


def _login(client, username, password):
    return client.post(reverse("web:login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_good_login_lands_on_home_and_is_audited(client, clerk_a):
    response = _login(client, "clerk_a", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("web:home")
    assert AuditEntry.objects.filter(action="login.success", actor=clerk_a).exists()
    page = client.get(reverse("web:home")).content.decode()
    assert "工作台" in page and "收文" in page


@pytest.mark.django_db
def test_fifth_failure_locks_the_account(client, clerk_a):
    for attempt in range(1, 5):
        response = _login(client, "clerk_a", "wrong")
        assert response.status_code == 401
        assert f"再失败 {5 - attempt} 次" in response.content.decode()
    response = _login(client, "clerk_a", "wrong")
    assert "已锁定" in response.content.decode()
    clerk_a.refresh_from_db()
    assert clerk_a.is_locked()
    # Even the right password is refused while locked.
    response = _login(client, "clerk_a", PASSWORD)
    assert response.status_code == 401 and "锁定" in response.content.decode()
    actions = list(AuditEntry.objects.filter(actor=clerk_a).order_by("seq")
                   .values_list("action", flat=True))
    assert actions == ["login.failed"] * 4 + ["login.lockout", "login.locked"]


@pytest.mark.django_db
def test_lock_expires(client, clerk_a):
    for _ in range(5):
        _login(client, "clerk_a", "wrong")
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=16), tick=False):
        assert _login(client, "clerk_a", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_operator_unlocks(client, clerk_a, operator):
    for _ in range(5):
        _login(client, "clerk_a", "wrong")
    client.force_login(operator)
    response = client.post(reverse("web:user_unlock", args=[clerk_a.pk]))
    assert response.status_code == 302
    clerk_a.refresh_from_db()
    assert not clerk_a.is_locked()
    assert AuditEntry.objects.filter(action="user.unlocked", actor=operator).exists()
    client.logout()
    assert _login(client, "clerk_a", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_unknown_user_failure_is_audited_with_the_name_tried(client, unit_a):
    response = _login(client, "nobody", "x")
    assert response.status_code == 401 and "用户名或密码错误" in response.content.decode()
    entry = AuditEntry.objects.get(action="login.failed")
    assert entry.detail["username"] == "nobody" and entry.actor is None


@pytest.mark.django_db
def test_logout_requires_post_and_is_audited(client, clerk_a):
    client.force_login(clerk_a)
    assert client.get(reverse("web:logout")).status_code == 405
    assert client.post(reverse("web:logout")).status_code == 302
    assert AuditEntry.objects.filter(action="logout", actor=clerk_a).exists()


@pytest.mark.django_db
def test_open_redirect_is_refused(client, clerk_a):
    response = client.post(reverse("web:login") + "?next=https://evil.example/",
                           {"username": "clerk_a", "password": PASSWORD})
    assert response["Location"] == reverse("web:home")


@pytest.mark.django_db
def test_user_management_is_audited(client, operator, unit_b):
    client.force_login(operator)
    response = client.post(reverse("web:user_create"), {
        "username": "new.clerk", "full_name": "新收发员", "unit": unit_b.pk,
        "roles": [Role.CLERK, Role.SEAL_KEEPER], "password": "Abc-12345678"})
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(username="new.clerk")
    assert user.roles == {Role.CLERK, Role.SEAL_KEEPER}
    response = client.post(reverse("web:user_edit", args=[user.pk]), {
        "full_name": "新收发员", "unit": unit_b.pk, "roles": [Role.CLERK], "is_active": "on"})
    assert response.status_code == 302
    user = User.objects.get(pk=user.pk)
    assert user.roles == {Role.CLERK}
    roles_change = AuditEntry.objects.get(action="user.roles_changed")
    assert roles_change.detail == {"added": [], "removed": [Role.SEAL_KEEPER]}
    assert AuditEntry.objects.filter(action="user.created").exists()


@pytest.mark.django_db
def test_weak_password_gets_a_chinese_message(client, operator, unit_b):
    client.force_login(operator)
    response = client.post(reverse("web:user_create"), {
        "username": "weak", "full_name": "弱密码", "unit": unit_b.pk, "roles": [Role.CLERK],
        "password": "12345678"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "密码" in page and not User.objects.filter(username="weak").exists()
