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


class StatsCountsOut(Schema):
    """The figures of a month, of the range or of one unit (gongwen.exchange.stats.Counts);
    rates in percent, latencies in hours, null where there is nothing to divide."""

    sent: int
    withdrawn: int
    partly_withdrawn: int
    received: int
    signed: int
    returned: int
    sign_rate: float | None
    due: int
    overdue: int
    overdue_rate: float | None
    latency_median_h: float | None
    latency_p90_h: float | None
    electronic_out: int
    paper_out: int
    paper_share: float | None


class StatsMonthOut(StatsCountsOut):
    month: str


class StatsUnitOut(StatsCountsOut):
    unit_id: int
    name: str


class StatsOut(Schema):
    scope: str
    first: str
    last: str
    receipt_hours: int
    total: StatsCountsOut
    months: list[StatsMonthOut]
    units: list[StatsUnitOut]
    warnings: list[str]
