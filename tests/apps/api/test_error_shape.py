"""Under /api/ every error is JSON {"error", "message"} in Chinese (docs/api.md), also for an
address no endpoint answers and a method an endpoint does not take."""

from __future__ import annotations

import json

import pytest


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/nothing", "/api/documents/1/nothing", "/api/"])
def test_unknown_address_is_a_json_404(api, clerk_a, path):
    response = api.as_(clerk_a).get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "not_found" and _chinese(body["message"])


@pytest.mark.django_db
def test_unknown_address_is_json_without_credentials_too(client):
    response = client.get("/api/nothing")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


@pytest.mark.django_db
def test_method_an_endpoint_does_not_take_is_a_json_405(api, clerk_a):
    response = api.as_(clerk_a).delete("/api/me")
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert response.json() == {"error": "method_not_allowed",
                               "message": "该接口不支持 DELETE 请求（可用：GET）。"}


def test_server_error_under_the_api_is_json(rf):
    from gongwen.web.views.common import handler500

    response = handler500(rf.get("/api/me"))
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert json.loads(response.content)["error"] == "server_error"
