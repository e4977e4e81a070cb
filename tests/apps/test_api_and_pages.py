"""REST API basics, Chinese error pages, admin in Chinese, local assets only."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from gongwen.accounts.services import create_api_token


@pytest.mark.django_db
def test_openapi_schema_lists_endpoints(client):
    schema = client.get("/api/openapi.json").json()
    assert {"/api/me", "/api/units", "/api/units/{unit_id}", "/api/audit"} <= set(schema["paths"])


@pytest.mark.django_db
def test_bearer_token_authenticates(client, clerk_b, unit_b):
    token = create_api_token(actor=clerk_b, user_id=clerk_b.pk, name="OA")
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["unit"]["name"] == unit_b.name
    bad = client.get("/api/me", headers={"Authorization": "Bearer gw_wrong"})
    assert bad.status_code == 401


@pytest.mark.django_db
def test_chinese_404_page(client, clerk_a):
    client.force_login(clerk_a)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


@pytest.mark.django_db
def test_admin_speaks_chinese(client, operator):
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    page = client.get("/admin/").content.decode()
    assert "系统管理" in page and "单位" in page


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_pages_reference_only_local_assets(client, operator):
    client.force_login(operator)
    for name in ("web:login", "web:home", "web:units", "web:directory"):
        page = client.get(reverse(name)).content.decode()
        for url in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert not url.startswith(("http:", "https:", "//")), (name, url)


@pytest.mark.django_db
def test_directory_search_htmx_partial(client, clerk_b, unit_b, make_unit):
    make_unit("连云港市财政局")
    client.force_login(clerk_b)
    response = client.get(reverse("web:directory"), {"q": "财政"},
                          headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "连云港市财政局" in body and "<html" not in body and unit_b.name not in body


def test_chinese_500_page(rf):
    from gongwen.web.views.common import handler500

    response = handler500(rf.get("/"))
    assert response.status_code == 500
    assert "系统错误" in response.content.decode() and "数据未丢失" in response.content.decode()


@pytest.mark.django_db
def test_audit_page_filters_by_action_and_verifies(client, make_user, unit_a, clerk_b):
    from gongwen.audit.services import record

    auditor = make_user(unit_a, "auditor")
    record(clerk_b, "login.failed", clerk_b)
    record(clerk_b, "logout", clerk_b)
    client.force_login(auditor)
    page = client.get(reverse("web:audit"), {"action": "login.failed"}).content.decode()
    assert "登录失败" in page and "退出登录" not in page
    response = client.post(reverse("web:audit_verify"), follow=True)
    assert "审计链校验通过" in response.content.decode()


@pytest.mark.django_db
def test_unit_auditor_sees_only_own_unit(client, make_user, unit_a, unit_b, clerk_a):
    from gongwen.audit.services import record

    auditor_b = make_user(unit_b, "auditor")
    record(clerk_a, "logout", clerk_a)
    record(auditor_b, "login.success", auditor_b)
    client.force_login(auditor_b)
    entries = client.get("/api/audit").json()
    assert [e["action"] for e in entries] == ["login.success"]
    assert entries[0]["unit_id"] == unit_b.pk
