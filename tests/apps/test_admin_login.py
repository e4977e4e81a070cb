"""The Django admin has no login form of its own (review: it went around the platform's
lockout and audit trail). Its login address leads to the platform's login page, which
returns to the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from gongwen.audit.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(operator):
    operator.is_staff = operator.is_superuser = True
    operator.save()
    return operator


def test_admin_login_leads_to_the_platform_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/"


def test_admin_login_form_accepts_no_password(client, staff):
    """A password posted to the admin's login address logs nobody in and is not checked
    there (the lockout and the audit trail live on the platform's login page)."""
    for _ in range(10):
        response = client.post("/admin/login/", {"username": staff.username,
                                                  "password": "wrong"})
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post("/admin/login/?next=/admin/", {"username": staff.username,
                                                          "password": PASSWORD})
    assert SESSION_KEY not in client.session
    staff.refresh_from_db()
    assert staff.failed_logins == 0


def test_failed_logins_on_the_way_to_the_admin_count_and_are_audited(staff, settings):
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": staff.username, "password": "wrong",
                                "next": "/admin/"})
    staff.refresh_from_db()
    assert staff.failed_logins == 3
    assert AuditEntry.objects.filter(action="login.failed").count() == 3


def test_a_staff_login_returns_to_the_admin(client, staff):
    response = client.post("/login/", {"username": staff.username, "password": PASSWORD,
                                       "next": "/admin/documents/"})
    assert response["Location"] == "/admin/documents/"
    assert "系统管理" in client.get("/admin/").content.decode()
    # Logged in already: the admin's login address goes on to the admin.
    assert client.get("/admin/login/?next=/admin/units/")["Location"] == "/admin/units/"


def test_a_user_without_admin_rights_gets_403_not_a_loop(client, operator):
    client.force_login(operator)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_admin_login_never_leads_elsewhere(client, staff):
    client.force_login(staff)
    assert client.get("/admin/login/?next=https://evil.example/")["Location"] == "/admin/"


def test_admin_logout_is_the_platforms_and_audited(client, staff):
    client.force_login(staff)
    response = client.post("/admin/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert SESSION_KEY not in client.session
    assert AuditEntry.objects.filter(action="logout", actor=staff).exists()


def test_admin_changes_no_password(client, staff):
    client.force_login(staff)
    response = client.post("/admin/password_change/", {
        "old_password": PASSWORD, "new_password1": "Xx#12345678", "new_password2": "Xx#12345678"})
    assert response.status_code == 403 and "用户管理" in response.content.decode()
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


@pytest.mark.parametrize("path", ["/admin/accounts/user/{user}/change/",
                                  "/admin/accounts/user/{user}/password/",
                                  "/admin/units/unit/{unit}/change/",
                                  "/admin/units/recipientgroup/add/",
                                  "/admin/accounts/user/add/"])
def test_the_admin_shows_and_changes_nothing(client, staff, path):
    """Review: users' passwords and lockouts, units' names and groups could be changed in
    the admin, outside the audit trail and the name rules."""
    client.force_login(staff)
    url = path.format(user=staff.pk, unit=staff.unit_id)
    response = client.post(url, {"username": "renamed", "name": "改名", "password1": "x",
                                 "password2": "x", "failed_logins": 0})
    assert response.status_code == 403
    staff.refresh_from_db()
    assert staff.username != "renamed" and staff.check_password(PASSWORD)
    assert staff.unit.name != "改名"
