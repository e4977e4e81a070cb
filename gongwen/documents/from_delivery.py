"""Drafts a unit starts from a delivery it received: 转发 (``forwarding``) and 答复
(``replies``). Both verbs start alike: the drafting checks and the replay of a used key
(``services.new_draft_key``, shared with every new draft), then the delivery the actor's
unit received, and they save through ``services.save_new_draft``.

``link`` names the ``OfficialDocument`` field that records the delivery the draft came from
(``forwards`` or ``answers``); a key is only replayed for the same actor and delivery.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from gongwen.audit.services import record
from gongwen.policy.permissions import Perm
from gongwen.policy.verbs import AuditedRefusal, require_in_verb

from .models import OfficialDocument
from .services import new_draft_key

#: The longest title a document may have (its column).
TITLE_MAX = OfficialDocument._meta.get_field("title").max_length


def fitted_title(head: str, core: str, tail: str) -> str:
    """``head + core + tail`` within ``TITLE_MAX``: a long ``core`` (the received
    document's title) is cut, with "…", so that ``head`` and ``tail`` (关于转发《 … 》的通知,
    关于 … 的批复) stay whole."""
    room = TITLE_MAX - len(head) - len(tail)
    if len(core) > room:
        core = core[: room - 1] + "…"
    return f"{head}{core}{tail}"


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
    key, prior = new_draft_key(actor, idempotency_key, link=link, target=delivery_id,
                               request=request)
    if prior is not None:
        return key, prior, None
    return key, None, received(actor, delivery_id, request=request)


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
