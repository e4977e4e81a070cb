from __future__ import annotations

from datetime import date, datetime

from ninja import Schema


class UnitOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    level: str
    kind: str
    parent_id: int | None
    networked: bool
    networked_since: date | None
    state: str
    successor_id: int | None


class MemberOut(Schema):
    id: int
    username: str
    full_name: str
    roles: list[str]


class UnitDetailOut(UnitOut):
    members: list[MemberOut]


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    unit: UnitOut | None
    roles: list[str]


class GroupOut(Schema):
    id: int
    name: str
    description: str
    member_ids: list[int]


class AuditEntryOut(Schema):
    seq: int
    at: datetime
    actor_name: str
    unit_id: int | None
    action: str
    target_type: str
    target_id: str
    target_repr: str
    detail: dict
    hash: str


class ErrorOut(Schema):
    error: str
    message: str
