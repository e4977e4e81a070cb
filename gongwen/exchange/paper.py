"""Paper beside the platform during the roll-out (R-POLICY-2, R-FLOW-4; notice §2).

From 2006-07-24 to 2006-12-31 the city office sends its documents electronically *and* on
paper, and units report their requests (请示) both ways; a request that comes on paper only
is not accepted. After the cut-over paper is the exception. The platform keeps the record:

* the sender records the paper copies that went out with a dispatch (:func:`record_paper_copies`);
  outside a 纸电并行 phase that needs a reason, because paper is then the exception;
* the recipient records the day a paper copy arrived (:func:`record_paper_received`);
* the recipient's mail room registers a paper document that arrived (:func:`register_arrival`):
  the platform finds its electronic delivery by sender and 发文字号 and marks the paper
  received; a request with no electronic delivery is refused and its sender told so, and
  matched after all when its electronic copy is dispatched later (:func:`match_waiting_arrivals`).

Every verb is one durable transaction, audited; setting the same values twice changes
nothing, and ``register_arrival`` takes an idempotency key.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from gongwen.audit.services import record
from gongwen.documents.gbt9704.model import DocNumber, ModelError
from gongwen.policy import rollout
from gongwen.policy.errors import conflict, key_reused, object_id
from gongwen.policy.permissions import Perm
from gongwen.units.models import Unit

from .models import Delivery, DeliveryState, Dispatch, Notification, PaperArrival
from .services import _key, _lock_delivery, _notify_unit, _require, _verb

MAX_COPIES = 99
MAX_AGE_DAYS = 366  # a paper arrival registered later than this is a typing error
_OPEN = "[［(（【〔"
_CLOSE = "]］)）】〕"
MAX_SERIAL = 999_999  # a longer serial is a typing error (and beyond the database column)


def parse_number(text: str) -> DocNumber | None:
    """A 发文字号 as people type it off paper (连政办发[2006]107号, （2006）, 第107号, 007号,
    spaces) as the GB/T 9704 one (连政办发〔2006〕107号, ``gbt9704.DocNumber``); None when
    nothing was typed; ValidationError in Chinese when it is not one."""
    out = re.sub(r"\s+", "", text or "")
    if not out:
        return None
    for a in _OPEN:
        out = out.replace(a, "〔")
    for b in _CLOSE:
        out = out.replace(b, "〕")
    # 第 before the serial and 虚位 zeros are how some units write it; the standard form has
    # neither (GB/T 9704-2012 7.2.4: 序号不编虚位, 不加“第”字).
    out = re.sub(r"〕第?0*(\d+号)$", r"〕\1", out)
    try:
        number = DocNumber.parse(out)
    except ModelError:
        number = None
    if number is None or number.serial > MAX_SERIAL or len(str(number)) > 60:
        raise ValidationError("发文字号格式不正确，应如“连发改发〔2006〕12号”。")
    return number


def _day(value, *, what: str) -> dt.date:
    today = timezone.localdate()
    if value in (None, ""):
        return today
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError(f"{what}格式不正确，应为 YYYY-MM-DD。") from None
    if value > today:
        raise ValidationError(f"{what}不能晚于今天。")
    return value


@_verb
def record_paper_copies(*, actor, dispatch_id, delivery_ids=None, copies=1, sent_on=None,
                        note: str = "", request=None) -> list[Delivery]:
    """The paper copies that went out to the chosen recipients of a dispatch (all when
    ``delivery_ids`` is None); ``copies=0`` clears the record."""
    sent = (Dispatch.objects.select_for_update(of=("self",)).select_related("document")
            .filter(pk=object_id(dispatch_id)).first())
    if sent is None:
        raise Http404("未找到该发文。")
    _require(actor, Perm.DISPATCH, sent, request=request)
    try:
        copies = int(copies)
    except (TypeError, ValueError):
        raise ValidationError("纸质件份数应为整数。") from None
    if not 0 <= copies <= MAX_COPIES:
        raise ValidationError(f"纸质件份数应在 0 至 {MAX_COPIES} 之间。")
    day = _day(sent_on, what="纸质件发出日期") if copies else None
    if day and day < timezone.localdate(sent.at):
        raise ValidationError("纸质件发出日期不能早于分发日期。")
    note = (note or "").strip()[:300]
    rows = sent.deliveries.select_for_update().select_related("recipient_unit")
    if delivery_ids is not None:
        ids = [i for i in (object_id(x) for x in delivery_ids) if i]
        if not ids:
            raise ValidationError("请选择收文单位。")
        rows = rows.filter(pk__in=ids)
    deliveries = list(rows)
    if not deliveries:
        raise ValidationError("请选择收文单位。")
    # After the cut-over paper is the exception (notice §2): say why. A unit that is not
    # networked receives paper anyway.
    exception = copies and not sent.parallel_run and any(not d.paper for d in deliveries)
    if exception and not note:
        raise ValidationError("纸电并行期已结束，纸质发文属例外，请在说明中填写原因。")
    for d in deliveries:
        d.paper_copies, d.paper_sent_on = copies, day
        d.paper_note = note if copies else ""
        d.paper_recorded_by = actor if copies else None
    Delivery.objects.bulk_update(deliveries, ["paper_copies", "paper_sent_on", "paper_note",
                                              "paper_recorded_by"])
    record(actor, "exchange.paper_copies", sent.document, request=request,
           detail={"dispatch": sent.pk, "deliveries": [d.pk for d in deliveries],
                   "copies": copies, "sent_on": day.isoformat() if day else None,
                   "note": note, "exception": bool(exception)})
    return deliveries


@_verb
def record_paper_received(*, actor, delivery_id, received_on=None, request=None) -> Delivery:
    """The recipient's record that the paper copy of a delivery arrived."""
    delivery = _lock_delivery(object_id(delivery_id) or 0)
    _require(actor, Perm.RECEIVE, delivery, request=request)
    if delivery.paper_received_on is not None:
        return delivery  # a retry, or registered already through the mail room
    if delivery.state == DeliveryState.WITHDRAWN:
        raise conflict("该来文已被发文单位撤回，不再登记纸质件。")
    day = _day(received_on, what="纸质件收到日期")
    if day < timezone.localdate(delivery.dispatched_at) - dt.timedelta(days=30):
        raise ValidationError("纸质件收到日期与电子件分发日期相差过大，请核对。")
    delivery.paper_received_on, delivery.paper_received_by = day, actor
    delivery.save(update_fields=["paper_received_on", "paper_received_by"])
    record(actor, "exchange.paper_received", delivery, request=request,
           detail={"received_on": day.isoformat()})
    return delivery


def _match(unit_id: int, sender_id: int, number: DocNumber | None, title: str
           ) -> Delivery | None:
    """The electronic delivery to ``unit_id`` from ``sender_id`` that a paper document with
    this 发文字号 (or, without one, this exact title) is the copy of."""
    candidates = (Delivery.objects.select_for_update(of=("self",))
                  .filter(recipient_unit_id=unit_id, dispatch__sender_unit_id=sender_id)
                  .exclude(state=DeliveryState.WITHDRAWN)
                  .select_related("dispatch__document").order_by("-dispatched_at", "-id"))
    if number is not None:
        return candidates.filter(dispatch__document__number_code=number.agency_code,
                                 dispatch__document__number_year=number.year,
                                 dispatch__document__number_serial=number.serial).first()
    return candidates.filter(dispatch__document__title=title).first()


def _is_copy_of(arrival: PaperArrival, doc) -> bool:
    """Whether the paper registered in ``arrival`` is a copy of ``doc``: by 发文字号, or by
    the exact title when none was typed (as ``_match``)."""
    if arrival.doc_number:
        number = parse_number(arrival.doc_number)
        return (number.agency_code, number.year, number.serial) == (
            doc.number_code, doc.number_year, doc.number_serial)
    return arrival.title == doc.title


def match_waiting(dispatch_ids: list[int]) -> int:
    """``match_waiting_arrivals`` for each dispatch of a stack, after one cheap look for
    any paper waiting at all (after the roll-out, almost never)."""
    if not PaperArrival.objects.filter(delivery__isnull=True).exists():
        return 0
    return sum(match_waiting_arrivals(i) for i in dispatch_ids)


def match_waiting_arrivals(dispatch_id: int) -> int:
    """Paper registered before its electronic copy was dispatched (it often comes the same
    morning) is matched once the dispatch exists: the arrival becomes 已与电子件对应, the
    delivery's paper is received, and a sender that was told 不予受理 is told the request
    is accepted after all (QA: the refusal stood, and the mail room had to register the
    paper twice). Run after every dispatch by the background fan-out; idempotent."""
    sent = Dispatch.objects.select_related("document").get(pk=dispatch_id)
    oldest = timezone.localdate() - dt.timedelta(days=MAX_AGE_DAYS)
    waiting = [a for a in PaperArrival.objects.filter(
        sender_unit_id=sent.sender_unit_id, delivery__isnull=True, received_on__gte=oldest,
        unit_id__in=sent.deliveries.values("recipient_unit_id")) if _is_copy_of(a, sent.document)]
    matched = 0
    for candidate in waiting:
        with transaction.atomic():
            arrival = PaperArrival.objects.select_for_update().get(pk=candidate.pk)
            delivery = (Delivery.objects.select_for_update()
                        .filter(dispatch=sent, recipient_unit_id=arrival.unit_id)
                        .exclude(state=DeliveryState.WITHDRAWN).first())
            if arrival.delivery_id is not None or delivery is None:
                continue
            refused = arrival.outcome == PaperArrival.Outcome.REFUSED
            arrival.delivery, arrival.outcome = delivery, PaperArrival.Outcome.MATCHED
            arrival.save(update_fields=["delivery", "outcome"])
            if delivery.paper_received_on is None:
                delivery.paper_received_on = arrival.received_on
                delivery.paper_received_by_id = arrival.by_id
                delivery.save(update_fields=["paper_received_on", "paper_received_by"])
            record(None, "exchange.paper_matched", arrival, unit=arrival.unit,
                   detail={"delivery": delivery.pk, "was": "refused" if refused else "recorded"})
            if refused:
                _notify_unit(sent.sender_unit_id, Notification.Kind.PAPER_MATCHED,
                             f"{arrival.unit.name}此前登记的纸质件《{arrival.title}》已与贵单位"
                             "报送的电子件对应，予以受理；此前“不予受理”的通知作废。",
                             reverse("web:dispatch", args=[sent.pk]),
                             f"paper_matched:{arrival.pk}")
            matched += 1
    return matched


def _prior_arrival(actor, key) -> PaperArrival | None:
    prior = PaperArrival.objects.filter(idempotency_key=key).first()
    if prior is not None and prior.unit_id != actor.unit_id:
        raise key_reused()
    return prior


@_verb
def register_arrival(*, actor, sender_unit_id, title: str, doc_number: str = "",
                     is_request: bool = False, received_on=None, note: str = "", key,
                     request=None) -> PaperArrival:
    """纸质来文登记 of the actor's unit (see the module docstring)."""
    _require(actor, Perm.RECEIVE, request=request)
    key = _key(key)
    if (prior := _prior_arrival(actor, key)) is not None:
        return prior
    sender = Unit.objects.filter(pk=object_id(sender_unit_id)).first()
    if sender is None:
        raise ValidationError("请选择来文单位。")
    if sender.pk == actor.unit_id:
        raise ValidationError("来文单位不能是本单位。")
    title = (title or "").strip()[:200]
    if not title:
        raise ValidationError("请填写来文标题。")
    number = parse_number(doc_number)
    number_text = str(number) if number else ""
    day = _day(received_on, what="收到日期")
    if day < timezone.localdate() - dt.timedelta(days=MAX_AGE_DAYS):
        raise ValidationError(f"收到日期早于 {MAX_AGE_DAYS} 天前，请核对。")
    now = timezone.now()
    delivery = _match(actor.unit_id, sender.pk, number, title)
    if delivery is not None:
        outcome = PaperArrival.Outcome.MATCHED
        if delivery.paper_received_on is None:
            delivery.paper_received_on, delivery.paper_received_by = day, actor
            delivery.save(update_fields=["paper_received_on", "paper_received_by"])
    elif is_request and rollout.Scope(day).accepts_request(sender, actor.unit):
        # 如只上报纸质文件，市政府办公室原则上不再受理 (notice §2): only where the platform
        # would have taken it (a unit not networked, or a request outside the phase's
        # scope, has no electronic way and its paper is recorded).
        outcome = PaperArrival.Outcome.REFUSED
    else:
        outcome = PaperArrival.Outcome.RECORDED
    try:
        with transaction.atomic():
            arrival = PaperArrival.objects.create(
                unit_id=actor.unit_id, sender_unit=sender, title=title, doc_number=number_text,
                is_request=bool(is_request), received_on=day, outcome=outcome,
                delivery=delivery, note=(note or "").strip()[:300], by=actor, at=now,
                idempotency_key=key)
    except IntegrityError:  # a concurrent retry with the same key was first
        if (prior := _prior_arrival(actor, key)) is not None:
            return prior
        raise
    record(actor, "exchange.paper_arrival", arrival, request=request,
           detail={"sender": sender.pk, "title": title, "doc_number": number_text,
                   "is_request": bool(is_request), "outcome": outcome,
                   "delivery": delivery.pk if delivery else None})
    if outcome == PaperArrival.Outcome.REFUSED:
        label = f"《{title}》" + (f"（{number_text}）" if number_text else "")
        _notify_unit(sender.pk, Notification.Kind.PAPER_ONLY,
                     f"{actor.unit.name}收到贵单位只以纸质报送的请示{label}，按规定不予受理，"
                     "请通过平台报送电子件（同时报送纸质件）。",
                     reverse("web:drafts"), f"paper_only:{arrival.pk}")
    return arrival
