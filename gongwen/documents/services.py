"""Verbs on official documents (R-DOC-1, R-DOC-4, R-DOC-5, R-FLOW-1). One verb, one transaction,
one audit row, the permission layer asked first.

Refusals that must leave a trace even though nothing changes — a classified document
(``document.classified_refused``) or a permission denial — are written after the work of the
verb has been rolled back, in the same outer transaction, and the error is raised once that
transaction has committed (``_verb``).

发文字号 (``assign_number``) comes from a counter row per (unit, series, year) locked with
SELECT … FOR UPDATE inside the approval transaction: approvals of one unit and series queue on
that row, so numbers are consecutive and unique, and an approval that rolls back gives its
number back (no gap).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from gongwen.audit.services import record
from gongwen.policy import rollout
from gongwen.policy.errors import key_reused, object_id, parse_key, replayed
from gongwen.policy.permissions import Perm
from gongwen.policy.verbs import AuditedRefusal, require_in_verb, verb
from gongwen.units.models import RecipientGroup, Unit, UnitState

from . import blobs, characters, classification, rendering, upload
from .models import (
    EDITABLE_STATES,
    UPWARD_TYPES,
    Action,
    Attachment,
    BodySource,
    DocType,
    Issuer,
    NumberCounter,
    NumberSeries,
    OfficialDocument,
    Recipient,
    Review,
    State,
    Urgency,
    Variant,
    format_doc_number,
    local_today,
)

__all__ = [
    "DRAFT_FIELDS",
    "ClassifiedRefused",
    "add_attachment",
    "approve",
    "assign_number",
    "character_problems",
    "check_classification",
    "create_draft",
    "document_verb",
    "guard_dispatch",
    "move_attachment",
    "parse_body",
    "remove_attachment",
    "remove_body_file",
    "return_with_comments",
    "set_body_file",
    "submit",
    "unsaved_document",
    "update_draft",
    "withdraw",
]

# Plain fields a draft form may set (relations have their own keyword arguments).
DRAFT_FIELDS = ("doc_type", "variant", "copy_number", "secrecy", "secrecy_period", "urgency",
                "mark_text", "number_series", "signers", "title", "main_recipients_text",
                "body", "signature_text", "date", "note", "copy_to_text", "printer",
                "print_date")
RELATION_FIELDS = ("co_issuers", "main_units", "main_groups", "copy_units", "copy_groups")
# The draft fields that may hold line breaks (_typeset_elements says why).
MULTILINE_FIELDS = frozenset({"title", "body"})
MAX_ATTACHMENTS = 50

log = logging.getLogger(__name__)


class ClassifiedRefused(ValidationError, AuditedRefusal):
    """A classified document or file (R-DOC-5). ``finding`` says what and where."""

    def __init__(self, finding: classification.ClassificationFinding, *, stage: str,
                 actor=None, target=None, request=None, filename: str = "") -> None:
        super().__init__(finding.message_zh, code="classified")
        self.finding = finding
        self.stage = stage
        self.actor = actor
        self.target = target
        self.request = request
        self.filename = filename

    def audit(self) -> None:
        target = self.target if getattr(self.target, "pk", None) else None
        record(self.actor, "document.classified_refused", target,
               detail={"stage": self.stage, "filename": self.filename,
                       **self.finding.as_detail()}, request=self.request)


class _Rejected(ValidationError, AuditedRefusal):
    """An upload refused by ``upload.inspect_file``: audited like a classified one."""

    def __init__(self, exc: upload.UploadRejected, *, actor, target, request, filename: str):
        super().__init__(exc.message_zh, code="upload_rejected")
        self.reason = exc.reason
        self.actor, self.target, self.request, self.filename = actor, target, request, filename

    def audit(self) -> None:
        target = self.target if getattr(self.target, "pk", None) else None
        record(self.actor, "document.upload_refused", target,
               detail={"reason": self.reason, "filename": self.filename},
               request=self.request)


_verb = verb


# Public for the verbs of later issues (sealing, dispatch) that must audit a refusal even
# though their work is rolled back: decorate the verb with ``document_verb`` and call
# ``guard_dispatch`` inside it.
document_verb = _verb


def guard_dispatch(doc: OfficialDocument, *, actor, request=None) -> None:
    """The classification guard at dispatch (R-DOC-5): every element and the text of every
    uploaded file, re-read from the blob store. Raises ClassifiedRefused; inside a
    ``document_verb`` the refusal is audited as ``document.classified_refused``."""
    finding = check_classification(doc, include_files=True)
    if finding:
        raise ClassifiedRefused(finding, stage="dispatch", actor=actor, target=doc,
                                request=request)


_require = require_in_verb


def _lock(doc_id: int) -> OfficialDocument:
    try:
        return OfficialDocument.objects.select_for_update(of=("self",)).select_related("unit") \
            .get(pk=doc_id)
    except (OfficialDocument.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该公文。") from None


# -- body -------------------------------------------------------------------------------------
def parse_body(text: str) -> list[dict[str, Any]]:
    """Plain text (one paragraph per line) to structured paragraphs with heading levels
    一、 （一） 1. （1） (GB/T 9704-2012 7.3.3), using the core's parser."""
    from .gbt9704.model import body_from_text

    return [{"heading": p.heading, "text": p.text, "level": int(p.level)}
            for p in body_from_text(text or "")]


def _clean_body(value) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return parse_body(characters.tidy(value, multiline=True))
    out = []
    for item in value or []:
        if not isinstance(item, dict):
            raise ValidationError("正文格式不正确。")
        level = item.get("level", 0)
        if not isinstance(level, int) or not 0 <= level <= 4:
            raise ValidationError("正文段落层级应为 0 至 4。")
        heading = characters.tidy(str(item.get("heading", "")), multiline=True)
        text = characters.tidy(str(item.get("text", "")), multiline=True)
        if heading or text:
            out.append({"heading": heading, "text": text, "level": level})
    return out


def _body_plain(body: Iterable[dict[str, Any]]) -> str:
    return "\n".join(p.get("heading", "") + p.get("text", "") for p in body or [])


# -- classification ---------------------------------------------------------------------------
def _document_texts(doc: OfficialDocument, attachments: Iterable[Attachment] = ()
                    ) -> list[tuple[str, str]]:
    texts = [("标题", doc.title), ("正文", _body_plain(doc.body)),
             ("主送机关", doc.main_recipients_text), ("发文机关标志", doc.mark_text),
             ("发文机关署名", doc.signature_text), ("附注", doc.note),
             ("抄送机关", doc.copy_to_text), ("印发机关", doc.printer),
             ("份号", doc.copy_number), ("签发人", "、".join(doc.signers or []))]
    for att in attachments:
        texts.append((f"附件名称“{att.title}”", att.title))
        if att.body:
            texts.append((f"附件“{att.title}”", _body_plain(att.body)))
    return texts


def check_classification(doc: OfficialDocument, *, include_files: bool = False
                         ) -> classification.ClassificationFinding | None:
    """The guard over every element of ``doc`` (and, with ``include_files``, over the text of
    its uploaded body and attachment files, re-read from the blob store). Used at creation,
    on every save and by dispatch."""
    # .all(): a stack that prefetched the attachments (分发) reads no more rows here.
    attachments = (sorted(doc.attachments.all(), key=lambda a: (a.position, a.pk))
                   if doc.pk else [])
    finding = classification.check_document(
        secrecy=doc.secrecy, secrecy_period=doc.secrecy_period,
        texts=_document_texts(doc, attachments))
    if finding or not include_files:
        return finding
    files = []
    if doc.body_blob:
        files.append((f"正文文件“{doc.body_filename}”", doc.body_blob, doc.body_format))
    files += [(f"附件“{a.filename or a.title}”", a.blob, a.file_format)
              for a in attachments if a.blob]
    for source, digest, fmt in files:
        text = upload.extract_text(blobs.read(digest), fmt)
        finding = classification.find_mark(text, source=source)
        if finding:
            return finding
    return None


def _guard(doc: OfficialDocument, *, stage: str, actor, request) -> None:
    finding = check_classification(doc)
    if finding:
        raise ClassifiedRefused(finding, stage=stage, actor=actor, target=doc, request=request)
    # Not classified: a 密级 field that says so in words (无, 非密, 公开, 不涉密, as OA systems
    # send it) is stored empty, which is what the database allows (doc_never_classified).
    doc.secrecy = ""


# -- characters -------------------------------------------------------------------------------
def _typeset_elements(doc: OfficialDocument) -> list[characters.Element]:
    """The elements of ``doc`` itself that the layout sets (``rendering.to_core``)."""
    element = characters.Element
    # A line break in the title is the user's own break of a long title (layout).
    elements = [element("标题", doc.title, True), element("正文", _body_plain(doc.body), True),
                element("主送机关", doc.main_recipients_text),
                element("发文机关标志", doc.mark_text), element("发文机关署名", doc.signature_text),
                element("附注", doc.note), element("抄送机关", doc.copy_to_text),
                element("印发机关", doc.printer), element("份号", doc.copy_number)]
    elements += [element("签发人", s) for s in doc.signers or [] if isinstance(s, str)]
    if doc.body_source == BodySource.FILE:  # named in the body's placeholder line
        elements.append(element("正文文件名", doc.body_filename))
    return elements


def _related_elements(doc: OfficialDocument) -> list[characters.Element]:
    """What else the layout sets: attachments, and the names of the issuing and receiving
    units and groups (from the directory, or typed for a unit outside the platform)."""
    element = characters.Element
    elements = []
    for n, att in enumerate(doc.ordered_attachments(), start=1):
        elements.append(element(f"附件{n}名称", att.title))
        if att.body:
            elements.append(element(f"附件{n}正文", _body_plain(att.body), True))
        if att.blob:  # named in the attachment's placeholder line
            elements.append(element(f"附件{n}文件名", att.filename))
    elements += [element("发文机关", name) for name in doc.issuer_names()]
    for role, label in ((Recipient.Role.MAIN, "主送机关"), (Recipient.Role.COPY, "抄送机关")):
        elements += [element(label, r.display_name) for r in doc.recipients_of(role)]
    return elements


def _fonts_for_check():
    """The fonts the layout uses, or None when they cannot be loaded: a broken font
    configuration is the operator's to fix (the preview and rendering report it), and must
    not stop every draft from being saved."""
    try:
        return rendering.font_set()
    except rendering.RenderError:
        log.warning("fonts cannot be loaded: text is saved without the font check",
                    exc_info=True)
        return None


def character_problems(elements: Iterable[characters.Element]) -> list[str]:
    """Chinese messages for invisible control characters and characters the GB/T 9704 fonts
    cannot draw (``characters``); empty when the elements may be stored."""
    return characters.problems(elements, _fonts_for_check())


def _require_typesettable(elements: Iterable[characters.Element]) -> None:
    errors = character_problems(elements)
    if errors:
        raise ValidationError(errors)


# -- validation -------------------------------------------------------------------------------
def _validate_fields(doc: OfficialDocument) -> None:
    errors: list[str] = []
    if doc.doc_type not in DocType.values:
        errors.append("请选择文种。")
    if doc.variant not in Variant.values:
        errors.append("请选择公文格式。")
    if doc.urgency not in Urgency.values:
        errors.append("紧急程度只能是“特急”或“加急”。")
    if doc.number_series not in NumberSeries.values:
        errors.append("请选择发文字号类别。")
    if not (doc.title or "").strip():
        errors.append("标题不能为空。")
    if doc.copy_number and not (len(doc.copy_number) == 6 and doc.copy_number.isdigit()):
        errors.append("份号应为6位阿拉伯数字，如“000001”。")
    if not isinstance(doc.signers, list) or not all(isinstance(s, str) for s in doc.signers):
        errors.append("签发人格式不正确。")
    elif doc.doc_type in UPWARD_TYPES and not [s for s in doc.signers if s.strip()]:
        errors.append(f"上行文（{DocType(doc.doc_type).label}）必须填写签发人"
                      "（GB/T 9704-2012 7.2.4）。")
    if doc.print_date and not doc.printer.strip():
        errors.append("填写印发日期时须同时填写印发机关。")
    if doc.variant == Variant.MINUTES and doc.doc_type != DocType.MINUTES:
        errors.append("纪要格式只用于纪要。")
    # Refused at saving, so that 核批 never numbers a document that cannot be rendered or
    # whose title reads differently on screen than on paper.
    errors += character_problems(_typeset_elements(doc))
    if errors:
        raise ValidationError(errors)


def _validate_complete(doc: OfficialDocument) -> None:
    """What a document needs before the unit head sees it (submit) and signs it (approve)."""
    _validate_fields(doc)
    # Also the attachments and names the draft form does not save, and, for a document
    # saved before the character rules, before 核批 takes a 发文字号 for it.
    errors: list[str] = character_problems(_related_elements(doc))
    if doc.body_source == BodySource.FILE:
        if not doc.body_blob:
            errors.append("请上传正文文件（PDF或OFD）。")
    elif not any((p.get("heading") or p.get("text") or "").strip() for p in doc.body or []):
        errors.append("正文不能为空。")
    has_main = doc.recipients.filter(role=Recipient.Role.MAIN).exists() \
        or doc.main_recipients_text.strip()
    if not has_main and doc.doc_type not in (DocType.ANNOUNCEMENT, DocType.PUBLIC_NOTICE,
                                             DocType.COMMUNIQUE, DocType.MINUTES,
                                             DocType.ORDER):
        errors.append("请填写主送机关。")
    if not doc.unit.short_name.strip():
        errors.append("本单位未设置发文字号简称，请联系平台管理员。")
    if doc.doc_type == DocType.REQUEST:
        # 一文一事，一般只写一个主送机关 (党政机关公文处理工作条例 第十五条): the one superior
        # that answers it; the others are 抄送 (R-FLOW-4). A group is as many units as it
        # has members, none of them the one superior: never the 主送 of a 请示.
        if doc.recipients.filter(role=Recipient.Role.MAIN, group__isnull=False).exists():
            errors.append("请示只主送一个上级机关，不能主送收文分组；需要同时送其他机关的，"
                          "请列为抄送。")
        elif _main_count(doc) > 1:
            errors.append("请示只主送一个上级机关；需要同时送其他机关的，请列为抄送。")
    if errors:
        raise ValidationError(errors)


def _main_count(doc: OfficialDocument) -> int:
    return (doc.recipients.filter(role=Recipient.Role.MAIN).count()
            + (1 if doc.main_recipients_text.strip() else 0))


# -- relations --------------------------------------------------------------------------------
def _ids(values) -> list[int]:
    out: list[int] = []
    for v in values or []:
        pk = v.pk if hasattr(v, "pk") else v
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise ValidationError("单位或分组选择不正确。") from None
        if pk not in out:
            out.append(pk)
    return out


def _active_units(ids: Sequence[int]) -> list[Unit]:
    units = {u.pk: u for u in Unit.objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in units]
    if missing:
        raise ValidationError("所选单位不存在。")
    inactive = [units[i].name for i in ids if units[i].state != UnitState.ACTIVE]
    if inactive:
        raise ValidationError(f"单位“{'、'.join(inactive)}”已不在册，不能选择。")
    return [units[i] for i in ids]


def _groups(ids: Sequence[int], unit: Unit) -> list[RecipientGroup]:
    from gongwen.units.selectors import groups_for

    groups = {g.pk: g for g in groups_for(unit).filter(pk__in=ids)}
    if len(groups) != len(ids):
        raise ValidationError("所选收文分组不存在。")
    return [groups[i] for i in ids]


def _set_issuers(doc: OfficialDocument, co_issuer_ids: Sequence[int]) -> None:
    co_ids = [i for i in co_issuer_ids if i != doc.unit_id]
    units = _active_units(co_ids)
    doc.issuers.all().delete()
    Issuer.objects.bulk_create(
        [Issuer(document=doc, unit=doc.unit, position=0)]
        + [Issuer(document=doc, unit=u, position=n) for n, u in enumerate(units, start=1)])


def _set_recipients(doc: OfficialDocument, role: str, unit_ids: Sequence[int],
                    group_ids: Sequence[int]) -> None:
    if doc.unit_id in unit_ids:
        # Dispatch never sends a unit its own document: listed, it would be approved and
        # sealed, and then go nowhere (a 请示 to itself) or less far than it says.
        raise ValidationError("不能把本单位列为主送或抄送机关。")
    units = _active_units(unit_ids)
    groups = _groups(group_ids, doc.unit)
    doc.recipients.filter(role=role).delete()
    rows = [Recipient(document=doc, role=role, group=g, position=n)
            for n, g in enumerate(groups)]
    rows += [Recipient(document=doc, role=role, unit=u, position=len(groups) + n)
             for n, u in enumerate(units)]
    Recipient.objects.bulk_create(rows)


def _apply_relations(doc: OfficialDocument, relations: dict[str, Any], *, creating: bool) -> None:
    if creating or "co_issuers" in relations:
        _set_issuers(doc, _ids(relations.get("co_issuers")))
    for role, units_key, groups_key in ((Recipient.Role.MAIN, "main_units", "main_groups"),
                                        (Recipient.Role.COPY, "copy_units", "copy_groups")):
        if creating or units_key in relations or groups_key in relations:
            if not creating and (units_key not in relations or groups_key not in relations):
                current = doc.recipients.filter(role=role)
                relations.setdefault(units_key, [r.unit_id for r in current if r.unit_id])
                relations.setdefault(groups_key, [r.group_id for r in current if r.group_id])
            _set_recipients(doc, role, _ids(relations.get(units_key)),
                            _ids(relations.get(groups_key)))


def _split_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    unknown = set(fields) - set(DRAFT_FIELDS) - set(RELATION_FIELDS) - {"body_text"}
    if unknown:
        raise TypeError(f"unknown draft fields: {sorted(unknown)}")
    plain = {k: v for k, v in fields.items() if k in DRAFT_FIELDS}
    if "body_text" in fields:
        plain["body"] = fields["body_text"]
    relations = {k: v for k, v in fields.items() if k in RELATION_FIELDS}
    return plain, relations


def _assign_plain(doc: OfficialDocument, plain: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, value in plain.items():
        if name == "body":
            value = _clean_body(value)
        elif name == "signers":
            if isinstance(value, str):
                value = [s.strip() for s in characters.tidy(value).replace("，", "、")
                         .replace(",", "、").split("、") if s.strip()]
            else:
                value = [s for s in (characters.tidy(str(s)).strip() for s in value or [])
                         if s]
        elif isinstance(value, str):
            value = characters.tidy(value, multiline=name in MULTILINE_FIELDS).strip()
        if value is None and name not in ("date", "print_date"):
            value = ""
        if getattr(doc, name) != value:
            changes[name] = value
            setattr(doc, name, value)
    return changes


def _audit_changes(changes: dict[str, Any]) -> list[str]:
    # Field names only: the audit trail records what changed, not the wording of a draft.
    return sorted(changes)


def unsaved_document(*, actor, **fields) -> OfficialDocument:
    """The draft as an editor form has it now, for the live preview; never stored. A
    classification mark is reported (ValidationError) but not audited: nothing was saved."""
    plain, _ = _split_fields(fields)
    doc = OfficialDocument(unit=actor.unit, created_by=actor)
    _assign_plain(doc, plain)
    finding = classification.check_document(secrecy=doc.secrecy,
                                            secrecy_period=doc.secrecy_period,
                                            texts=_document_texts(doc))
    if finding:
        raise ValidationError(finding.message_zh)
    # The preview would draw a bidi override as it acts (a reversed title) without a word.
    _require_typesettable(_typeset_elements(doc))
    return doc


# -- verbs ------------------------------------------------------------------------------------
@_verb
def create_draft(*, actor, idempotency_key: uuid.UUID | str | None = None, request=None,
                 **fields) -> OfficialDocument:
    """A new draft of the actor's unit. A retry with the same ``idempotency_key`` returns the
    first draft instead of creating a second one (R-OPS-3)."""
    key, prior = new_draft_key(actor, idempotency_key, request=request)
    asked = request_fingerprint(fields) if key else ""
    if prior is not None:
        return _same_request(prior, asked)
    plain, relations = _split_fields(fields)
    doc = OfficialDocument(unit=actor.unit, created_by=actor, idempotency_key=key,
                           idempotency_fingerprint=asked)
    _assign_plain(doc, plain)
    # The guard runs before anything is stored: a classified draft never reaches the database.
    _guard(doc, stage="create", actor=actor, request=request)
    _validate_fields(doc)
    doc, created = save_new_draft(doc, actor, key)
    if not created:
        return _same_request(doc, asked)
    _apply_relations(doc, relations, creating=True)
    record(actor, "document.created", doc,
           detail={"doc_type": doc.doc_type, "fields": _audit_changes(plain)}, request=request)
    return doc


def request_fingerprint(fields: dict[str, Any]) -> str:
    """A digest of what a create request asked for (its fields, canonical JSON)."""
    # ASCII escapes: a lone surrogate (refused later, with a message, by the character
    # rules) must not break the digest first.
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=True, default=str,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _same_request(prior: OfficialDocument, asked: str) -> OfficialDocument:
    """The draft a retry gets back, if the retry asks for what the first request asked
    for; a key sent again with other content is refused (409 ``idempotency_key_reused``)
    instead of silently answering with a draft that is not what was sent. Drafts made
    before the fingerprint was kept have none and are returned as before."""
    if prior.idempotency_fingerprint and prior.idempotency_fingerprint != asked:
        raise key_reused()
    return prior


def _prior_for(prior: OfficialDocument, actor, link: str = "", target=None
               ) -> OfficialDocument:
    """The draft a used idempotency key made, if it is the actor's and (with ``link``, the
    field naming what the draft was started from: ``corrects``, ``forwards``, ``answers``)
    for the same ``target``; else the key is refused as reused."""
    if prior.created_by_id != actor.pk or (
            link and str(getattr(prior, f"{link}_id")) != str(target)):
        raise key_reused()
    return replayed(prior)


def new_draft_key(actor, idempotency_key, *, link: str = "", target=None, request=None
                  ) -> tuple[uuid.UUID | None, OfficialDocument | None]:
    """The entry of a verb that makes a new draft: the actor may draft for an in-service
    unit; returns the parsed key and, on a retry, the draft the key already made."""
    _require(actor, Perm.DRAFT, request=request)
    if not actor.unit_id or actor.unit.state != UnitState.ACTIVE:
        raise ValidationError("您没有所属的在册单位，不能起草公文。")
    key = parse_key(idempotency_key)
    if key and (prior := OfficialDocument.objects.filter(idempotency_key=key).first()):
        return key, _prior_for(prior, actor, link, target)
    return key, (_open_draft(actor, link, target) if link else None)


def _open_draft(actor, link: str, target) -> OfficialDocument | None:
    """The actor's draft started from the same delivery or document (``link``: answers,
    forwards, corrects) and not yet submitted. Pressing 拟批复, 转发 or 起草更正公文 again
    (a reload, the Back button: a new key each time) opens it instead of making a second
    one (QA: three 批复 drafts of one 请示). Marked ``reopened``, and replayed: nothing new
    was made (the API answers 200)."""
    target_id = object_id(target)
    if target_id is None:
        return None
    doc = (OfficialDocument.objects.filter(created_by=actor, state__in=EDITABLE_STATES,
                                           **{f"{link}_id": target_id})
           .order_by("-pk").first())
    if doc is None:
        return None
    doc.reopened = True
    return replayed(doc)


def save_new_draft(doc: OfficialDocument, actor, key, *, link: str = "", target=None
                   ) -> tuple[OfficialDocument, bool]:
    """Saves the new draft: (doc, True); or, when a concurrent retry with the same key saved
    first, (that draft, False) and the caller adds nothing to it."""
    try:
        with transaction.atomic():
            doc.save()
    except IntegrityError:
        if key and (prior := OfficialDocument.objects.filter(idempotency_key=key).first()):
            return _prior_for(prior, actor, link, target), False
        raise
    return doc, True


@_verb
def update_draft(*, actor, doc_id: int, expected_revision: int | None = None, request=None,
                 **fields) -> OfficialDocument:
    """Save changes to a draft (or a returned document). ``expected_revision`` guards against
    overwriting someone else's newer save."""
    doc = _lock(doc_id)
    _require(actor, Perm.DRAFT, doc, request=request)
    if not doc.editable:
        raise ValidationError(f"公文当前状态为“{doc.get_state_display()}”，不能修改。")
    if expected_revision is not None and int(expected_revision) != doc.revision:
        raise ValidationError("该公文已被他人修改，请刷新页面后重新编辑。")
    plain, relations = _split_fields(fields)
    changes = _assign_plain(doc, plain)
    _guard(doc, stage="update", actor=actor, request=request)
    _validate_fields(doc)
    if not changes and not relations:
        return doc
    doc.revision += 1
    doc.save()
    _apply_relations(doc, relations, creating=False)
    record(actor, "document.updated", doc,
           detail={"revision": doc.revision,
                   "fields": _audit_changes(changes) + sorted(relations)}, request=request)
    return doc


@_verb
def discard_draft(*, actor, doc_id: int, request=None) -> dict[str, Any]:
    """删除草稿: a draft (or a returned document) that never got a 发文字号 is deleted with
    its issuers, recipients, attachments and review comments; nothing else refers to it
    (renditions and numbers only come at 核批). The audit entry keeps what it was. A retry
    after the deletion finds nothing (404): the caller treats that as done."""
    doc = _lock(doc_id)
    _require(actor, Perm.DRAFT, doc, request=request)
    if not doc.editable:
        raise ValidationError(f"公文当前状态为“{doc.get_state_display()}”，不能删除。"
                              "已核批的公文保留备查；已用印的公文可撤回或另行更正。")
    facts = {"title": doc.title, "doc_type": doc.doc_type, "state": doc.state,
             "revision": doc.revision, "created_by": doc.created_by_id,
             "attachments": doc.attachments.count(), "corrects": doc.corrects_id,
             "forwards": doc.forwards_id, "answers": doc.answers_id}
    record(actor, "document.discarded", doc, detail=facts, request=request)
    doc.delete()
    return facts


@_verb
def submit(*, actor, doc_id: int, expected_revision: int | None = None, request=None
           ) -> OfficialDocument:
    """Send the draft to the unit head (核批). A retry after success returns the document."""
    doc = _lock(doc_id)
    _require(actor, Perm.DRAFT, doc, request=request)
    if doc.state == State.SUBMITTED and (expected_revision is None
                                         or int(expected_revision) == doc.revision):
        return doc  # idempotent retry
    if expected_revision is not None and int(expected_revision) != doc.revision:
        raise ValidationError("该公文已被他人修改，请刷新页面后再提交。")
    _guard(doc, stage="submit", actor=actor, request=request)
    _validate_complete(doc)
    # The roll-out scope in force today (R-POLICY-1); dispatch asks again on its day.
    rollout.Scope().require(doc, stage="submit", actor=actor, request=request)
    doc.apply(Action.SUBMIT)
    doc.submitted_at = timezone.now()
    doc.save(update_fields=["state", "submitted_at", "updated_at"])
    record(actor, "document.submitted", doc, detail={"revision": doc.revision},
           request=request)
    return doc


@_verb
def withdraw(*, actor, doc_id: int, request=None) -> OfficialDocument:
    """The drafter takes a submitted document back before the head has decided."""
    doc = _lock(doc_id)
    _require(actor, Perm.DRAFT, doc, request=request)
    if doc.state == State.DRAFT:
        return doc
    doc.apply(Action.WITHDRAW)
    doc.save(update_fields=["state", "updated_at"])
    record(actor, "document.withdrawn", doc, request=request)
    return doc


def assign_number(doc: OfficialDocument, *, on: dt.date | None = None) -> str:
    """Give ``doc`` the next 发文字号 of its unit, series and year; call inside the approval
    transaction. Idempotent: a document that has a number keeps it."""
    if doc.number_serial:
        return doc.doc_number
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("assign_number must run inside the approval transaction")
    year = (on or local_today()).year
    series = doc.number_series
    # Make sure the counter row exists without failing the transaction when a parallel
    # approval creates it first (INSERT … ON CONFLICT DO NOTHING / INSERT OR IGNORE) …
    NumberCounter.objects.bulk_create(
        [NumberCounter(unit_id=doc.unit_id, series=series, year=year, last=0)],
        ignore_conflicts=True)
    # … then queue on it: parallel approvals of this unit, series and year wait here.
    counter = NumberCounter.objects.select_for_update().get(
        unit_id=doc.unit_id, series=series, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    doc.number_code = f"{doc.unit.short_name.strip()}{series}"
    doc.number_year = year
    doc.number_serial = counter.last
    return format_doc_number(doc.number_code, year, counter.last)


@_verb
def approve(*, actor, doc_id: int, comment: str = "", request=None) -> OfficialDocument:
    """核批签发: the unit head approves; the document gets its 发文字号 and, if none was set,
    its 成文日期 (the signing date). A retry of the same approval returns the document."""
    doc = _lock(doc_id)
    _require(actor, Perm.APPROVE, doc, request=request)
    if doc.state == State.APPROVED and doc.approved_by_id == actor.pk:
        return doc  # idempotent retry: never a second number
    _guard(doc, stage="approve", actor=actor, request=request)
    _validate_complete(doc)
    doc.apply(Action.APPROVE)
    today = local_today()
    number = assign_number(doc, on=today)
    if doc.date is None:
        doc.date = today
    doc.approved_at = timezone.now()
    doc.approved_by = actor
    doc.review_comment = (comment or "").strip()
    doc.save()
    Review.objects.create(document=doc, action=Action.APPROVE, by=actor,
                          comment=doc.review_comment, revision=doc.revision)
    record(actor, "document.approved", doc,
           detail={"doc_number": number, "revision": doc.revision}, request=request)
    # The text is final now: render the files for 用印 in the background (outbox, so the
    # task commits with the approval).
    from gongwen.outbox import enqueue

    from .tasks import prerender_document

    enqueue(prerender_document, doc.pk)
    return doc


@_verb
def return_with_comments(*, actor, doc_id: int, comment: str, request=None
                         ) -> OfficialDocument:
    """退回修改: the head sends the document back to the drafter with comments."""
    doc = _lock(doc_id)
    _require(actor, Perm.APPROVE, doc, request=request)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError("退回修改时请填写意见。")
    if doc.state == State.RETURNED and doc.review_comment == comment:
        return doc  # idempotent retry
    doc.apply(Action.RETURN)
    doc.review_comment = comment
    doc.save(update_fields=["state", "review_comment", "updated_at"])
    Review.objects.create(document=doc, action=Action.RETURN, by=actor, comment=comment,
                          revision=doc.revision)
    record(actor, "document.returned", doc, detail={"revision": doc.revision},
           request=request)
    return doc


# -- files (R-DOC-4) --------------------------------------------------------------------------
def _read_upload(data) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    limit = upload.max_upload_bytes()
    chunks, size = [], 0
    for chunk in (data.chunks() if hasattr(data, "chunks") else iter(lambda: data.read(1 << 20),
                                                                       b"")):
        size += len(chunk)
        chunks.append(chunk)
        if size > limit:  # stop reading: inspect_file reports the size
            break
    return b"".join(chunks)


def _inspect(data: bytes, filename: str, *, stage: str, actor, doc, request
             ) -> upload.InspectedFile:
    try:
        found = upload.inspect_file(data, filename)
    except upload.UploadRejected as exc:
        raise _Rejected(exc, actor=actor, target=doc, request=request, filename=filename) \
            from exc
    finding = classification.find_mark(found.text, source=f"文件“{filename}”")
    if finding:
        raise ClassifiedRefused(finding, stage=stage, actor=actor, target=doc, request=request,
                                filename=filename)
    return found


def _editable_for(actor, doc_id: int, request) -> OfficialDocument:
    doc = _lock(doc_id)
    _require(actor, Perm.DRAFT, doc, request=request)
    if not doc.editable:
        raise ValidationError(f"公文当前状态为“{doc.get_state_display()}”，不能修改。")
    return doc


@_verb
def add_attachment(*, actor, doc_id: int, file, filename: str, title: str = "",
                   request=None) -> Attachment:
    """Attach an uploaded PDF/OFD: checked, classification-guarded, kept byte for byte."""
    doc = _editable_for(actor, doc_id, request)
    if doc.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError(f"附件不能超过 {MAX_ATTACHMENTS} 个。")
    filename = characters.tidy(filename or "").strip()[:200] or "附件"
    typed_title = characters.tidy(title or "").strip()
    title = typed_title or filename.rsplit(".", 1)[0]
    finding = (classification.find_mark(title, source="附件名称")
               or classification.find_mark(filename.rsplit(".", 1)[0], source="文件名"))
    if finding:
        raise ClassifiedRefused(finding, stage="upload", actor=actor, target=doc,
                                request=request, filename=filename)
    # The title goes into 附件说明 and the filename into the attachment's placeholder line.
    _require_typesettable([characters.Element("附件名称", typed_title),
                           characters.Element("文件名", filename)])
    data = _read_upload(file)
    found = _inspect(data, filename, stage="upload", actor=actor, doc=doc, request=request)
    ref = blobs.put(data)
    position = (doc.attachments.order_by("-position").values_list("position", flat=True)
                .first())
    att = Attachment.objects.create(
        document=doc, position=0 if position is None else position + 1, title=title[:200],
        blob=ref.digest, filename=filename, file_format=found.file_format, size=ref.size,
        pages=found.pages, uploaded_by=actor)
    doc.revision += 1
    doc.save(update_fields=["revision", "updated_at"])
    record(actor, "document.attachment_added", doc,
           detail={"attachment": att.pk, "filename": filename, "digest": ref.digest,
                   "size": ref.size, "format": found.file_format, "pages": found.pages},
           request=request)
    return att


@_verb
def remove_attachment(*, actor, doc_id: int, attachment_id: int, request=None) -> None:
    doc = _editable_for(actor, doc_id, request)
    att = doc.attachments.filter(pk=attachment_id).first()
    if att is None:
        return  # already removed: a retry is harmless
    att.delete()
    _renumber(doc)
    doc.revision += 1
    doc.save(update_fields=["revision", "updated_at"])
    record(actor, "document.attachment_removed", doc,
           detail={"attachment": attachment_id, "filename": att.filename}, request=request)


@_verb
def move_attachment(*, actor, doc_id: int, attachment_id: int, offset: int, request=None
                    ) -> None:
    """Move an attachment up (offset -1) or down (+1) in the order of 附件说明."""
    doc = _editable_for(actor, doc_id, request)
    items = list(doc.attachments.order_by("position"))
    index = next((i for i, a in enumerate(items) if a.pk == attachment_id), None)
    if index is None:
        raise Http404("未找到该附件。")
    target = index + (1 if offset > 0 else -1)
    if not 0 <= target < len(items):
        return
    items[index], items[target] = items[target], items[index]
    _renumber(doc, items)
    doc.revision += 1
    doc.save(update_fields=["revision", "updated_at"])
    record(actor, "document.attachment_moved", doc,
           detail={"attachment": attachment_id, "to": target}, request=request)


def _renumber(doc: OfficialDocument, items: list[Attachment] | None = None) -> None:
    items = items if items is not None else list(doc.attachments.order_by("position"))
    # Two passes so the (document, position) unique constraint never sees a clash.
    for n, att in enumerate(items):
        att.position = 10_000 + n
        att.save(update_fields=["position"])
    for n, att in enumerate(items):
        att.position = n
        att.save(update_fields=["position"])


@_verb
def set_body_file(*, actor, doc_id: int, file, filename: str, request=None
                  ) -> OfficialDocument:
    """Use an existing PDF/OFD as the body (转发 of a national or provincial document)."""
    doc = _editable_for(actor, doc_id, request)
    filename = characters.tidy(filename or "").strip()[:200] or "正文"
    finding = classification.find_mark(filename.rsplit(".", 1)[0], source="文件名")
    if finding:
        raise ClassifiedRefused(finding, stage="upload", actor=actor, target=doc,
                                request=request, filename=filename)
    _require_typesettable([characters.Element("文件名", filename)])  # the placeholder line
    data = _read_upload(file)
    found = _inspect(data, filename, stage="upload", actor=actor, doc=doc, request=request)
    ref = blobs.put(data)
    doc.body_source = BodySource.FILE
    doc.body_blob, doc.body_filename = ref.digest, filename
    doc.body_format, doc.body_size = found.file_format, ref.size
    doc.revision += 1
    doc.save()
    record(actor, "document.body_uploaded", doc,
           detail={"filename": filename, "digest": ref.digest, "size": ref.size,
                   "format": found.file_format, "pages": found.pages}, request=request)
    return doc


@_verb
def remove_body_file(*, actor, doc_id: int, request=None) -> OfficialDocument:
    doc = _editable_for(actor, doc_id, request)
    if doc.body_source == BodySource.TEXT and not doc.body_blob:
        return doc
    doc.body_source = BodySource.TEXT
    doc.body_blob = doc.body_filename = doc.body_format = ""
    doc.body_size = None
    doc.revision += 1
    doc.save()
    record(actor, "document.body_removed", doc, request=request)
    return doc



# -- correction (R-FLOW-1) --------------------------------------------------------------------
@_verb
def start_correction(*, actor, doc_id: int, idempotency_key=None, request=None
                     ) -> OfficialDocument:
    """更正: a sealed document is immutable, so a correction is a new draft of the same unit
    that references it (``corrects``), prefilled with its content, recipients, issuers and
    attachments, and then goes through 核批, 用印 and 分发 like any other document (it gets
    its own 发文字号). Typical after a 撤回. A retry with the same key returns the first."""
    _require(actor, Perm.DRAFT, request=request)
    key = parse_key(idempotency_key)
    if key and (prior := OfficialDocument.objects.filter(idempotency_key=key).first()):
        return _prior_for(prior, actor, "corrects", doc_id)
    old = _lock(doc_id)
    if (draft := _open_draft(actor, "corrects", old.pk)) is not None:
        return draft
    if old.unit_id != actor.unit_id:
        raise Http404("未找到该公文。")
    _require(actor, Perm.DRAFT, old, request=request)
    from .models import CORRECTABLE_STATES

    if old.state not in CORRECTABLE_STATES:
        raise ValidationError("只有已用印的公文才以新公文更正；未用印的公文可撤回后直接修改。")
    # The correction stands in for the old one: it forwards and answers what that did.
    doc = OfficialDocument(unit=old.unit, created_by=actor, idempotency_key=key, corrects=old,
                           forwards_id=old.forwards_id, answers_id=old.answers_id)
    for name in DRAFT_FIELDS:
        setattr(doc, name, getattr(old, name))
    for name in ("body_source", "body_blob", "body_filename", "body_format", "body_size"):
        setattr(doc, name, getattr(old, name))
    doc.signers = []  # 签发人 signs again
    doc.date = None
    doc.print_date = None
    doc.save()
    Issuer.objects.bulk_create([Issuer(document=doc, unit_id=i.unit_id, position=i.position,
                                       sealed=i.sealed) for i in old.issuers.all()])
    Recipient.objects.bulk_create([
        Recipient(document=doc, role=r.role, position=r.position, unit_id=r.unit_id,
                  group_id=r.group_id, name=r.name) for r in old.recipients.all()])
    Attachment.objects.bulk_create([
        Attachment(document=doc, position=a.position, title=a.title, body=a.body, blob=a.blob,
                   filename=a.filename, file_format=a.file_format, size=a.size, pages=a.pages,
                   uploaded_by=actor) for a in old.attachments.all()])
    record(actor, "document.correction_started", doc, request=request,
           detail={"corrects": old.pk, "corrects_number": old.doc_number,
                   "corrects_state": old.state})
    return doc
