"""REST API (R-UI-2) with its OpenAPI schema at /api/openapi.json and docs at /api/docs.

Every endpoint goes through the same permission layer as the web pages; errors have one
shape, ``{"error": code, "message": "<Chinese>"}`` (errors.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Query, Router

from gongwen.audit.selectors import filter_entries
from gongwen.exchange import stats
from gongwen.policy.permissions import Perm, audit_entries_for, require
from gongwen.units.models import Unit
from gongwen.units.selectors import directory, groups_for

from . import documents, errors, exchange, rollout
from .auth import AUTH
from .common import MAX_ID, ObjectId
from .schemas import (
    AuditEntryOut,
    GroupOut,
    MeOut,
    StatsCountsOut,
    StatsOut,
    UnitDetailOut,
    UnitOut,
)

api = NinjaAPI(title="电子公文无纸化传输平台 API", version="1", auth=AUTH,
               urls_namespace="api")


errors.install(api)


def _unit_out(unit: Unit) -> dict:
    return {f: getattr(unit, f) for f in UnitOut.model_fields}


me_router = Router(tags=["账户"])


@me_router.get("/me", response=MeOut, summary="当前用户")
def me(request):
    user = request.user
    require(user, Perm.USE_API, request=request)
    return {"id": user.pk, "username": user.username, "full_name": user.full_name,
            "unit": _unit_out(user.unit) if user.unit else None, "roles": sorted(user.roles)}


units_router = Router(tags=["单位"])


@units_router.get("/units", response=list[UnitOut], summary="单位通讯录")
def list_units(request, q: str = ""):
    require(request.user, Perm.VIEW_DIRECTORY, request=request)
    return [_unit_out(u) for u in directory(q)]


@units_router.get("/units/{unit_id}", response=UnitDetailOut, summary="单位详情（含成员）")
def unit_detail(request, unit_id: ObjectId):
    unit = get_object_or_404(Unit, pk=unit_id)
    require(request.user, Perm.VIEW_UNIT, unit, request=request)
    members = [{"id": u.pk, "username": u.username, "full_name": u.full_name,
                "roles": sorted(u.roles)} for u in unit.users.order_by("username")]
    return {**_unit_out(unit), "members": members}


@units_router.get("/groups", response=list[GroupOut], summary="收文分组")
def list_groups(request):
    require(request.user, Perm.VIEW_DIRECTORY, request=request)
    return [{"id": g.pk, "name": g.name, "description": g.description,
             "member_ids": sorted(m.pk for m in g.members.all())}
            for g in groups_for(request.user.unit)]


audit_router = Router(tags=["审计"])


AUDIT_MAX_LIMIT = 1000
_SEQ = Annotated[int | None, Query(None, ge=1, le=2**63 - 1, description=(
    "游标：只返回序号小于此值的记录；取下一页时传入上一页最后一条的 seq"))]

_DAY = Annotated[date | None, Query(None, description="起始或截止日期（含），YYYY-MM-DD")]


@audit_router.get("/audit", response=list[AuditEntryOut], summary="审计记录（按序号倒序，分页）")
def list_audit(request,
               limit: int = Query(200, ge=1, le=AUDIT_MAX_LIMIT,
                                  description=f"每页条数，最多 {AUDIT_MAX_LIMIT}"),
               before: _SEQ = None,
               action: str = Query("", max_length=64, description="事项代码（精确匹配），如 "
                                   "login.failed"),
               actor: str = Query("", max_length=100, description="操作人（部分匹配）"),
               unit: int | None = Query(None, ge=1, le=MAX_ID, description="单位 id"),
               date_from: _DAY = None, date_to: _DAY = None):
    """Newest first. A page holds at most ``limit`` entries; the next page is asked for with
    ``before`` = the ``seq`` of the page's last entry (a cursor: entries appended meanwhile
    neither shift nor repeat the pages); a page shorter than ``limit`` is the last.
    Platform auditors read every unit's entries, other auditors their unit's."""
    require(request.user, Perm.VIEW_AUDIT, request=request)
    entries = filter_entries(audit_entries_for(request.user), actor=actor.strip(),
                             unit_id=unit, date_from=date_from, date_to=date_to)
    if action:
        entries = entries.filter(action=action)
    if before is not None:
        entries = entries.filter(seq__lt=before)
    return list(entries.order_by("-seq")[:limit])


stats_router = Router(tags=["统计"])


def _counts(c: stats.Counts) -> dict:
    return {f: getattr(c, f) for f in StatsCountsOut.model_fields}


@stats_router.get("/stats", response=StatsOut, summary="收发文统计（按月、按单位）")
def get_stats(request, first: str = Query("", alias="from"), to: str = "", unit: str = ""):
    """The 统计 page's figures: ``from``/``to`` months (2026-01), ``unit`` (city office
    only); input that cannot be used is reported in ``warnings`` and the defaults apply."""
    require(request.user, Perm.VIEW_STATS, request=request)
    warnings: list[str] = []
    start, end = stats.read_range(first, to, warnings)
    scope = stats.read_scope(request.user, unit, warnings)
    figs = stats.figures(scope.units, start, end, per_unit=scope.per_unit)
    return {"scope": scope.label,
            "first": f"{figs.first:%Y-%m}", "last": f"{figs.last:%Y-%m}",
            "receipt_hours": stats.receipt_hours(), "total": _counts(figs.total),
            "months": [{"month": f"{m:%Y-%m}", **_counts(c)} for m, c in figs.months],
            "units": [{"unit_id": u.unit_id, "name": u.name, **_counts(u.counts)}
                      for u in figs.units],
            "warnings": warnings}


api.add_router("/", me_router)
api.add_router("/", stats_router)
api.add_router("/", units_router)
api.add_router("/", audit_router)
api.add_router("/", documents.router)
api.add_router("/", exchange.outgoing)
api.add_router("/", exchange.incoming)
api.add_router("/", exchange.notifications)
api.add_router("/", rollout.router)
