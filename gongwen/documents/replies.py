"""答复: a unit answers a 请示 it received with a 批复, or a 函 with a 复函 (R-FLOW-4's other
half: the request goes up, the answer comes back down through the platform).

:func:`reply_to_delivery` is one verb in one transaction: the clerk of the receiving unit
(draft permission, server-checked) starts the answer as a draft of the unit —

* 文种 批复 for a 请示, 函 for a 函;
* 标题 from the request's: "关于申请防汛资金的请示" → "关于申请防汛资金的批复" ("…的函" →
  "…的复函"); any issuer named before "关于" is dropped, the unit's own header shows it;
* 主送 the asking unit, and the customary opening "你单位《…》（字号）收悉。经研究，现批复
  如下：" for the clerk to go on from;
* ``OfficialDocument.answers`` records the delivery it answers.

It then goes through 核批, 用印 and 分发 like any document. The asking unit sees the answer
on its request's 发文 page; the receiving unit's 收文 has a 待答复 tab of the requests it
signed for and has not yet sent an answer to (``open_requests``).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from gongwen.audit.services import record
from gongwen.policy.permissions import Perm, can
from gongwen.policy.verbs import verb
from gongwen.units.models import UnitState

from . import from_delivery
from .from_delivery import fitted_title
from .models import DocType, Issuer, NumberSeries, OfficialDocument, Recipient, State
from .services import save_new_draft

__all__ = ["ANSWERED_TYPES", "ReplyRefused", "answerable", "open_requests", "reply_body",
           "reply_title", "reply_to_delivery"]

# The received document's type → (the answer's type, the word in its title, the phrase
# that opens its body, its 发文字号 series). 《党政机关公文处理工作条例》 art. 8: 批复
# answers 请示; a 函 is answered by a 函 (复函). A 批复 is numbered in the unit's 复 series
# (连政办复〔2026〕3号), a 复函 in its 函 series.
ANSWERED_TYPES = {
    DocType.REQUEST: (DocType.REPLY, "批复", "现批复如下：", NumberSeries.PI),
    DocType.LETTER: (DocType.LETTER, "复函", "现函复如下：", NumberSeries.HAN),
}
_SUFFIXES = ("的请示", "的复函", "的函")


class ReplyRefused(from_delivery.Refused):
    """The delivery cannot be answered here (not a 请示/函, not signed for)."""

    action = "document.reply_refused"


def reply_title(title: str, doc_type: str) -> str:
    """The answer's title from the request's (see the module docstring)."""
    word = ANSWERED_TYPES[doc_type][1]
    core = (title or "").strip()
    if "关于" in core:
        core = core[core.index("关于") + 2:]
    for suffix in _SUFFIXES:
        if core.endswith(suffix) and len(core) > len(suffix):
            core = core[: -len(suffix)]
            break
    else:
        # The request's title is quoted whole; when cut, the quotation still closes.
        return fitted_title("关于《", core, f"》的{word}") if core else f"关于{word}"
    return fitted_title("关于", core, f"的{word}")


def reply_body(title: str, doc_number: str, doc_type: str) -> str:
    number = f"（{doc_number}）" if doc_number else ""
    return f"你单位《{title}》{number}收悉。经研究，{ANSWERED_TYPES[doc_type][2]}"


def answerable(user, delivery) -> bool:
    """Whether the 答复 button is offered: the receiving unit's clerk with draft permission,
    on a signed 请示 or 函 addressed to it as 主送 that is not itself an answer. The verb
    checks all of it again."""
    return (delivery.state == "signed" and delivery.role == "main"
            and delivery.dispatch.document.doc_type in ANSWERED_TYPES
            and not delivery.dispatch.document.answers_id
            and delivery.recipient_unit_id == getattr(user, "unit_id", None)
            and can(user, Perm.DRAFT) and can(user, Perm.RECEIVE, delivery))


@verb
def reply_to_delivery(*, actor, delivery_id: int, idempotency_key=None, request=None
                      ) -> OfficialDocument:
    """答复: a new draft of the actor's unit answering the received ``delivery_id`` (see the
    module docstring). A retry with the same key returns the first draft."""
    from gongwen.exchange.models import DeliveryState

    key, prior, delivery = from_delivery.start(actor, idempotency_key, "answers", delivery_id,
                                               request=request)
    if prior is not None:
        return prior
    original = delivery.dispatch.document

    def refuse(message: str, why: str) -> ReplyRefused:
        return ReplyRefused(message, why, actor=actor, delivery=delivery, request=request)

    if original.doc_type not in ANSWERED_TYPES:
        raise refuse(f"只有请示和函需要答复；该来文是{original.get_doc_type_display()}。",
                     "not_a_request")
    if original.answers_id:
        raise refuse("该来文本身是批复或复函，无需再答复。", "is_an_answer")
    if delivery.role != delivery.Role.MAIN:
        raise refuse("本单位是该来文的抄送单位，由主送机关答复。", "copy_only")
    if delivery.state != DeliveryState.SIGNED:
        raise refuse(f"该来文当前状态为“{delivery.get_state_display()}”，签收后才能答复。",
                     "not_signed")
    answer_type, _word, _opening, series = ANSWERED_TYPES[original.doc_type]
    doc = OfficialDocument(
        unit=actor.unit, created_by=actor, idempotency_key=key, answers=delivery,
        doc_type=answer_type, number_series=series,
        title=reply_title(original.title, original.doc_type),
        body=[{"heading": "", "level": 0,
               "text": reply_body(original.title, original.doc_number, original.doc_type)}])
    doc, created = save_new_draft(doc, actor, key, link="answers", target=delivery.pk)
    if not created:
        return doc
    Issuer.objects.create(document=doc, unit=doc.unit, position=0)
    asking = delivery.dispatch.sender_unit
    if asking.state == UnitState.ACTIVE:  # a unit since closed is not offered as 主送
        Recipient.objects.create(document=doc, role=Recipient.Role.MAIN, position=0,
                                 unit=asking)
    record(actor, "document.reply_started", doc, request=request,
           detail={"delivery": delivery.pk, "original": original.pk,
                   "original_number": original.doc_number, "asking_unit": asking.pk})
    return doc


def answers_of(delivery) -> QuerySet[OfficialDocument]:
    """The answers the receiving unit started for ``delivery``, oldest first."""
    return delivery.answered_by.order_by("created_at", "id")


def _held_answers(**which) -> QuerySet:
    """Deliveries of answers the asking unit holds: not withdrawn, not returned."""
    from gongwen.exchange.models import PENDING_STATES, Delivery, DeliveryState

    return Delivery.objects.filter(state__in=[*PENDING_STATES, DeliveryState.SIGNED], **which)


def open_requests(deliveries: QuerySet) -> QuerySet:
    """Of ``deliveries``, the signed 请示 and 函 received as 主送 (not themselves answers)
    that are still waiting (待答复): answered means the asking unit holds an answer — a
    delivery to it of a document that answers the request, not withdrawn and not returned.
    A draft, an answer in approval or sealing, one withdrawn from the asker or sent without
    it, do not count; the correction of a withdrawn answer answers the same request."""
    from gongwen.exchange.models import Delivery, DeliveryState

    held = _held_answers(dispatch__document__answers=OuterRef("pk"),
                         recipient_unit=OuterRef("dispatch__sender_unit"))
    return (deliveries.filter(state=DeliveryState.SIGNED, role=Delivery.Role.MAIN,
                              dispatch__document__doc_type__in=list(ANSWERED_TYPES),
                              dispatch__document__answers__isnull=True)
            .exclude(Exists(held)))


def unanswered(dispatches: QuerySet) -> QuerySet:
    """The asking side of ``open_requests``: of ``dispatches``, the 请示 and 函 (not
    themselves answers) for which the sending unit holds no answer yet (发文 → 待答复)."""
    held = _held_answers(dispatch__document__answers__dispatch=OuterRef("pk"),
                         recipient_unit=OuterRef("sender_unit"))
    return (dispatches.filter(document__doc_type__in=list(ANSWERED_TYPES),
                              document__answers__isnull=True)
            .exclude(document__state=State.WITHDRAWN).exclude(Exists(held)))


# -- read side ---------------------------------------------------------------------------------
def answered_request(user, doc: OfficialDocument) -> dict | None:
    """答复来文 of an answer, for the two parties only (the answering unit, with its delivery
    of the request, and the asking unit, with its dispatch); None for anyone else — a 抄送
    recipient of the answer learns nothing of the request from the platform."""
    from gongwen.exchange.models import Delivery

    if not doc.answers_id:
        return None
    # One query for the request, its dispatch and the asking unit (not one per hop).
    d = (Delivery.objects.select_related("dispatch__document", "dispatch__sender_unit")
         .get(pk=doc.answers_id))
    sent = d.dispatch
    facts = {"delivery_id": d.pk if d.recipient_unit_id == user.unit_id else None,
             "dispatch_id": sent.pk if sent.sender_unit_id == user.unit_id else None}
    if not (facts["delivery_id"] or facts["dispatch_id"]):
        return None
    return {**facts, "title": sent.document.title, "doc_number": sent.document.doc_number,
            "asking_unit": sent.sender_unit.name}


def answers_received(user, dispatch) -> QuerySet:
    """The asking unit's view of its request: the answers sent back to it, as its own
    deliveries of them (an answer that does not name the asking unit is none of its
    business)."""
    from gongwen.exchange.models import Delivery

    if not user.unit_id:
        return Delivery.objects.none()
    return (Delivery.objects.filter(recipient_unit_id=user.unit_id,
                                    dispatch__document__answers__dispatch=dispatch)
            .select_related("dispatch", "dispatch__document", "dispatch__sender_unit")
            .order_by("dispatched_at", "id"))
