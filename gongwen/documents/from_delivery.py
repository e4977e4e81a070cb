"""Drafts a unit starts from a delivery it received: 转发 (``forwarding``) and 答复
(``replies``). Both verbs share the entry checks, the idempotent replay of a retried key and
the race of two requests with one key, so the rules live here once.

``link`` names the ``OfficialDocument`` field that records the delivery the draft came from
(``forwards`` or ``answers``); a key is only replayed for the same actor and delivery.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from gongwen.audit.services import record
from gongwen.policy.errors import key_reused
from gongwen.policy.permissions import Perm
from gongwen.policy.verbs import AuditedRefusal, require_in_verb
from gongwen.units.models import UnitState

from .models import OfficialDocument
from .services import _uuid


class Refused(PermissionDenied, AuditedRefusal):
    """The delivery cannot start this draft. ``why`` is a stable code, ``message_zh`` is for
    the user; the refusal is audited as ``action`` (set by each verb's subclass)."""

    action = ""

    def __init__(self, message_zh: str, why: str, *, actor, delivery, request) -> None:
        super().__init__(message_zh)
        self.message_zh, self.why = message_zh, why
        self.actor, self.delivery, self.request = actor, delivery, request

    def audit(self) -> None:
        record(self.actor, self.action, self.delivery.dispatch.document,
               detail={"delivery": self.delivery.pk, "why": self.why}, request=self.request,
               target_repr=f"送达 #{self.delivery.pk}")


def start(actor, idempotency_key, link: str, delivery_id, *, request=None):
    """The entry of a verb: (key, prior, None) on a retry — the caller answers with
    ``prior`` — else (key, None, the received delivery)."""
    key, prior = replay(actor, idempotency_key, link, delivery_id, request=request)
    if prior is not None:
        return key, prior, None
    return key, None, received(actor, delivery_id, request=request)


def replay(actor, idempotency_key, link: str, delivery_id, *, request=None
           ) -> tuple[str | None, OfficialDocument | None]:
    """Checks the actor may draft for an in-service unit; returns the parsed key and, on a
    retry, the draft the key already made (refused when it was for someone or something
    else)."""
    require_in_verb(actor, Perm.DRAFT, request=request)
    if not actor.unit_id or actor.unit.state != UnitState.ACTIVE:
        raise ValidationError("您没有所属的在册单位，不能起草公文。")
    key = _uuid(idempotency_key)
    if key and (prior := OfficialDocument.objects.filter(idempotency_key=key).first()):
        return key, _same(prior, actor, link, delivery_id)
    return key, None


def _same(prior: OfficialDocument, actor, link: str, delivery_id) -> OfficialDocument:
    if prior.created_by_id != actor.pk or str(getattr(prior, f"{link}_id")) != str(delivery_id):
        raise key_reused()
    return prior


def received(actor, delivery_id, *, request=None):
    """The delivery, with its dispatch and document, if the actor's unit received it; to
    anyone else it does not exist (404), and the refusal of the permission is audited."""
    from gongwen.exchange.models import Delivery

    try:
        delivery = (Delivery.objects.select_related("dispatch", "dispatch__document",
                                                    "dispatch__document__unit",
                                                    "dispatch__sender_unit", "recipient_unit")
                    .get(pk=int(delivery_id)))
    except (Delivery.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该来文。") from None
    require_in_verb(actor, Perm.RECEIVE, delivery, request=request)
    return delivery


def save_draft(doc: OfficialDocument, actor, key, link: str) -> tuple[OfficialDocument, bool]:
    """Saves the new draft: (doc, True); or, when a concurrent retry with the same key saved
    first, (that draft, False) and the caller adds nothing to it."""
    try:
        with transaction.atomic():
            doc.save()
    except IntegrityError:
        if key and (prior := OfficialDocument.objects.filter(idempotency_key=key).first()):
            return _same(prior, actor, link, getattr(doc, f"{link}_id")), False
        raise
    return doc, True
