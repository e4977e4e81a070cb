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
