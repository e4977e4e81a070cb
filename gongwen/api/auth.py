"""API authentication: a bearer token for OA systems, or the browser session (with CSRF).

The token is tried first. A token is not sent by the browser on its own (unlike a cookie),
so a request that carries a valid one needs no CSRF check; checking CSRF first, as the
session login does, refused every change an OA system made with its token. The session is
tried only when the request carries the session cookie: a request with a wrong token and
no session is then a 401, not a CSRF refusal; so is a request with a wrong token and a
session."""

from __future__ import annotations

from django.conf import settings
from ninja.security import HttpBearer, SessionAuth

from gongwen.accounts.services import user_for_token


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class BrowserSession(SessionAuth):
    """Django's session login, CSRF-checked for changes, for requests with its cookie and
    without a token. A request that presents a token is judged by the token alone: a token
    that is revoked, unknown or of a disabled user is a 401, not a CSRF refusal (403) of
    the cookie the client also sent, nor the session user's request."""

    def __call__(self, request):
        if "Authorization" in request.headers:
            return None
        return super().__call__(request)

    def _get_key(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super()._get_key(request)


AUTH = [BearerToken(), BrowserSession()]
