"""Small helpers shared by the API routers: bounded ids, pagination, idempotency keys and
the 403-versus-404 rule for objects a user may see but not act on."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from ninja import Header, Path, Schema
from pydantic import ConfigDict, Field

from gongwen.policy.permissions import NotVisible, Perm, require

# Database ids: positive and within a 32-bit column, so an absurd id is a 400, never a
# database overflow (500).
MAX_ID = 2_147_483_647
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
# Idempotency-Key: a UUID chosen by the client, one per intended action (RFC draft
# "The Idempotency-Key HTTP Header Field"). Required on every verb that creates something.
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=64,
                                        description="客户端生成的 UUID，同一操作重试时使用同一个值")]

MAX_PAGE_SIZE = 100


class InputSchema(Schema):
    """A request body: a field it does not know is refused (400 naming the field), not
    dropped. A misspelt ``main_unit`` would otherwise make a draft without recipients, and a
    密级 sent as an unknown field would be dropped instead of refused."""

    model_config = ConfigDict(extra="forbid")


class UnitRef(Schema):
    id: int
    name: str


class PageQuery(Schema):
    """The paging parameters of a list endpoint."""

    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class PageMeta(Schema):
    count: int
    page: int
    page_size: int


def unit_ref(unit) -> dict | None:
    return {"id": unit.pk, "name": unit.name} if unit is not None else None


def page_of(qs, page: int, page_size: int, render: Callable[[Any], dict], **extra) -> dict:
    """One page of ``qs`` as {count, page, page_size, items}; a page past the end is empty."""
    total = qs.count()
    start = (page - 1) * page_size
    rows = list(qs[start:start + page_size]) if start < total else []
    return {"count": total, "page": page, "page_size": page_size,
            "items": [render(r) for r in rows], **extra}


def parse_key(value: str) -> uuid.UUID | None:
    """The key as a UUID, or None (the service then answers with its own message)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def require_visible(user, perm: Perm, obj, *, request=None, message: str) -> None:
    """For an object the user already sees: a missing right on it is 403, not 404."""
    try:
        require(user, perm, obj, request=request)
    except NotVisible:
        raise PermissionDenied(message) from None


def download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=content_type)
    resp["Content-Disposition"] = content_disposition_header(True, filename)
    resp["X-Content-Type-Options"] = "nosniff"
    return resp
