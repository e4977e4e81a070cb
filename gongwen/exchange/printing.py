"""打印 (R-FLOW-6, attachment art. 2): a recipient prints a signed document through the
platform; each print is a numbered copy with a verification code and a QR code; the sender
may cap the copies per recipient; anyone checks a printed copy on the public page
(``/v/<code>/``) without logging in and without seeing the content.

Verbs (one durable transaction each, audited, idempotent): :func:`print_copy`,
:func:`set_print_limit`. Read side: :func:`copy_by_code`, :func:`printed_pdf`.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from gongwen.audit.services import record
from gongwen.documents import blobs
from gongwen.policy.errors import key_reused
from gongwen.policy.permissions import Perm
from gongwen.printmark import MarkError, mark_copy

from .models import Delivery, DeliveryState, Dispatch, PrintedCopy
from .services import _key, _lock_delivery, _require, _verb, public_url

MAX_PRINT_LIMIT = 999
_CODE_CHARS = re.compile(r"[^A-Z2-7]")


def new_code() -> str:
    """80 random bits in base32 (16 characters): not guessable, easy to type."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii")


def normalise_code(text: str) -> str:
    """What a person typed (lower case, dashes, spaces) as it is stored."""
    return _CODE_CHARS.sub("", (text or "").upper())[:32]


def grouped(code: str) -> str:
    return PrintedCopy(code=code).display_code


def verify_url(code: str) -> str:
    return public_url(reverse("web:public_verify", args=[code]))


def _sealed_pdf(sent: Dispatch) -> str:
    """The blob of the sealed PDF to print: the dispatched file, or for a document
    dispatched as OFD its sealed PDF when it has one (a print needs PDF)."""
    if sent.file_format == "pdf":
        return sent.fingerprint
    from gongwen.documents.sealing import sealed_files

    pdf = sealed_files(sent.document).get("pdf")
    if pdf is None or not blobs.exists(pdf.blob):
        raise ValidationError("该公文以 OFD 版式分发且没有用印的 PDF 版式文件，无法通过平台打印。")
    return pdf.blob


@_verb
def print_copy(*, actor, delivery_id: int, key, request=None) -> PrintedCopy:
    """A new numbered copy of a signed delivery (recipient unit only). Refused before 签收,
    for a document without a sealed PDF, and beyond the sender's cap. A retry with the same
    key returns the first copy."""
    key = _key(key)
    prior = PrintedCopy.objects.filter(idempotency_key=key).first()
    if prior is not None:
        if prior.delivery_id != int(delivery_id) or prior.printed_by_id != actor.pk:
            raise key_reused()
        return prior
    delivery = _lock_delivery(delivery_id)
    _require(actor, Perm.PRINT, delivery, request=request)
    if delivery.state != DeliveryState.SIGNED:
        raise ValidationError("签收后才能打印。")
    sent = delivery.dispatch
    blob = _sealed_pdf(sent)
    made = _printed(delivery)
    if limit_reached(delivery, made):
        raise ValidationError(
            f"发文单位限定每个收文单位最多打印 {sent.print_limit} 份，已全部打印。")
    copy = PrintedCopy.objects.create(
        delivery=delivery, number=made + 1, code=new_code(), fingerprint=blob,
        printed_by=actor, printed_at=timezone.now(), idempotency_key=key)
    record(actor, "exchange.printed", delivery, request=request,
           detail={"copy": copy.number, "code": copy.code, "limit": sent.print_limit})
    return copy


def _printed(delivery: Delivery) -> int:
    return delivery.copies.aggregate(n=Max("number"))["n"] or 0


def limit_reached(delivery: Delivery, printed: int | None = None) -> bool:
    """Whether the sender's cap allows no further copy for ``delivery`` (the page offers
    no 打印 button then; a cap set below what was printed already counts as reached)."""
    limit = delivery.dispatch.print_limit
    if limit is None:
        return False
    return (_printed(delivery) if printed is None else printed) >= limit


def recipients_over_limit(sent: Dispatch) -> int:
    """How many recipients printed more copies than the cap now allows (a cap lowered after
    printing): those copies stay valid, and no further one is made."""
    if sent.print_limit is None:
        return 0
    return (PrintedCopy.objects.filter(delivery__dispatch=sent, number__gt=sent.print_limit)
            .values("delivery").distinct().count())


@_verb
def set_print_limit(*, actor, dispatch_id: int, limit: int | None, request=None) -> Dispatch:
    """The sender's cap on copies per recipient (None: no cap). Copies already printed stay;
    a lower cap stops further ones. Setting the same value again changes nothing."""
    if limit is not None:
        try:
            limit = int(limit)
        except (TypeError, ValueError):
            raise ValidationError("打印份数上限应为整数。") from None
        if not 0 <= limit <= MAX_PRINT_LIMIT:
            raise ValidationError(f"打印份数上限应在 0 到 {MAX_PRINT_LIMIT} 之间。")
    try:
        sent = Dispatch.objects.select_for_update(of=("self",)).get(pk=dispatch_id)
    except (Dispatch.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该发文。") from None
    _require(actor, Perm.DISPATCH, sent, request=request)
    if sent.print_limit != limit:
        old, sent.print_limit = sent.print_limit, limit
        sent.save(update_fields=["print_limit"])
        record(actor, "exchange.print_limit", sent, request=request,
               detail={"from": old, "to": limit})
    return sent


def printed_pdf(copy: PrintedCopy) -> bytes:
    """The file of a copy: the dispatched sealed PDF with the copy's mark on every page."""
    delivery = copy.delivery
    try:
        data = blobs.read(copy.fingerprint)
    except (blobs.BlobError, OSError):
        raise Http404("文件不存在。") from None
    lines = [
        f"第 {copy.number} 份　核验码 {grouped(copy.code)}",
        f"{delivery.recipient_unit.name} {timezone.localtime(copy.printed_at):%Y-%m-%d %H:%M} "
        f"打印　{copy.printed_by.display_name}",
        f"扫码或访问 {verify_url(copy.code)} 核验",
    ]
    try:
        return mark_copy(data, lines=lines, qr_text=verify_url(copy.code))
    except MarkError as exc:
        raise ValidationError(exc.message_zh) from exc


@dataclass(frozen=True)
class PublicCheck:
    """What the public page shows of a copy: no title, no text, no 发文字号."""

    copy_number: int
    code: str
    printed_at: object
    printed_by_unit: str
    sender_unit: str
    dispatched_at: object
    fingerprint: str
    seal_ok: bool | None
    seal_summary: str
    withdrawn: bool
    copies_of_unit: int


def copy_by_code(text: str) -> PublicCheck | None:
    code = normalise_code(text)
    if len(code) != 16:
        return None
    copy = (PrintedCopy.objects.select_related("delivery__dispatch__sender_unit",
                                               "delivery__recipient_unit")
            .filter(code=code).first())
    if copy is None:
        return None
    delivery: Delivery = copy.delivery
    report = delivery.verification or {}
    ok = report.get("ok") if isinstance(report, dict) else None
    return PublicCheck(
        copy_number=copy.number, code=grouped(copy.code), printed_at=copy.printed_at,
        printed_by_unit=delivery.recipient_unit.name,
        sender_unit=delivery.dispatch.sender_unit.name, dispatched_at=delivery.dispatch.at,
        fingerprint=copy.fingerprint, seal_ok=ok if isinstance(ok, bool) else None,
        seal_summary=("签章有效：签名、印章、证书链与吊销状态核验通过（送达时）" if ok is True
                      else "签章核验未通过" if ok is False else "无签章核验记录"),
        # Only a signed delivery prints, and 撤回 leaves signed deliveries alone (部分撤回);
        # checked all the same, should that rule ever change.
        withdrawn=delivery.state == DeliveryState.WITHDRAWN,
        copies_of_unit=delivery.copies.count())
