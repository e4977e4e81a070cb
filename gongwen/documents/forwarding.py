"""转发 (R-FLOW-5): a unit forwards a document it received and signed for, keeping the
original's seal verifiable.

:func:`forward_delivery` is one verb in one transaction (``policy.verbs.verb``): the clerk
of the receiving unit (draft permission, server-checked) starts a new 通知 of the unit titled
"关于转发《原标题》的通知", whose body names the original's issuer, title and 发文字号, and
whose first attachment is the received sealed file — the exact dispatched blob, byte for
byte. The draft records its provenance (``OfficialDocument.forwards``: the delivery). When it
is sealed, the rendition carries that file inside itself (``rendering.carried``): the
forwarding unit's seal covers it and the recipient takes out and verifies the original's
own seal (``verification.verify_carried``, 原件印章核验).

A national or provincial sealed file that did not come through the platform is forwarded
through the ordinary upload path (``services.set_body_file`` / ``add_attachment``), which
carries it the same way.
"""

from __future__ import annotations

import re

from django.http import Http404

from gongwen.audit.services import record
from gongwen.policy.permissions import Perm
from gongwen.policy.verbs import verb

from . import blobs, from_delivery, upload, verification
from .from_delivery import fitted_title
from .models import Attachment, DocType, Issuer, OfficialDocument
from .services import save_new_draft

__all__ = ["ForwardRefused", "forward_body", "forward_delivery", "forward_title",
           "forwardable"]

_NESTED = re.compile(r"^关于转发(.+)的通知$")


class ForwardRefused(from_delivery.Refused):
    """The delivery cannot be forwarded (not signed for, paper, file missing)."""

    action = "document.forward_refused"


def forward_title(title: str) -> str:
    """"关于转发《{title}》的通知", naming the innermost original: a title that is itself a
    转发 notice ("关于转发《X》的通知", "关于转发X的通知") is not wrapped again (no
    "…的通知的通知"; 党政机关公文处理 practice cites the original document once)."""
    core = (title or "").strip()
    for _ in range(8):
        m = _NESTED.match(core)
        if m is None:
            break
        core = _unquote(m.group(1).strip())
    return fitted_title("关于转发《", core, "》的通知")


def _unquote(text: str) -> str:
    """《X》 → X when the first 《 closes at the last 》 (nested 书名号 counted)."""
    if not (text.startswith("《") and text.endswith("》")):
        return text
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "《") - (ch == "》")
        if depth == 0 and i < len(text) - 1:
            return text  # 《A》与《B》: not one quotation
    return text[1:-1].strip()


def forward_body(issuer: str, title: str, doc_number: str) -> str:
    number = f"（{doc_number}）" if doc_number else ""
    return f"现将{issuer}《{title}》{number}转发给你们，请结合实际认真贯彻执行。"


def forwardable(user, delivery) -> bool:
    """Whether the 转发 button is offered: the receiving unit's clerk with draft permission,
    on a delivery signed for electronically. The verb checks all of it again."""
    from gongwen.policy.permissions import can

    return (delivery.state == "signed" and not delivery.paper
            and delivery.recipient_unit_id == getattr(user, "unit_id", None)
            and can(user, Perm.DRAFT) and can(user, Perm.RECEIVE, delivery))


CARRIED_TYPES = {"pdf": "application/pdf", "ofd": "application/ofd"}


def carried_file(data: bytes | None, index: int):
    """The ``index``-th file the sealed ``data`` carries, taken out of it (so the download
    is what the seal covers); Http404 in Chinese when there is no such file."""
    if data is None:
        raise Http404("该公文尚未用印。")
    files = verification.carried_of(data)
    if not 0 <= index < len(files):
        raise Http404("未找到该随文原件。")
    return files[index]


def delivery_carried_file(user, delivery, index: int):
    """A carried file of a delivery the caller may see (checked before): a withdrawn item
    is no longer open to its recipient."""
    if delivery.state == "withdrawn" and delivery.recipient_unit_id == user.unit_id:
        raise Http404("该公文已撤回。")
    try:
        data = blobs.read(delivery.dispatch.fingerprint)
    except (blobs.BlobError, OSError):
        raise Http404("文件不存在。") from None
    return carried_file(data, index)


@verb
def forward_delivery(*, actor, delivery_id: int, idempotency_key=None, request=None
                     ) -> OfficialDocument:
    """转发: a new draft of the actor's unit forwarding the received ``delivery_id`` (see the
    module docstring). A retry with the same key returns the first draft."""
    from gongwen.exchange.models import DeliveryState

    key, prior, delivery = from_delivery.start(actor, idempotency_key, "forwards", delivery_id,
                                               request=request)
    if prior is not None:
        return prior

    def refuse(message: str, why: str) -> ForwardRefused:
        return ForwardRefused(message, why, actor=actor, delivery=delivery, request=request)

    if delivery.paper:
        raise refuse("纸质送达的来文不能在平台上转发。", "paper")
    if delivery.state != DeliveryState.SIGNED:
        raise refuse(f"该来文当前状态为“{delivery.get_state_display()}”，签收后才能转发。",
                     "not_signed")
    sent = delivery.dispatch
    try:
        data = blobs.read(sent.fingerprint)
    except (blobs.BlobError, OSError):
        raise refuse("来文的版式文件缺失，不能转发。", "file_missing") from None
    if blobs.digest_of(data, sent.fingerprint) != sent.fingerprint:
        raise refuse("来文的版式文件与发送时不一致，不能转发。", "file_changed")
    original = sent.document
    issuer = "、".join(original.issuer_names()) or original.unit.name
    filename = f"{original.doc_number or original.title}.{sent.file_format}"[:200]
    try:
        found = upload.inspect_file(data, filename, max_bytes=max(len(data), 1))
    except upload.UploadRejected as exc:
        raise refuse(f"来文的版式文件无法作为附件：{exc.message_zh}", "file_rejected") from exc

    doc = OfficialDocument(
        unit=actor.unit, created_by=actor, idempotency_key=key, forwards=delivery,
        doc_type=DocType.NOTICE, title=forward_title(original.title),
        body=[{"heading": "", "level": 0,
               "text": forward_body(issuer, original.title, original.doc_number)}])
    doc, created = save_new_draft(doc, actor, key, link="forwards", target=delivery.pk)
    if not created:
        return doc
    Issuer.objects.create(document=doc, unit=doc.unit, position=0)
    att = Attachment.objects.create(
        document=doc, position=0, title=original.title[:200], blob=sent.fingerprint,
        filename=filename, file_format=found.file_format, size=len(data), pages=found.pages,
        uploaded_by=actor)
    record(actor, "document.forward_started", doc, request=request,
           detail={"delivery": delivery.pk, "original": original.pk,
                   "original_number": original.doc_number, "issuer": issuer,
                   "attachment": att.pk, "digest": sent.fingerprint, "size": len(data)})
    return doc
