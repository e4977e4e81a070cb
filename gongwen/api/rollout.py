"""推行阶段 and paper beside the platform over REST (R-POLICY-1/2, R-FLOW-4).

Thin over ``gongwen.policy.rollout`` and ``gongwen.exchange.paper``: parse, call one verb,
shape the answer; the verbs check every permission and write the audit rows."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema, Status
from pydantic import Field

from gongwen.exchange import paper
from gongwen.exchange.models import Delivery, PaperArrival
from gongwen.policy import rollout
from gongwen.policy.permissions import Perm, require

from .common import (
    IdempotencyKey,
    InputSchema,
    ObjectId,
    PageMeta,
    PageQuery,
    UnitRef,
    page_of,
    parse_key,
    unit_ref,
)

router = Router(tags=["推行阶段与纸质件"])


class PhaseIn(InputSchema):
    name: str = Field(..., max_length=40, description="阶段名称，如“第一阶段”")
    starts_on: dt.date
    all_documents: bool = Field(False, description="所有发文单位、所有文件（第二阶段）")
    networked_only: bool = True
    senders: list[int] = Field(default_factory=list,
                               description="以其名义的发文在传输范围内的单位 id")
    request_recipients: list[int] = Field(default_factory=list,
                                          description="请示的受理单位 id（如市政府、市政府办公室）")
    allow_forwarding: bool = True
    paper_parallel: bool = Field(False, description="纸电并行")
    note: str = Field("", max_length=300)


class PhaseOut(Schema):
    id: int
    name: str
    starts_on: dt.date
    ends_on: dt.date | None
    current: bool
    all_documents: bool
    networked_only: bool
    senders: list[UnitRef]
    request_recipients: list[UnitRef]
    allow_forwarding: bool
    paper_parallel: bool
    scope: str = Field(..., description="传输范围（中文）")
    note: str


class PolicyOut(Schema):
    current: PhaseOut | None
    parallel_run: bool
    phases: list[PhaseOut]


class PaperCopiesIn(InputSchema):
    delivery_ids: list[int] | None = Field(None, description="收文单位的送达 id；省略为全部")
    copies: int = Field(1, ge=0, le=paper.MAX_COPIES, description="每单位份数；0 为取消登记")
    sent_on: dt.date | None = Field(None, description="发出日期；省略为今天")
    note: str = Field("", max_length=300, description="说明；纸电并行期结束后必填")


class PaperReceivedIn(InputSchema):
    received_on: dt.date | None = Field(None, description="收到日期；省略为今天")


class PaperStateOut(Schema):
    delivery_id: int
    recipient_unit: UnitRef
    parallel_run: bool
    paper: bool = Field(..., description="未联网单位，只以纸质送达")
    paper_copies: int
    paper_sent_on: dt.date | None
    paper_note: str
    paper_received_on: dt.date | None


class PaperCopiesOut(Schema):
    deliveries: list[PaperStateOut]


class ArrivalIn(InputSchema):
    sender_unit_id: int
    title: str = Field(..., max_length=200)
    doc_number: str = Field("", max_length=60)
    is_request: bool = False
    received_on: dt.date | None = None
    note: str = Field("", max_length=300)


class ArrivalOut(Schema):
    id: int
    sender_unit: UnitRef
    title: str
    doc_number: str
    is_request: bool
    received_on: dt.date
    outcome: str
    outcome_label: str
    delivery_id: int | None
    note: str
    by: str
    at: dt.datetime


class ArrivalPage(PageMeta):
    items: list[ArrivalOut]


def _phase_out(row: rollout.PhaseRow) -> dict:
    p = row.phase
    return {"id": p.pk, "name": p.name, "starts_on": p.starts_on, "ends_on": row.ends_on,
            "current": row.current, "all_documents": p.all_documents,
            "networked_only": p.networked_only,
            "senders": [unit_ref(u) for u in p.senders.all()],
            "request_recipients": [unit_ref(u) for u in p.request_recipients.all()],
            "allow_forwarding": p.allow_forwarding, "paper_parallel": p.paper_parallel,
            "scope": rollout.scope_description(p), "note": p.note}


def _policy() -> dict:
    rows = rollout.phase_rows()
    current = next((r for r in rows if r.current), None)
    return {"current": _phase_out(current) if current else None,
            "parallel_run": bool(current and current.phase.paper_parallel),
            "phases": [_phase_out(r) for r in rows]}


@router.get("/policy", response=PolicyOut, summary="推行阶段：当前阶段、是否纸电并行、全部阶段")
def policy(request):
    require(request.user, Perm.VIEW_POLICY, request=request)
    return _policy()


def _save(request, phase_id, body: PhaseIn) -> dict:
    data = body.dict(exclude={"senders", "request_recipients"})
    rollout.save_phase(actor=request.user, phase_id=phase_id, data=data,
                       senders=body.senders, request_recipients=body.request_recipients,
                       request=request)
    return _policy()


@router.post("/policy/phases", response=PolicyOut, summary="新增推行阶段（平台管理员）")
def add_phase(request, body: PhaseIn):
    return _save(request, None, body)


@router.put("/policy/phases/{phase_id}", response=PolicyOut, summary="修改推行阶段（平台管理员）")
def change_phase(request, phase_id: ObjectId, body: PhaseIn):
    return _save(request, phase_id, body)


@router.delete("/policy/phases/{phase_id}", response=PolicyOut, summary="删除推行阶段（平台管理员）")
def delete_phase(request, phase_id: ObjectId):
    rollout.delete_phase(actor=request.user, phase_id=phase_id, request=request)
    return _policy()


def _paper_state(d: Delivery) -> dict:
    return {"delivery_id": d.pk, "recipient_unit": unit_ref(d.recipient_unit),
            "parallel_run": d.dispatch.parallel_run, "paper": d.paper,
            "paper_copies": d.paper_copies, "paper_sent_on": d.paper_sent_on,
            "paper_note": d.paper_note, "paper_received_on": d.paper_received_on}


@router.post("/dispatches/{dispatch_id}/paper-copies", response=PaperCopiesOut,
             summary="登记随电子件发出的纸质件（发文单位）")
def paper_copies(request, dispatch_id: ObjectId, body: PaperCopiesIn):
    rows = paper.record_paper_copies(actor=request.user, dispatch_id=dispatch_id,
                                     delivery_ids=body.delivery_ids, copies=body.copies,
                                     sent_on=body.sent_on, note=body.note, request=request)
    fresh = (Delivery.objects.filter(pk__in=[d.pk for d in rows])
             .select_related("recipient_unit", "dispatch").order_by("role", "id"))
    return {"deliveries": [_paper_state(d) for d in fresh]}


@router.post("/deliveries/{delivery_id}/paper-received", response=PaperStateOut,
             summary="登记纸质件已收到（收文单位）")
def paper_received(request, delivery_id: ObjectId, body: PaperReceivedIn):
    d = paper.record_paper_received(actor=request.user, delivery_id=delivery_id,
                                    received_on=body.received_on, request=request)
    return _paper_state(d)


def _arrival(a: PaperArrival) -> dict:
    return {"id": a.pk, "sender_unit": unit_ref(a.sender_unit), "title": a.title,
            "doc_number": a.doc_number, "is_request": a.is_request,
            "received_on": a.received_on, "outcome": a.outcome,
            "outcome_label": a.get_outcome_display(), "delivery_id": a.delivery_id,
            "note": a.note, "by": a.by.display_name, "at": a.at}


@router.get("/paper-arrivals", response=ArrivalPage, summary="本单位纸质来文登记")
def list_arrivals(request, query: Query[PageQuery]):
    require(request.user, Perm.RECEIVE, request=request)
    qs = (PaperArrival.objects.filter(unit_id=request.user.unit_id)
          .select_related("sender_unit", "by"))
    return page_of(qs, query.page, query.page_size, _arrival)


@router.post("/paper-arrivals", response={201: ArrivalOut},
             summary="纸质来文登记：与电子件对应；只报送纸质件的请示不予受理（需 Idempotency-Key）")
def register_arrival(request, body: ArrivalIn, idempotency_key: IdempotencyKey):
    arrival = paper.register_arrival(
        actor=request.user, sender_unit_id=body.sender_unit_id, title=body.title,
        doc_number=body.doc_number, is_request=body.is_request, received_on=body.received_on,
        note=body.note, key=parse_key(idempotency_key), request=request)
    return Status(201, _arrival(arrival))
