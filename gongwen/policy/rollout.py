"""The roll-out scope in force on a day (R-POLICY-1) and the paper parallel run (R-POLICY-2).

``Scope`` is the one rule: the phase in force on a day (``_current``), and what it lets
through. The submit and dispatch verbs ask ``Scope.require`` (an audited ``OutOfScope``
when a document may not go through the platform that day); ``phase_on``,
``parallel_run_on`` and ``scope_refusal`` are its one-call forms. ``save_phase`` and
``delete_phase`` are the operator's verbs; both are audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from gongwen.audit.services import record

from .errors import object_id
from .models import RolloutPhase
from .permissions import Perm
from .verbs import AuditedRefusal, require_in_verb, verb


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class PhaseRow:
    """A phase with the last day it is in force (the day before the next one starts)."""

    phase: RolloutPhase
    ends_on: dt.date | None
    current: bool


def phase_rows(on: dt.date | None = None) -> list[PhaseRow]:
    day = on or timezone.localdate()
    phases = list(RolloutPhase.objects.prefetch_related("senders", "request_recipients")
                  .order_by("starts_on"))
    current = _current(phases, day)
    return [PhaseRow(p, (phases[n + 1].starts_on - dt.timedelta(days=1)
                         if n + 1 < len(phases) else None), p is current)
            for n, p in enumerate(phases)]


def _current(phases: list[RolloutPhase], day: dt.date) -> RolloutPhase | None:
    started = [p for p in phases if p.starts_on <= day]
    return started[-1] if started else None


def _names(units) -> str:
    return "、".join(u.name for u in units)


def scope_description(phase: RolloutPhase) -> str:
    """The phase's transmission scope in the words of the notice."""
    if phase.all_documents:
        return "所有发文单位的所有文件（密级文件除外）"
    parts = []
    senders = list(phase.senders.all())
    if senders:
        parts.append(f"以{_names(senders)}名义的发文")
    if phase.allow_forwarding:
        parts.append("转发的国家、省相关文件")
    recipients = list(phase.request_recipients.all())
    if recipients:
        parts.append(f"各联网单位上报{_names(recipients)}的请示")
    text = "；".join(parts) or "无"
    if phase.networked_only:
        text = "已联网单位的" + text
    return text


def is_forwarding(doc) -> bool:
    """转发 of a 国家、省相关文件: the document forwards a delivery that a provincial-level unit
    sent (documents.forwarding). An uploaded PDF/OFD body does not count by itself: its
    issuer is only a claim, and counting it would let any unit send anything in phase 1."""
    from gongwen.units.models import Level

    if doc.forwards_id is None:
        return False
    return doc.forwards.dispatch.sender_unit.level == Level.PROVINCE


def _main_unit_ids(doc) -> list[int | None]:
    """One entry per 主送 row: its unit id, or None for a group or a typed-in name."""
    from gongwen.documents.models import Recipient

    return [r.unit_id if r.group_id is None else None
            for r in doc.recipients_of(Recipient.Role.MAIN)] + (
        [None] if (doc.main_recipients_text or "").strip() else [])


class OutOfScope(ValidationError, AuditedRefusal):
    """A document outside the phase in force; the refusal is audited (``verb`` writes the
    row after the refused work rolled back; a dispatch stack writes it itself)."""

    def __init__(self, message_zh: str, *, stage: str, actor, doc, phase, request) -> None:
        super().__init__(message_zh, code="out_of_scope")
        self.stage, self.actor, self.doc, self.request = stage, actor, doc, request
        self.phase_name = phase.name if phase is not None else None

    def audit(self) -> None:
        record(self.actor, "policy.out_of_scope", self.doc, request=self.request,
               detail={"stage": self.stage, "phase": self.phase_name,
                       "reason": self.messages[0]})


class Scope:
    """The roll-out rule of one day, read once (a dispatch stack asks it per document)."""

    def __init__(self, on: dt.date | None = None) -> None:
        self.day = on or timezone.localdate()
        self.phases = list(RolloutPhase.objects.prefetch_related("senders", "request_recipients")
                           .order_by("starts_on"))
        self.phase = _current(self.phases, self.day)
        if self.phase is not None:
            self._senders = {u.pk for u in self.phase.senders.all()}
            self._request_to = {u.pk for u in self.phase.request_recipients.all()}

    @property
    def parallel_run(self) -> bool:
        return bool(self.phase and self.phase.paper_parallel)

    def refusal(self, doc) -> str | None:
        """Why ``doc`` may not go through the platform on this day, or None (R-POLICY-1)."""
        from gongwen.documents.models import DocType

        if not self.phases:
            return None
        phase = self.phase
        if phase is None:
            return (f"公文无纸化传输自{cn_date(self.phases[0].starts_on)}起实行，"
                    "在此之前请以纸质方式发文。")
        if phase.all_documents:
            return None
        unit = doc.unit
        out_of_scope = (f"{phase.name}（{cn_date(phase.starts_on)}起）的传输范围为："
                        f"{scope_description(phase)}。")
        if phase.networked_only and not unit.networked:
            return f"{out_of_scope}{unit.name}尚未联网，请以纸质方式发文。"
        if unit.pk in self._senders:
            return None
        if phase.allow_forwarding and is_forwarding(doc):
            return None
        if doc.doc_type == DocType.REQUEST:
            main = _main_unit_ids(doc)
            if main and all(uid in self._request_to for uid in main):
                return None
        return f"{out_of_scope}本公文不在此范围内，请以纸质方式发文。"

    def require(self, doc, *, stage: str, actor, request=None) -> None:
        """Raise :class:`OutOfScope` when ``doc`` may not go through the platform."""
        if refusal := self.refusal(doc):
            raise OutOfScope(refusal, stage=stage, actor=actor, doc=doc, phase=self.phase,
                             request=request)

    def accepts_request(self, sender, recipient) -> bool:
        """Whether a 请示 from ``sender`` to ``recipient`` could go through the platform on
        this day: only then is a paper-only one refused (R-FLOW-4)."""
        phase = self.phase
        if phase is None or not sender.networked:
            return False
        return (phase.all_documents or sender.pk in self._senders
                or recipient.pk in self._request_to)

    def unit_scope(self, unit) -> str:
        """What ``unit`` may send through the platform on this day (R-UNIT-1's phase scope)."""
        if not self.phases:
            return "未配置推行阶段，不限制传输范围（密级文件除外）"
        phase = self.phase
        if phase is None:
            return f"公文无纸化传输尚未开始（{cn_date(self.phases[0].starts_on)}起实行）"
        head = f"{phase.name}（{cn_date(phase.starts_on)}起）："
        if phase.all_documents:
            return head + "本单位的所有文件均可通过平台传输（密级文件除外）"
        if phase.networked_only and not unit.networked:
            return head + "本单位未联网，不能通过平台发文"
        parts = []
        if unit.pk in self._senders:
            parts.append("以本单位名义的发文")
        if phase.allow_forwarding:
            parts.append("转发的国家、省相关文件")
        superiors = [u for u in phase.request_recipients.all() if u.pk != unit.pk]
        if superiors:
            parts.append(f"向{_names(superiors)}上报的请示")
        return head + ("可通过平台传输" + "；".join(parts) if parts else "本单位不能通过平台发文")


def scope_refusal(doc, *, on: dt.date | None = None) -> str | None:
    return Scope(on).refusal(doc)


def phase_on(on: dt.date | None = None) -> RolloutPhase | None:
    """The phase in force on ``on`` (today), or None before the first or without phases."""
    return Scope(on).phase


def parallel_run_on(on: dt.date | None = None) -> bool:
    """纸电并行: outgoing documents also go on paper, requests are reported both ways."""
    return Scope(on).parallel_run


# -- the operator's verbs ---------------------------------------------------------------------
PHASE_FIELDS = ("name", "starts_on", "all_documents", "networked_only", "allow_forwarding",
                "paper_parallel", "note")


def _snapshot(phase: RolloutPhase) -> dict:
    data = {name: getattr(phase, name) for name in PHASE_FIELDS}
    data["starts_on"] = phase.starts_on.isoformat()
    data["senders"] = sorted(phase.senders.values_list("pk", flat=True))
    data["request_recipients"] = sorted(phase.request_recipients.values_list("pk", flat=True))
    return data


def _units(ids) -> list[int]:
    """Unit ids from user input: every one must be a unit in service."""
    from gongwen.units.models import Unit, UnitState

    wanted = {object_id(i) for i in ids or ()}
    found = set(Unit.objects.filter(pk__in=[i for i in wanted if i], state=UnitState.ACTIVE)
                .values_list("pk", flat=True))
    if wanted != found:
        raise ValidationError("所选单位不存在或已撤销。")
    return sorted(found)


@verb
def save_phase(*, actor, phase_id=None, data: dict, senders=(), request_recipients=(),
               request=None) -> RolloutPhase:
    """Create or change a phase. Saving the same values again changes nothing but the audit
    trail, so a retried form is harmless."""
    require_in_verb(actor, Perm.MANAGE_POLICY, request=request)
    senders, request_recipients = _units(senders), _units(request_recipients)
    if phase_id is not None:
        phase = RolloutPhase.objects.select_for_update().filter(pk=object_id(phase_id)).first()
        if phase is None:
            raise ValidationError("未找到该推行阶段。")
        before = _snapshot(phase)
    else:
        phase, before = RolloutPhase(), None
    for name in PHASE_FIELDS:
        if name in data:
            setattr(phase, name, data[name])
    phase.name = (phase.name or "").strip()
    if not phase.name:
        raise ValidationError("请填写阶段名称。")
    if not isinstance(phase.starts_on, dt.date):
        raise ValidationError("请填写起始日期。")
    clash = RolloutPhase.objects.filter(starts_on=phase.starts_on).exclude(pk=phase.pk).first()
    if clash:
        raise ValidationError(f"{cn_date(phase.starts_on)}已有推行阶段“{clash.name}”。")
    phase.updated_by = actor
    try:
        with transaction.atomic():
            phase.save()
    except IntegrityError:  # a concurrent save took the day between the check and here
        raise ValidationError(f"{cn_date(phase.starts_on)}已有推行阶段。") from None
    phase.senders.set(senders)
    phase.request_recipients.set(request_recipients)
    record(actor, "policy.phase_saved", phase, request=request,
           detail={"before": before, "after": _snapshot(phase)})
    return phase


@verb
def delete_phase(*, actor, phase_id, request=None) -> bool:
    """Remove a phase; deleting one that is gone already is not an error (a retry)."""
    require_in_verb(actor, Perm.MANAGE_POLICY, request=request)
    phase = RolloutPhase.objects.select_for_update().filter(pk=object_id(phase_id)).first()
    if phase is None:
        return False
    before = _snapshot(phase)
    record(actor, "policy.phase_deleted", phase, request=request, detail={"before": before})
    phase.delete()
    return True
