"""发文办理 over REST (R-FLOW-1; issues 7 and 8): draft, submit, 核批 or 退回修改, 用印;
转发 of a received delivery and the files a sealed document carries (R-FLOW-5).

Thin over ``gongwen.documents.services`` and ``gongwen.documents.sealing``: every rule,
transaction and audit row is theirs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import Http404
from ninja import Header, Router, Schema, Status
from pydantic import Field

from gongwen.documents import forwarding, replies, sealing
from gongwen.documents import services as docs
from gongwen.documents.models import OfficialDocument
from gongwen.documents.selectors import approval_queue_for, visible_document
from gongwen.policy.errors import was_replayed
from gongwen.policy.permissions import Perm, require

from .common import BodyId, IdempotencyKey, InputSchema, ObjectId, UnitRef, download, unit_ref

router = Router(tags=["公文办理"])


class DocumentOut(Schema):
    id: int
    unit: UnitRef
    doc_type: str
    title: str
    doc_number: str
    state: str
    state_label: str
    revision: int
    review_comment: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    dispatch_id: int | None


class DraftIn(InputSchema):
    doc_type: str = Field("notice", max_length=16, description="文种，如 notice（通知）")
    variant: str = Field("file", max_length=8,
                         description="公文格式：file（文件格式）、letter（信函格式）、minutes（纪要格式）")
    number_series: str = Field("发", max_length=4,
                               description="发文字号类别：发、函、电、请、报、复、纪")
    title: str = Field(max_length=200)
    body_text: str = Field("", max_length=200_000, description="正文，每行一段")
    main_units: list[BodyId] = Field(default_factory=list, max_length=500)
    main_groups: list[BodyId] = Field(default_factory=list, max_length=100)
    copy_units: list[BodyId] = Field(default_factory=list, max_length=500)
    copy_groups: list[BodyId] = Field(default_factory=list, max_length=100)
    co_issuers: list[BodyId] = Field(default_factory=list, max_length=20)
    main_recipients_text: str = Field("", max_length=500)
    copy_to_text: str = Field("", max_length=500)
    urgency: str = Field("", max_length=4)
    signers: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list,
                                                             max_length=20)
    note: str = Field("", max_length=300)
    copy_number: str = Field("", max_length=6, description="份号（6位数字，可不填）")
    mark_text: str = Field("", max_length=100, description="发文机关标志（默认为单位名称加“文件”）")
    signature_text: str = Field("", max_length=200, description="发文机关署名")
    date: dt.date | None = Field(None, description="成文日期（默认为核批日）")
    printer: str = Field("", max_length=100, description="印发机关")
    print_date: dt.date | None = Field(None, description="印发日期")
    secrecy: str = Field("", max_length=4,
                         description="密级：本平台禁止传输密级公文，填写任何密级都将被拒绝")
    secrecy_period: str = Field("", max_length=20, description="保密期限")


class CommentIn(InputSchema):
    comment: str = Field("", max_length=2000)


class SealIn(InputSchema):
    seal_id: BodyId
    pin: str = Field(min_length=1, max_length=64, description="印章密钥盘口令")
    workstation_credential: str = Field(
        "", max_length=512,
        description="专用计算机凭据（gwws-…）；也可由 X-Gongwen-Workstation 请求头提供")


class BatchSealIn(SealIn):
    doc_ids: list[BodyId] = Field(min_length=1, max_length=200, description="待用印公文编号")


class SealingOut(Schema):
    document: DocumentOut
    seals_applied: int
    seals_required: int
    complete: bool
    already: bool


def _doc_out(doc: OfficialDocument) -> dict:
    dispatch = getattr(doc, "dispatch", None) if doc.state == "dispatched" else None
    return {"id": doc.pk, "unit": unit_ref(doc.unit), "doc_type": doc.doc_type,
            "title": doc.title, "doc_number": doc.doc_number, "state": doc.state,
            "state_label": doc.get_state_display(), "revision": doc.revision,
            "review_comment": doc.review_comment, "created_at": doc.created_at,
            "submitted_at": doc.submitted_at, "approved_at": doc.approved_at,
            "dispatch_id": dispatch.pk if dispatch is not None else None}


def _doc(request, doc_id: int) -> OfficialDocument:
    return visible_document(request.user, doc_id, request=request)


def _fresh(doc_id: int) -> dict:
    return _doc_out(OfficialDocument.objects.select_related("unit").get(pk=doc_id))


@router.post("/documents", response={200: DocumentOut, 201: DocumentOut},
             summary="起草公文（需 Idempotency-Key）")
def create_document(request, body: DraftIn, idempotency_key: IdempotencyKey):
    doc = docs.create_draft(actor=request.user, idempotency_key=idempotency_key,
                            request=request, **body.dict(exclude_unset=True))
    return Status(200 if was_replayed(doc) else 201, _fresh(doc.pk))


@router.get("/documents/{doc_id}", response=DocumentOut, summary="公文状态")
def document_detail(request, doc_id: ObjectId):
    return _doc_out(_doc(request, doc_id))


@router.delete("/documents/{doc_id}", response={204: None},
               summary="删除草稿（草稿或退回修改的公文；已核批的公文不能删除）")
def discard_document(request, doc_id: ObjectId):
    docs.discard_draft(actor=request.user, doc_id=doc_id, request=request)
    return Status(204, None)


@router.post("/documents/{doc_id}/submit", response=DocumentOut, summary="提交核批")
def submit_document(request, doc_id: ObjectId):
    docs.submit(actor=request.user, doc_id=doc_id, request=request)
    return _fresh(doc_id)


@router.get("/approvals", response=list[DocumentOut], summary="待核批")
def approvals(request):
    require(request.user, Perm.APPROVE, request=request)
    return [_doc_out(d) for d in approval_queue_for(request.user).select_related("unit")[:200]]


@router.post("/documents/{doc_id}/approve", response=DocumentOut,
             summary="核批签发（分配发文字号）")
def approve_document(request, doc_id: ObjectId, body: CommentIn):
    docs.approve(actor=request.user, doc_id=doc_id, comment=body.comment, request=request)
    return _fresh(doc_id)


@router.post("/documents/{doc_id}/return", response=DocumentOut,
             summary="退回修改（须填写意见）")
def return_document(request, doc_id: ObjectId, body: CommentIn):
    docs.return_with_comments(actor=request.user, doc_id=doc_id, comment=body.comment,
                              request=request)
    return _fresh(doc_id)


@router.get("/sealing", response=list[DocumentOut], summary="待用印")
def sealing_queue(request):
    require(request.user, Perm.SEAL, request=request)
    return [_doc_out(d) for d in sealing.awaiting_seal(request.user)[:200]]


@router.post("/documents/{doc_id}/seal", response=SealingOut,
             summary="用印（印章、专用计算机凭据、密钥盘口令；需 Idempotency-Key）")
def seal_document(request, doc_id: ObjectId, body: SealIn, idempotency_key: IdempotencyKey,
                  x_gongwen_workstation: str = Header("", alias="X-Gongwen-Workstation",
                                                      max_length=512)):
    credential = (x_gongwen_workstation or body.workstation_credential).strip()
    result = sealing.seal_document(actor=request.user, doc_id=doc_id, seal_id=body.seal_id,
                                   workstation_credential=credential, pin=body.pin,
                                   idempotency_key=idempotency_key, request=request)
    return {"document": _fresh(result.document.pk), "seals_applied": result.seals_applied,
            "seals_required": result.seals_required, "complete": result.complete,
            "already": result.already}


class BatchSealItemOut(Schema):
    doc_id: int
    ok: bool
    error: str | None = None
    sealing: SealingOut | None = None


class BatchSealOut(Schema):
    sealed: int
    refused: int
    items: list[BatchSealItemOut]


@router.post("/sealing/batch", response=BatchSealOut,
             summary="批量用印（一次输入口令；需 Idempotency-Key；逐件返回结果）")
def seal_documents(request, body: BatchSealIn, idempotency_key: IdempotencyKey,
                   x_gongwen_workstation: str = Header("", alias="X-Gongwen-Workstation",
                                                       max_length=512)):
    credential = (x_gongwen_workstation or body.workstation_credential).strip()
    items = sealing.seal_documents(actor=request.user, doc_ids=body.doc_ids,
                                   seal_id=body.seal_id, workstation_credential=credential,
                                   pin=body.pin, idempotency_key=idempotency_key,
                                   request=request)
    out = []
    for item in items:
        r = item.result
        out.append({"doc_id": item.doc_id, "ok": item.ok, "error": item.error_zh,
                    "sealing": None if r is None else {
                        "document": _fresh(r.document.pk), "seals_applied": r.seals_applied,
                        "seals_required": r.seals_required, "complete": r.complete,
                        "already": r.already}})
    sealed = sum(1 for i in items if i.ok)
    return {"sealed": sealed, "refused": len(items) - sealed, "items": out}


# -- 转发 and carried files (R-FLOW-5); 答复 (批复, 复函) -------------------------------------------


def _draft_from(request, start, delivery_id, idempotency_key) -> tuple[int, OfficialDocument]:
    """A draft started from a received delivery (转发, 答复): 201, or 200 when the key was
    used before (the verb then answers with the first draft)."""
    doc = start(actor=request.user, delivery_id=delivery_id, idempotency_key=idempotency_key,
                request=request)
    return (200 if was_replayed(doc) else 201), doc


class ForwardOut(DocumentOut):
    forwards: int = Field(description="所转发的来文（送达）编号")
    attachment_id: int = Field(description="来文原件作为第一个附件的编号")


@router.post("/deliveries/{delivery_id}/forward", response={200: ForwardOut, 201: ForwardOut},
             summary="转发已签收的来文：起草转发通知，来文原件（已用印文件）作为附件（需 Idempotency-Key）")
def forward_delivery(request, delivery_id: ObjectId, idempotency_key: IdempotencyKey):
    status, doc = _draft_from(request, forwarding.forward_delivery, delivery_id,
                              idempotency_key)
    first = doc.attachments.order_by("position").values_list("pk", flat=True).first()
    return Status(status, {**_fresh(doc.pk), "forwards": doc.forwards_id,
                           "attachment_id": first})


class ReplyOut(DocumentOut):
    answers: int = Field(description="所答复的来文（送达）编号")


@router.post("/deliveries/{delivery_id}/reply", response={200: ReplyOut, 201: ReplyOut},
             summary="答复已签收的请示（起草批复）或函（起草复函），主送来文单位（需 Idempotency-Key）")
def reply_to_delivery(request, delivery_id: ObjectId, idempotency_key: IdempotencyKey):
    status, doc = _draft_from(request, replies.reply_to_delivery, delivery_id, idempotency_key)
    return Status(status, {**_fresh(doc.pk), "answers": doc.answers_id})


class CarriedOut(Schema):
    index: int
    name: str
    description: str
    role: str = Field(description="Source（正文原件）或 Supplement（附件原件）")
    role_zh: str
    size: int
    sm3: str
    format: str
    covered: bool | None = Field(description="是否受本文件印章保护且字节一致")
    covered_reason_zh: str
    original: dict | None = Field(description="原件印章核验（原件本身为已用印 PDF/OFD 时）")
    warning: bool


@router.get("/documents/{doc_id}/carried", response=list[CarriedOut],
            summary="已用印公文随文封装的原件及其核验（原件印章核验）")
def document_carried(request, doc_id: ObjectId):
    from gongwen.documents import verification

    doc = _doc(request, doc_id)
    data = sealing.sealed_bytes(doc, "pdf") or sealing.sealed_bytes(doc, "ofd")
    return [c.as_dict() for c in verification.verify_carried(data)] if data else []


@router.get("/deliveries/{delivery_id}/carried/{index}", response={200: None},
            summary="下载来文随文封装的原件（从已用印文件中取出，与印章保护的字节一致）")
def delivery_carried_file(request, delivery_id: ObjectId, index: int):
    from gongwen.exchange.models import Delivery

    delivery = (Delivery.objects.select_related("dispatch").filter(pk=delivery_id).first())
    if delivery is None:
        raise Http404("未找到该来文。")
    require(request.user, Perm.VIEW_DELIVERY, delivery, request=request)
    f = forwarding.delivery_carried_file(request.user, delivery, index)
    response = download(f.data, f.name or f"原件{index + 1}",
                        forwarding.CARRIED_TYPES.get(f.file_format, "application/octet-stream"))
    response["X-Content-SM3"] = f.sm3_hex
    return response
