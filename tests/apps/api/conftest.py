"""Fixtures of the API tests: the exchange cast (tests/apps/exchange) and a JSON client that
authenticates with a bearer token (accounts.ApiToken), as an OA system would."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.apps.exchange.conftest import *  # noqa: F403
from tests.apps.exchange.conftest import PIN  # noqa: F401


class Api:
    """``api.as_(user).post(path, body, key=...)`` → the Django test response."""

    def __init__(self, client, user=None):
        self.client, self.user, self._headers = client, user, {}
        if user is not None:
            from gongwen.accounts.services import create_api_token

            token = create_api_token(actor=user, user_id=user.pk, name="OA")
            self._headers = {"Authorization": f"Bearer {token}"}

    def as_(self, user) -> Api:
        return Api(self.client, user)

    def get(self, path, params=None, **headers):
        return self.client.get(path, params or {}, headers={**self._headers, **headers})

    def post(self, path, body=None, *, key=None, raw=None, **headers):
        extra = dict(self._headers, **headers)
        if key is not None:
            extra["Idempotency-Key"] = str(key)
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(path, data=data, content_type="application/json",
                                headers=extra)

    def put(self, path, body=None):
        return self.client.put(path, data=json.dumps(body if body is not None else {}),
                               content_type="application/json", headers=self._headers)

    def delete(self, path):
        return self.client.delete(path, headers=self._headers)


@pytest.fixture
def api():
    """A client that enforces CSRF as a real server does (Django's test client skips the
    check by default): an OA system has a token and no CSRF cookie."""
    from django.test import Client

    return Api(Client(enforce_csrf_checks=True))


@pytest.fixture
def new_key():
    return lambda: str(uuid.uuid4())
