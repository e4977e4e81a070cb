"""公文交换 over REST (R-FLOW-1..3, R-FLOW-7; issue 9): 发文 (dispatch, withdraw, tracking,
催办), 收文 (inbox, open, 签收, 退回, files and receipts) and notifications.

Thin over ``gongwen.exchange.services`` and ``selectors``: parse, ask the permission layer,
call one verb, shape the answer. Every rule, transaction and audit row is the services'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from gongwen.documents import blobs
from gongwen.exchange import hooks, printing, selectors, services
from gongwen.exchange.models import (
    PENDING_STATES,
    RETURNED_STATES,
    Delivery,
    DeliveryState,
    Dispatch,
    FollowUp,
    Notification,
    Receipt,
)
from gongwen.policy.errors import was_replayed
from gongwen.policy.permissions import Perm, can, require

from .common import (
    MAX_PAGE_SIZE,
    BodyId,
    IdempotencyKey,
    InputSchema,
    ObjectId,
    PageMeta,
    PageQuery,
    UnitRef,
    download,
    page_of,
    require_visible,
    unit_ref,
)

# -- schemas -----------------------------------------------------------------------------------


class DocumentRef(Schema):
    id: int
    title: str
    doc_number: str
    doc_type: str


class FollowUpOut(Schema):
    id: int
    how: str
    how_label: str
    contact: str
    at: dt.datetime
    note: str
    by: str


class _DeliveryStateOut(Schema):
    """What sender and recipient both see of one delivery: its state and times."""

    id: int
    dispatch_id: int
    document: DocumentRef
    recipient_unit: UnitRef
    role: str
    paper: bool
    state: str
    state_label: str
    dispatched_at: dt.datetime
    opened_at: dt.datetime | None
    signed_at: dt.datetime | None
    returned_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    return_reason: str
    overdue: bool
    registration_number: str
    paper_copies: int = Field(0, description="随电子件发出的纸质件份数（纸电并行，R-POLICY-2）")
    paper_received_on: dt.date | None = Field(None, description="收文单位登记收到纸质件的日期")


class TrackOut(_DeliveryStateOut):
    """One recipient of a dispatch as its sender sees it (R-FLOW-3)."""

    via_group: str | None
    overdue_at: dt.datetime
    follow_ups: list[FollowUpOut]


class Counts(Schema):
    total: int
    signed: int
    returned: int
    pending: int
    overdue: int


class DispatchOut(Schema):
    id: int
    document: DocumentRef
    sender_unit: UnitRef
    at: dt.datetime
    by: str
    fingerprint: str
    file_format: str
    size: int
    withdrawn_at: dt.datetime | None
    withdraw_reason: str
    print_limit: int | None = Field(None, description="每个收文单位的打印份数上限；null 为不限")
    parallel_run: bool = Field(False, description="于纸电并行期分发：纸质件同时发出")
    counts: Counts


class DispatchDetailOut(DispatchOut):
    deliveries: list[TrackOut]


class DispatchPage(PageMeta):
    items: list[DispatchOut]


class TrackPage(PageMeta):
    items: list[TrackOut]


class InboxItemOut(_DeliveryStateOut):
    sender_unit: UnitRef


class InboxPage(PageMeta):
    items: list[InboxItemOut]


class InboxCounts(Schema):
    pending: int
    signed: int
    returned: int
    to_answer: int = Field(description="已签收、尚未发出批复或复函的请示和函（待答复）")


class ReceiptOut(Schema):
    delivery_id: int
    registration_number: str
    signed_at: dt.datetime
    signed_by: str
    certificate_serial: str
    digest: str
    document_fingerprint: str
    download: str


class DeliveryDetailOut(InboxItemOut):
    withdraw_reason: str
    fingerprint: str
    file_format: str
    size: int
    verified_at: dt.datetime | None
    verification: dict[str, Any] | None = Field(
        description="签收前核验结果（决定能否签收）：ok 与各项检查")
    report: dict[str, Any] | None = Field(
        description="版式文件的验章报告（VerificationReport.to_json），现场计算")
    may_sign: bool
    may_return: bool
    receipt: ReceiptOut | None
    follow_ups: list[FollowUpOut]


class ReasonIn(InputSchema):
    reason: str = Field(max_length=500)


class SignIn(InputSchema):
    pin: str = Field(min_length=1, max_length=64, description="单位签收证书密钥盘口令")


class BatchSignIn(SignIn):
    delivery_ids: list[BodyId] = Field(min_length=1, max_length=200, description="待签收来文编号")


class BatchSignItemOut(Schema):
    delivery_id: int
    ok: bool
    error: str = ""
    returned: bool = Field(False, description="核验未通过，已自动退回发文单位")
    receipt: ReceiptOut | None = None


class BatchSignOut(Schema):
    signed: int
    refused: int
    items: list[BatchSignItemOut]


class BatchDispatchIn(InputSchema):
    doc_ids: list[BodyId] = Field(min_length=1, max_length=200, description="待分发公文编号")


class BatchDispatchItemOut(Schema):
    doc_id: int
    ok: bool
    already: bool = Field(False, description="此前已分发（重试或重复提交），未再次分发")
    error: str = ""
    dispatch: DispatchOut | None = None


class BatchDispatchOut(Schema):
    dispatched: int
    refused: int
    items: list[BatchDispatchItemOut]


class FollowUpIn(InputSchema):
    how: Literal["phone", "sms", "visit", "other"] = "phone"
    contact: str = Field("", max_length=60)
    at: dt.datetime | None = None
    note: str = Field("", max_length=500)


class NotificationOut(Schema):
    id: int
    kind: str
    kind_label: str
    text: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(PageMeta):
    unread: int
    items: list[NotificationOut]


class MarkedOut(Schema):
    marked: int
    unread: int


class SearchQuery(PageQuery):
    q: str = Field("", max_length=100, description="标题、发文字号或单位名称")
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def search(self) -> dict:
        return {"q": self.q.strip(), "date_from": self.date_from, "date_to": self.date_to}


# -- shaping -----------------------------------------------------------------------------------


def _doc_ref(doc) -> dict:
    return {"id": doc.pk, "title": doc.title, "doc_number": doc.doc_number,
            "doc_type": doc.doc_type}


def _follow_up(f: FollowUp) -> dict:
    return {"id": f.pk, "how": f.how, "how_label": f.get_how_display(), "contact": f.contact,
            "at": f.at, "note": f.note, "by": f.by.display_name}


def _times(d: Delivery) -> dict:
    return {"id": d.pk, "dispatch_id": d.dispatch_id, "role": d.role, "paper": d.paper,
            "state": d.state, "state_label": d.get_state_display(),
            "dispatched_at": d.dispatched_at, "opened_at": d.opened_at,
            "signed_at": d.signed_at, "returned_at": d.returned_at,
            "withdrawn_at": d.withdrawn_at, "return_reason": d.return_reason,
            "overdue": d.overdue, "registration_number": d.registration_number,
            "paper_copies": d.paper_copies, "paper_received_on": d.paper_received_on}


def _track(d: Delivery) -> dict:
    return {**_times(d), "document": _doc_ref(d.dispatch.document),
            "recipient_unit": unit_ref(d.recipient_unit),
            "via_group": d.via_group.name if d.via_group_id else None,
            "overdue_at": d.dispatch.overdue_at,
            "follow_ups": [_follow_up(f) for f in d.follow_ups.all()]}


def _inbox_item(d: Delivery) -> dict:
    return {**_times(d), "document": _doc_ref(d.dispatch.document),
            "sender_unit": unit_ref(d.dispatch.sender_unit),
            "recipient_unit": unit_ref(d.recipient_unit)}


def _counts(sent: Dispatch, deliveries: list[Delivery] | None = None) -> dict:
    if deliveries is None and hasattr(sent, "total"):
        return {"total": sent.total, "signed": sent.n_signed, "returned": sent.n_returned,
                "pending": sent.n_pending, "overdue": sent.n_overdue}
    rows = deliveries if deliveries is not None else list(sent.deliveries.all())
    return {"total": len(rows),
            "signed": sum(1 for d in rows if d.state == DeliveryState.SIGNED),
            "returned": sum(1 for d in rows if d.state in RETURNED_STATES),
            "pending": sum(1 for d in rows if d.state in PENDING_STATES),
            "overdue": sum(1 for d in rows if d.overdue)}


def _dispatch_out(sent: Dispatch, deliveries: list[Delivery] | None = None) -> dict:
    return {"id": sent.pk, "document": _doc_ref(sent.document),
            "sender_unit": unit_ref(sent.sender_unit), "at": sent.at,
            "by": sent.by.display_name, "fingerprint": sent.fingerprint,
            "file_format": sent.file_format, "size": sent.size,
            "withdrawn_at": sent.withdrawn_at, "withdraw_reason": sent.withdraw_reason,
            "print_limit": sent.print_limit, "parallel_run": sent.parallel_run,
            "counts": _counts(sent, deliveries)}


def _dispatch_detail(sent: Dispatch) -> dict:
    deliveries = list(sent.deliveries.select_related("recipient_unit", "via_group",
                                                     "dispatch__document", "dispatch")
                      .prefetch_related("follow_ups__by").order_by("role", "id"))
    return {**_dispatch_out(sent, deliveries), "deliveries": [_track(d) for d in deliveries]}


def _receipt_out(receipt: Receipt) -> dict:
    d = receipt.delivery
    return {"delivery_id": d.pk, "registration_number": d.registration_number,
            "signed_at": receipt.signed_at, "signed_by": receipt.signed_by.display_name,
            "certificate_serial": receipt.certificate.serial, "digest": receipt.digest,
            "document_fingerprint": d.dispatch.fingerprint,
            "download": f"/api/deliveries/{d.pk}/receipt"}


def _load_delivery(delivery_id: int) -> Delivery:
    delivery = (Delivery.objects.select_related(
        "dispatch", "dispatch__document", "dispatch__sender_unit", "recipient_unit")
        .filter(pk=delivery_id).first())
    if delivery is None:
        raise Http404("未找到该来文。")
    return delivery


def _delivery(request, delivery_id: int) -> Delivery:
    """A delivery of the user's unit as sender or recipient; else 404 (R-SEC-1)."""
    delivery = _load_delivery(delivery_id)
    require(request.user, Perm.VIEW_DELIVERY, delivery, request=request)
    return delivery


def _delivery_detail(request, delivery: Delivery) -> dict:
    user = request.user
    is_recipient = delivery.recipient_unit_id == user.unit_id
    stored = hooks.Report.from_dict(delivery.verification)
    may_receive = (is_recipient and delivery.is_pending and not delivery.paper
                   and can(user, Perm.RECEIVE, delivery))
    receipt = None
    if delivery.state == DeliveryState.SIGNED:
        receipt = (Receipt.objects.select_related("delivery", "delivery__recipient_unit",
                                                  "delivery__dispatch", "certificate",
                                                  "signed_by")
                   .filter(delivery=delivery).first())
    withdrawn_for_me = delivery.state == DeliveryState.WITHDRAWN and is_recipient
    return {
        **_inbox_item(delivery),
        "withdraw_reason": delivery.dispatch.withdraw_reason,
        "fingerprint": delivery.dispatch.fingerprint,
        "file_format": delivery.dispatch.file_format, "size": delivery.dispatch.size,
        "verified_at": delivery.verified_at,
        "verification": stored.as_dict() if stored is not None else None,
        "report": None if withdrawn_for_me else selectors.file_report(delivery),
        "may_sign": may_receive and stored is not None and stored.ok,
        "may_return": may_receive,
        "receipt": _receipt_out(receipt) if receipt is not None else None,
        "follow_ups": [] if is_recipient else
        [_follow_up(f) for f in delivery.follow_ups.select_related("by")],
    }


# -- 发文 (outgoing) ----------------------------------------------------------------------------

outgoing = Router(tags=["发文"])


@outgoing.get("/dispatches", response=DispatchPage, summary="本单位发文列表（分页、检索）")
def list_dispatches(request, query: Query[SearchQuery]):
    require(request.user, Perm.VIEW_OUTBOX, request=request)
    qs = selectors.outbox_for(request.user, **query.search()).select_related("sender_unit")
    return page_of(qs, query.page, query.page_size, _dispatch_out)


@outgoing.post("/documents/{doc_id}/dispatch", response={200: DispatchDetailOut,
                                                          201: DispatchDetailOut},
               summary="分发已用印的公文（需 Idempotency-Key）")
def dispatch_document(request, doc_id: ObjectId, idempotency_key: IdempotencyKey):
    sent = services.dispatch(actor=request.user, doc_id=doc_id, key=idempotency_key,
                             request=request)
    status = 200 if was_replayed(sent) else 201
    sent = Dispatch.objects.select_related("document", "sender_unit", "by").get(pk=sent.pk)
    return Status(status, _dispatch_detail(sent))


@outgoing.post("/dispatches/batch", response=BatchDispatchOut,
               summary="批量分发已用印的公文（需 Idempotency-Key；逐件返回结果）")
def dispatch_documents(request, body: BatchDispatchIn, idempotency_key: IdempotencyKey):
    items = services.dispatch_many(actor=request.user, doc_ids=body.doc_ids,
                                   key=idempotency_key, request=request)
    ids = [i.result.pk for i in items if i.ok]
    sent = {d.pk: d for d in Dispatch.objects.select_related("document", "sender_unit", "by")
            .prefetch_related("deliveries").filter(pk__in=ids)}
    out = [{"doc_id": i.doc_id, "ok": i.ok, "already": i.already, "error": i.error_zh,
            "dispatch": _dispatch_out(sent[i.result.pk]) if i.ok else None} for i in items]
    dispatched = sum(1 for i in items if i.ok and not i.already)
    return {"dispatched": dispatched, "refused": sum(1 for i in items if not i.ok),
            "items": out}


def _dispatch(request, dispatch_id: int) -> Dispatch:
    sent = (Dispatch.objects.select_related("document", "sender_unit", "by")
            .filter(pk=dispatch_id).first())
    if sent is None:
        raise Http404("未找到该发文。")
    require(request.user, Perm.TRACK, sent, request=request)
    return sent


@outgoing.get("/dispatches/{dispatch_id}", response=DispatchDetailOut,
              summary="发文详情与各收文单位跟踪情况")
def dispatch_detail(request, dispatch_id: ObjectId):
    return _dispatch_detail(_dispatch(request, dispatch_id))


@outgoing.post("/dispatches/{dispatch_id}/withdraw", response=DispatchDetailOut,
               summary="撤回（须填写原因；需 Idempotency-Key）")
def withdraw_dispatch(request, dispatch_id: ObjectId, body: ReasonIn,
                      idempotency_key: IdempotencyKey):
    sent = _dispatch(request, dispatch_id)
    # Withdrawn already, or nothing left to withdraw: the service's conflict (409).
    services.withdraw(actor=request.user, dispatch_id=sent.pk, reason=body.reason,
                      key=idempotency_key, request=request)
    return _dispatch_detail(_dispatch(request, dispatch_id))


class PrintLimitIn(InputSchema):
    limit: int | None = Field(None, ge=0, le=printing.MAX_PRINT_LIMIT,
                              description="每个收文单位最多打印的份数；null 为不限，0 为不允许打印")


@outgoing.put("/dispatches/{dispatch_id}/print-limit", response=DispatchDetailOut,
              summary="设定每个收文单位的打印份数上限")
def print_limit(request, dispatch_id: ObjectId, body: PrintLimitIn):
    sent = _dispatch(request, dispatch_id)
    printing.set_print_limit(actor=request.user, dispatch_id=sent.pk, limit=body.limit,
                             request=request)
    return _dispatch_detail(_dispatch(request, dispatch_id))


@outgoing.get("/tracking", response=TrackPage, summary="跟踪：未签收（open）、超时（overdue）或全部（all）")
def tracking(request, query: Query[SearchQuery],
             only: Literal["open", "overdue", "all"] = "open"):
    require(request.user, Perm.TRACK, request=request)
    qs = selectors.tracking_for(request.user, only, **query.search()) \
        .select_related("via_group").prefetch_related("follow_ups__by")
    return page_of(qs, query.page, query.page_size, _track)


@outgoing.post("/deliveries/{delivery_id}/follow-ups", response={200: FollowUpOut,
                                                                 201: FollowUpOut},
               summary="登记催办情况（需 Idempotency-Key）")
def follow_up(request, delivery_id: ObjectId, body: FollowUpIn,
              idempotency_key: IdempotencyKey):
    delivery = _delivery(request, delivery_id)
    require_visible(request.user, Perm.TRACK, delivery, request=request,
                    message="只有发文单位可以登记催办。")
    at = body.at
    if at is not None and timezone.is_naive(at):
        at = timezone.make_aware(at)
    item = services.record_follow_up(actor=request.user, delivery_id=delivery.pk, how=body.how,
                                     contact=body.contact, at=at, note=body.note,
                                     key=idempotency_key, request=request)
    return Status(200 if was_replayed(item) else 201, _follow_up(item))


# -- 收文 (incoming) ----------------------------------------------------------------------------

incoming = Router(tags=["收文"])


@incoming.get("/inbox", response=InboxPage, summary="收文：未签收（pending）、已签收（signed）、已退回（returned）、待答复（to_answer）")
def inbox(request, query: Query[SearchQuery],
          tab: Literal["pending", "signed", "returned", "to_answer"] = "pending"):
    require(request.user, Perm.VIEW_INBOX, request=request)
    qs = selectors.inbox_for(request.user, tab, **query.search()).select_related("recipient_unit")
    return page_of(qs, query.page, query.page_size, _inbox_item)


@incoming.get("/inbox/counts", response=InboxCounts, summary="收文各栏数量")
def inbox_counts(request):
    require(request.user, Perm.VIEW_INBOX, request=request)
    return selectors.inbox_counts(request.user)


@incoming.get("/deliveries/{delivery_id}", response=DeliveryDetailOut,
              summary="来文详情（含核验报告；不记录打开）")
def delivery_detail(request, delivery_id: ObjectId):
    return _delivery_detail(request, _delivery(request, delivery_id))


@incoming.post("/deliveries/{delivery_id}/open", response=DeliveryDetailOut,
               summary="打开来文：记录打开时间并核验")
def open_delivery(request, delivery_id: ObjectId):
    delivery = _delivery(request, delivery_id)
    require_visible(request.user, Perm.RECEIVE, delivery, request=request,
                    message="只有收文单位可以打开并签收来文。")
    services.open_delivery(actor=request.user, delivery_id=delivery.pk, request=request)
    return _delivery_detail(request, _load_delivery(delivery.pk))


@incoming.post("/deliveries/{delivery_id}/sign", response={200: ReceiptOut, 201: ReceiptOut},
               summary="签收（密钥盘口令；需 Idempotency-Key），返回回执信息")
def sign_delivery(request, delivery_id: ObjectId, body: SignIn,
                  idempotency_key: IdempotencyKey):
    delivery = _delivery(request, delivery_id)
    require_visible(request.user, Perm.RECEIVE, delivery, request=request,
                    message="只有收文单位可以签收来文。")
    # Not pending (returned, withdrawn, returned now by the verification): the service's
    # conflict (409).
    receipt = services.sign_receipt(actor=request.user, delivery_id=delivery.pk,
                                    pin=body.pin, key=idempotency_key, request=request)
    status = 200 if was_replayed(receipt) else 201
    receipt = Receipt.objects.select_related(
        "delivery", "delivery__recipient_unit", "delivery__dispatch", "certificate",
        "signed_by").get(pk=receipt.pk)
    return Status(status, _receipt_out(receipt))


@incoming.post("/inbox/sign", response=BatchSignOut,
               summary="批量签收（一次输入口令；需 Idempotency-Key；逐件返回结果）")
def sign_deliveries(request, body: BatchSignIn, idempotency_key: IdempotencyKey):
    items = services.sign_receipts(actor=request.user, delivery_ids=body.delivery_ids,
                                   pin=body.pin, key=idempotency_key, request=request)
    ids = [i.result.pk for i in items if i.ok]
    receipts = {r.pk: r for r in Receipt.objects.select_related(
        "delivery", "delivery__recipient_unit", "delivery__dispatch", "certificate",
        "signed_by").filter(pk__in=ids)}
    out = [{"delivery_id": i.delivery_id, "ok": i.ok, "error": i.error_zh,
            "returned": i.returned,
            "receipt": _receipt_out(receipts[i.result.pk]) if i.ok else None} for i in items]
    signed = len(ids)
    return {"signed": signed, "refused": len(items) - signed, "items": out}


@incoming.post("/deliveries/{delivery_id}/return", response=DeliveryDetailOut,
               summary="退回（须填写原因；需 Idempotency-Key）")
def return_delivery(request, delivery_id: ObjectId, body: ReasonIn,
                    idempotency_key: IdempotencyKey):
    delivery = _delivery(request, delivery_id)
    require_visible(request.user, Perm.RECEIVE, delivery, request=request,
                    message="只有收文单位可以退回来文。")
    services.return_delivery(actor=request.user, delivery_id=delivery.pk, reason=body.reason,
                             key=idempotency_key, request=request)
    return _delivery_detail(request, _load_delivery(delivery.pk))


@incoming.post("/deliveries/{delivery_id}/print", response={200: None},
               summary="打印：生成编号打印件（需 Idempotency-Key），返回带份号、核验码和二维码的 PDF")
def print_delivery(request, delivery_id: ObjectId, idempotency_key: IdempotencyKey):
    delivery = _delivery(request, delivery_id)
    copy = printing.print_copy(actor=request.user, delivery_id=delivery.pk,
                               key=idempotency_key, request=request)
    response = download(printing.printed_pdf(copy),
                        f"打印件-第{copy.number}份-{copy.code}.pdf", "application/pdf")
    response["X-Gongwen-Copy-Number"] = str(copy.number)
    response["X-Gongwen-Copy-Code"] = copy.code
    return response


@incoming.get("/deliveries/{delivery_id}/receipt", summary="下载签收回执文件（JSON，可离线核验）",
              response={200: None})
def receipt_file(request, delivery_id: ObjectId):
    delivery = _delivery(request, delivery_id)
    receipt = Receipt.objects.filter(delivery=delivery).first() \
        if delivery.state == DeliveryState.SIGNED else None
    if receipt is None:
        raise Http404("尚无签收回执。")
    return download(bytes(receipt.content),
                    f"receipt-{delivery.pk}-{delivery.registration_serial}.json",
                    "application/json")


@incoming.get("/deliveries/{delivery_id}/file", summary="下载用印后的版式文件（PDF 或 OFD）",
              response={200: None})
def delivery_file(request, delivery_id: ObjectId,
                  format: Literal["pdf", "ofd"] | None = None):
    from gongwen.documents import sealing

    delivery = _delivery(request, delivery_id)
    sent = delivery.dispatch
    if delivery.state == DeliveryState.WITHDRAWN and \
            delivery.recipient_unit_id == request.user.unit_id:
        raise Http404("该公文已撤回。")
    fmt = format or sent.file_format
    if fmt == sent.file_format:
        try:
            data = blobs.read(sent.fingerprint)
        except (blobs.BlobError, OSError):
            data = None
    else:
        data = sealing.sealed_bytes(sent.document, fmt)
    if not data:
        raise Http404("文件不存在。")
    name = f"{sent.document.doc_number or sent.document.title}.{fmt}"
    return download(data, name, "application/pdf" if fmt == "pdf" else "application/ofd")


# -- 通知 (notifications) -----------------------------------------------------------------------

notifications = Router(tags=["通知"])


def _notification(n: Notification) -> dict:
    return {"id": n.pk, "kind": n.kind, "kind_label": n.get_kind_display(), "text": n.text,
            "link": n.link, "created_at": n.created_at, "read_at": n.read_at}


def _unread(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@notifications.get("/notifications", response=NotificationPage, summary="我的通知（含未读数）")
def list_notifications(request, unread_only: bool = False,
                       page: int = Query(1, ge=1, le=100_000),
                       page_size: int = Query(20, ge=1, le=MAX_PAGE_SIZE)):
    require(request.user, Perm.USE_API, request=request)
    qs = Notification.objects.filter(user=request.user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return page_of(qs.order_by("-created_at", "-id"), page, page_size, _notification,
                   unread=_unread(request.user))


@notifications.post("/notifications/{notification_id}/read", response=MarkedOut,
                    summary="标记一条通知为已读")
def read_notification(request, notification_id: ObjectId):
    require(request.user, Perm.USE_API, request=request)
    if not Notification.objects.filter(user=request.user, pk=notification_id).exists():
        raise Http404("未找到该通知。")
    marked = services.mark_read(user=request.user, notification_id=notification_id)
    return {"marked": marked, "unread": _unread(request.user)}


@notifications.post("/notifications/read-all", response=MarkedOut, summary="全部标记为已读")
def read_all_notifications(request):
    require(request.user, Perm.USE_API, request=request)
    marked = services.mark_read(user=request.user)
    return {"marked": marked, "unread": 0}
