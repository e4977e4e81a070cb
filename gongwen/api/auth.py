"""API authentication: the browser session (with CSRF) or a bearer token for OA systems."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from gongwen.accounts.services import user_for_token


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


AUTH = [SessionAuth(), BearerToken()]
