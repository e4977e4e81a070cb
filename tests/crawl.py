"""A crawl of every URL of the platform, for two rules of the brief: no page or API endpoint
answers bad input with a server error ("never a 500 page or a traceback"), and no page,
file or API answer shows a unit a document it is not a party to (R-SEC-1).

``urls(real)`` fills every URL pattern (the Django admin aside) with the ids of real objects,
ids that do not exist and, where a parameter takes any text, values of the wrong kind;
``server_errors(urls, users)`` requests each URL as each user, GET with a garbage query,
POST with a garbage form and, under ``/api/``, POST with JSON of the wrong shape, broken
JSON and a JSON array, and returns the answers of status 500 or more (and a count of the
statuses, so that a test can check the requests reached the views).

``leaks(urls, users, secrets)`` makes the same requests, and a search for each secret text,
and returns every answer whose body (a page, a JSON answer, a streamed file) contains one of
the ``secrets``: the title, number, fingerprint or file bytes of a document the users must
not see.
"""

from __future__ import annotations

import collections
import itertools
import json
import re
from collections.abc import Callable

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

GARBAGE_QUERY = {"page": "abc", "q": "<script>'\"%", "date_from": "2026-13-45",
                 "date_to": "昨天", "unit": "x", "state": "不存在", "kind": "-1",
                 "sort": "'; drop table", "format": "exe"}
GARBAGE_FORM = {"pin": "", "doc_ids": "abc", "delivery_ids": ["x", "-1"], "reason": "",
                "seal_id": "abc", "title": "", "main_units": "x", "key": "not-a-uuid",
                "idempotency_key": "x", "comment": "x" * 5000, "name": "", "code": "!!"}
GARBAGE_JSON = json.dumps({"doc_ids": ["x", None], "delivery_ids": "x", "pin": 7, "reason": None,
                           "key": "not-a-uuid", "title": {"a": 1}, "main_units": ["x"],
                           "outcome": "不存在", "note": "x" * 10000})
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _patterns(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def urls(real: dict[str, str], only: Callable[[str], bool] | None = None,
         wrong: bool = True) -> list[str]:
    """Every pattern filled with each candidate value of its parameters: the real object's
    id where one is known, an id that does not exist and, where the pattern accepts any
    text, a value of the wrong kind (``wrong=False``: the real values only). ``only``: the
    patterns to keep (default: all)."""
    out = []
    for pattern in _patterns(get_resolver().url_patterns):
        if pattern.startswith("admin/") or (only is not None and not only(pattern)):
            continue
        params = _PARAM.findall(pattern)
        choices = []
        for converter, name in params:
            values = [real.get(name, "1")]
            if wrong and converter in ("int", ""):
                values.append("999999")
            if wrong and converter in ("str", "slug", ""):
                values.append("x-y")
            choices.append(values)
        for combo in itertools.product(*choices):
            values = iter(combo)
            out.append("/" + _PARAM.sub(lambda _m, v=values: next(v), pattern))
    return sorted(set(out))


def _requests(client: Client, url: str, bodies=(GARBAGE_JSON, "{not json", "[]")):
    """(label, response) of each request made of ``url``: GET with a garbage query, POST
    with a garbage form and, for the API, POST with each of ``bodies`` as JSON (default:
    JSON of the wrong shape, broken JSON and a JSON array)."""
    yield "GET", client.get(url, GARBAGE_QUERY, HTTP_HX_REQUEST="true")
    yield "POST form", client.post(url, GARBAGE_FORM, HTTP_HX_REQUEST="true")
    if url.startswith("/api/"):
        for body in bodies:
            yield f"POST {body[:10]!r}", client.post(url, body, content_type="application/json")


def _visits(found: list[str], users: dict):
    """(who, client, url) for each user (None: anonymous), logged in, and each URL but
    logout (it would end the session for the URLs after it)."""
    for who, user in users.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        for url in found:
            if not url.rstrip("/").endswith("logout"):
                yield who, client, url


def server_errors(found: list[str], users: dict) -> tuple[list[str], collections.Counter]:
    """Each URL requested as each user (None: anonymous): the answers of status >= 500, and
    the count of answers by class (2 for 2xx, …)."""
    failures = []
    answered: collections.Counter = collections.Counter()
    for who, client, url in _visits(found, users):
        for label, response in _requests(client, url):
            answered[response.status_code // 100] += 1
            if response.status_code >= 500:
                failures.append(f"{label} {url} as {who}: {response.status_code}")
    return failures, answered


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def leaks(found: list[str], users: dict, secrets: dict[str, bytes],
          searches: tuple[str, ...] = ()) -> tuple[list[str], collections.Counter]:
    """Each URL requested as each user as in ``server_errors``, and also with each of
    ``searches`` as its search term (``q``): the answers that contain a secret (by name),
    and the count of answers by status class. A search's answer is not checked for its own
    term (pages show the term back in the search box)."""
    failures = []
    answered: collections.Counter = collections.Counter()
    for who, client, url in _visits(found, users):
        # JSON that cannot be read answers before any object is looked at: one body.
        asked = [(label, response, None)
                 for label, response in _requests(client, url, bodies=(GARBAGE_JSON,))]
        asked += [(f"GET q={term}", client.get(url, {"q": term}, HTTP_HX_REQUEST="true"),
                   term.encode()) for term in searches]
        for label, response, echo in asked:
            answered[response.status_code // 100] += 1
            body = _body(response)
            # A search page shows its own term back: that one secret is not looked for
            # there (the document's other secrets still are).
            failures += [f"{label} {url} as {who}: {response.status_code} shows the {name}"
                         for name, secret in secrets.items()
                         if secret != echo and secret in body]
    return failures, answered


def distinctive(data: bytes, *others: bytes, size: int = 48) -> bytes:
    """A slice of ``data`` that none of ``others`` contains, to look for a file in answers
    (files made by one writer share most of their bytes)."""
    return next(data[i:i + size] for i in range(0, len(data) - size, 16)
                if not any(data[i:i + size] in other for other in others))


def assert_no_leaks(found: list[str], users: dict, secrets: dict[str, bytes],
                    searches: tuple[str, ...] = (), *, shown: int = 100,
                    refused: int = 300) -> None:
    """``leaks`` finds nothing, over more than 100 URLs, and more than ``shown`` answers were
    pages shown and more than ``refused`` refusals (the requests reached the views)."""
    failures, answered = leaks(found, users, secrets, searches)
    assert len(found) > 100
    assert not failures, "\n".join(failures)
    assert answered[2] > shown and answered[4] > refused, answered


def secrets_shown(found: list[str], user, secrets: dict[str, bytes],
                  searches: tuple[str, ...] = ()) -> set[str]:
    """The names of the ``secrets`` that ``user`` finds somewhere (the control of a leak
    test: a party does see them, so the crawl would find a leak)."""
    failures, _answered = leaks(found, {"party": user}, secrets, searches)
    return {line.rsplit(" shows the ", 1)[1] for line in failures}
