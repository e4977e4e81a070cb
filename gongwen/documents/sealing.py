"""用印: the seal keeper seals an approved document (R-DOC-3, R-FLOW-1, R-SEAL-5/6; issue 8).

One verb, :func:`seal_document`, with the business rules of sealing in one place:

* only an approved document of a unit that issues it (发文机关) is sealed; 联合行文 (several
  issuing units) is sealed by each unit's keeper **in the order of the issuers**, each seal at
  its own GB/T 9704 seal box of the layout (7.3.5.2); the document becomes "sealed"
  (``TRANSITIONS[(approved, seal)]``) after the last one;
* every factor of art. 3 and 5 goes through :func:`gongwen.seals.services.open_seal_session`
  (keeper role, this seal's keeper, an active seal, an enrolled workstation bound to the
  seal, the key disk PIN — counted and locked by the authority app); each refusal is audited
  there, and the use is entered in the seal register with the document reference;
* both renditions are sealed: the OFD (GB/T 38540 SES_Signature v4, the national format of
  electronic 公文) and the PDF (CMS signature with the visible seal image, an incremental
  update so a later seal keeps the earlier ones valid);
* the sealed files are stored in the blob store as ``Rendition`` rows whose fingerprint is
  ``sealed:<k>:<digest>`` (k = seals applied so far); the unsealed renditions stay as they are;
* idempotent: a retry (same key or not) by a unit that has already sealed returns the stored
  result without opening the key disk again; a concurrent second request loses the row lock
  and gets the first result;
* 批量用印: :func:`seal_documents` seals a stack with one PIN entry (the key disk opened
  once), each document in its own transaction; :func:`seal_document` is its one-item case.

The key disk is opened *before* our transaction (``open_key_disk`` commits its PIN counter
itself); rendering and signing also run outside it, the transaction only stores and moves
the state. The unsealed renditions are reused when stored for the same content
(``rendering.renditions_for_sealing``): sealing renders at most once, from one layout.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils import timezone

from gongwen.audit.services import audited, record
from gongwen.policy.errors import object_id
from gongwen.policy.permissions import Perm, can, require
from gongwen.policy.sql import update_rows

from . import blobs, rendering
from .models import (
    PARTS_PREFETCH,
    Action,
    FileFormat,
    Issuer,
    OfficialDocument,
    Rendition,
    State,
)

log = logging.getLogger("gongwen.documents.sealing")

SEALED_PREFIX = "sealed:"
SEALED_STATES = frozenset({State.SEALED, State.DISPATCHED, State.WITHDRAWN})


class SealingRefused(PermissionDenied):
    """The document cannot be sealed by this actor now (wrong unit, wrong turn, wrong
    state). ``why`` is a stable code, ``message_zh`` is for the user."""

    def __init__(self, message_zh: str, why: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.why = why


@dataclass(frozen=True)
class SealedFile:
    file_format: str
    seals: int  # seals applied in this file
    blob: str
    size: int


@dataclass(frozen=True)
class SealingResult:
    document: OfficialDocument
    seals_applied: int
    seals_required: int
    files: dict[str, SealedFile]
    already: bool = False  # a retry: nothing new was signed

    @property
    def complete(self) -> bool:
        return self.seals_applied >= self.seals_required


# ------------------------------------------------------------------------------- queries


def sealing_issuers(doc: OfficialDocument) -> list:
    """The issuing units that seal, in order (lead unit first)."""
    return [i.unit for i in doc.ordered_issuers()] or [doc.unit]


def _sealed_rows(doc: OfficialDocument, file_format: str | None = None):
    qs = Rendition.objects.filter(document=doc, fingerprint__startswith=SEALED_PREFIX)
    if file_format:
        qs = qs.filter(file_format=file_format)
    return qs


def _k_of(row: Rendition) -> int:
    try:
        return int(row.fingerprint.split(":")[1])
    except (IndexError, ValueError):
        return 0


def sealed_files(doc: OfficialDocument) -> dict[str, SealedFile]:
    """The newest sealed PDF and OFD of the document (the most seals), by format."""
    rows = doc._prefetched("renditions")
    return _files_of(_sealed_rows(doc) if rows is None
                     else [r for r in rows if r.fingerprint.startswith(SEALED_PREFIX)])


def _files_of(rows) -> dict[str, SealedFile]:
    out: dict[str, SealedFile] = {}
    for row in rows:
        k = _k_of(row)
        cur = out.get(row.file_format)
        if cur is None or k > cur.seals:
            out[row.file_format] = SealedFile(row.file_format, k, row.blob, row.size)
    return out


def _applied(files: dict[str, SealedFile]) -> int:
    """Seals applied: the fewest over the sealed formats (both carry every seal)."""
    return min((f.seals for f in files.values()), default=0)


def seals_applied(doc: OfficialDocument) -> int:
    return _applied(sealed_files(doc))


def sealed_bytes(doc: OfficialDocument, file_format: str = FileFormat.PDF) -> bytes | None:
    """The sealed file of ``doc`` in ``file_format`` (the newest, with every seal so far)."""
    f = sealed_files(doc).get(file_format)
    if f is None or not blobs.exists(f.blob):
        return None
    return blobs.read(f.blob)


ALREADY = "already"


@dataclass(frozen=True)
class Turn:
    """Where one unit stands in the sealing of a document: the rules of 用印 that do not
    depend on the seal itself, asked by the verb and by the seal form alike. ``why`` is
    empty when the unit seals next, ``ALREADY`` when it has sealed, else the refusal code
    (``not_issuer``, ``state``, ``order``) with its Chinese ``message_zh``."""

    issuers: list
    applied: int  # seals applied so far
    why: str = ""
    message_zh: str = ""

    @property
    def ready(self) -> bool:
        return not self.why


def sealing_turn(doc: OfficialDocument, unit) -> Turn:
    """The turn of ``unit`` (the seal's unit) on ``doc``: only an issuing unit (发文机关)
    seals, an approved document only, 联合行文 in the order of the issuers."""
    issuers = sealing_issuers(doc)
    k = seals_applied(doc)
    position = next((n for n, u in enumerate(issuers) if unit is not None and u.pk == unit.pk),
                    None)
    if position is None:
        name = unit.name if unit is not None else "本单位"
        return Turn(issuers, k, "not_issuer", f"“{name}”不是该公文的发文机关，不能加盖其印章。")
    if position < k:
        return Turn(issuers, k, ALREADY, f"“{unit.name}”已在该公文上加盖印章。")
    if doc.state != State.APPROVED:
        return Turn(issuers, k, "state",
                    f"公文当前状态为“{doc.get_state_display()}”，只有已核批的公文可以用印。")
    if position != k:
        return Turn(issuers, k, "order",
                    f"联合行文按发文机关顺序用印，当前应由“{issuers[k].name}”用印。")
    return Turn(issuers, k)


def seal_form_turn(*, actor, doc: OfficialDocument, request=None) -> Turn:
    """The turn of the actor's unit for the 用印 form. A unit that does not issue the
    document (a recipient of it) is answered 404, as the form of a document it is not
    party to, and the refusal audited as the verb would (R-SEC-1); any other turn is
    returned for the page to say why there is nothing to seal."""
    turn = sealing_turn(doc, actor.unit)
    if turn.why == "not_issuer":
        _refuse(actor, doc, turn.why, turn.message_zh, request, page="form")
        raise Http404("未找到该公文。")
    return turn


def awaiting_seal(user):
    """The sealing queue of a seal keeper: approved documents whose next seal is one of the
    keeper's unit (lead unit, or a co-issuer whose turn it is), oldest approval first.

    A queryset (to filter and paginate) built with three statements whatever the number of
    documents: the issuers and the sealed renditions of every approved document of the unit
    are read in one go each, and the turn is worked out as ``sealing_issuers`` and
    ``seals_applied`` do for one document."""
    if not can(user, Perm.SEAL) or not user.unit_id:
        return OfficialDocument.objects.none()
    candidates = OfficialDocument.objects.filter(
        state=State.APPROVED, issuers__unit_id=user.unit_id).values("pk")
    order: dict[int, list[int]] = {}
    for doc_id, unit_id in (Issuer.objects.filter(document_id__in=candidates)
                            .order_by("document_id", "position")
                            .values_list("document_id", "unit_id")):
        order.setdefault(doc_id, []).append(unit_id)
    sealed: dict[int, list[Rendition]] = {}
    for row in (Rendition.objects.filter(document_id__in=candidates,
                                         fingerprint__startswith=SEALED_PREFIX)
                .only("document_id", "file_format", "fingerprint", "blob", "size")):
        sealed.setdefault(row.document_id, []).append(row)
    ready = []
    for doc_id, units in order.items():
        k = _applied(_files_of(sealed.get(doc_id, [])))
        if k < len(units) and units[k] == user.unit_id:
            ready.append(doc_id)
    return (OfficialDocument.objects.filter(pk__in=ready).select_related("unit")
            .order_by("approved_at", "id"))


def _result(doc: OfficialDocument, *, already: bool) -> SealingResult:
    files = sealed_files(doc)
    return SealingResult(doc, _applied(files), len(sealing_issuers(doc)), files, already)


# ------------------------------------------------------------------------------ signing


class SealedBytes(NamedTuple):
    """What :func:`seal_files` made: the sealed PDF and OFD (None where not asked for) and
    the sealed PDF's ``"<algorithm>:<hex>"`` digest, computed by its signature's hashing."""

    pdf: bytes | None
    ofd: bytes | None
    pdf_digest: str | None = None


def seal_files(sealer, *, pdf: bytes | None, ofd: bytes | None, box: Any, seal_image_png: bytes,
               signing_time: datetime, name: str = "") -> SealedBytes:
    """Seal the given renditions with an opened seal (a ``DocumentSealer``) at ``box``."""
    sealed_ofd = None
    if ofd is not None:
        sealed_ofd = sealer.seal_ofd(ofd, box=box, signing_time=signing_time)
    if pdf is None:
        return SealedBytes(None, sealed_ofd)
    sealed = sealer.seal_pdf(pdf, box=box, seal_image_png=seal_image_png,
                             signing_time=signing_time, name=name)
    return SealedBytes(sealed.pdf, sealed_ofd, sealed.digest)


# --------------------------------------------------------------------------------- verb


def _refuse(actor, doc: OfficialDocument, why: str, message: str, request=None,
            **detail) -> SealingRefused:
    record(actor if getattr(actor, "pk", None) else None, "document.seal_refused", doc,
           detail={"why": why, **detail}, request=request)
    return SealingRefused(message, why)


def _base_files(doc: OfficialDocument, k: int) -> tuple[bytes, bytes, Any]:
    """The files the k-th seal goes on and its GB/T 9704 seal box. The first seal goes on
    the stored unsealed renditions (rendered once per content fingerprint, from one
    layout); a later one on the files sealed so far."""
    if k == 0:
        files, box = rendering.renditions_for_sealing(doc, k)
        return files[FileFormat.PDF], files[FileFormat.OFD], box
    pdf, ofd = sealed_bytes(doc, FileFormat.PDF), sealed_bytes(doc, FileFormat.OFD)
    if pdf is None or ofd is None:
        raise ValidationError("前一单位用印后的版式文件缺失，无法继续用印。")
    return pdf, ofd, rendering.seal_box(doc, k)


@dataclass(frozen=True)
class BatchItem:
    """One document of a 批量用印: its result, or why it was not sealed (Chinese)."""

    doc_id: int
    result: SealingResult | None
    error_zh: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass
class _Plan:
    """A document that passed the sealing rules, with the files its seal goes on and the
    seal box, waiting for the opened seal."""

    doc: OfficialDocument
    k: int
    total: int
    key: str
    pdf: bytes
    ofd: bytes
    box: Any


def message_zh(exc: BaseException) -> str:
    """The Chinese message of a refusal raised by the sealing verbs."""
    if isinstance(exc, Http404):
        return str(exc) or "未找到该公文。"
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return getattr(exc, "message_zh", "") or str(exc) or "用印失败。"


def _item_key(idempotency_key, doc_id) -> str:
    """The per-document idempotency key of a batch: uuid5(batch key, document id)."""
    try:
        ns = idempotency_key if isinstance(idempotency_key, uuid.UUID) \
            else uuid.UUID(str(idempotency_key))
    except (ValueError, TypeError, AttributeError):
        ns = uuid.uuid5(uuid.NAMESPACE_URL, f"gongwen:seal:{idempotency_key}")
    return str(uuid.uuid5(ns, str(doc_id)))


def _load_stack(ids: list) -> tuple[dict[int, OfficialDocument], set[int]]:
    """The documents of a stack with everything 用印 reads (issuers, recipients, attachments,
    renditions) in a fixed number of queries, whatever the stack's size."""
    from django.db.models import Prefetch

    keys = [value for value in map(object_id, ids) if value is not None]
    docs = (OfficialDocument.objects.select_related("unit")
            .prefetch_related(*PARTS_PREFETCH, Prefetch("renditions")).in_bulk(keys))
    return docs, set(keys)


def _prepare(*, actor, doc_id, doc: OfficialDocument | None, visible: set[int], seal,
             key: str, request) -> SealingResult | _Plan:
    """The sealing rules for one document of a loaded stack and its files (stored
    renditions, or rendered once), before any key is touched. Returns the stored result of
    a unit that has sealed already (a retry), or the plan; raises a refusal."""
    if doc is None:
        raise Http404("未找到该公文。")
    if doc.pk not in visible:
        try:
            require(actor, Perm.VIEW_DOCUMENT, doc, request=request)  # another unit's: audited
        except Http404:
            raise Http404("未找到该公文。") from None
    if seal is None:
        raise Http404("未找到该电子印章。")
    turn = sealing_turn(doc, seal.unit)
    if turn.why == ALREADY:  # this unit has sealed already: a retry gets the first result
        return _result(doc, already=True)
    if turn.why:
        raise _refuse(actor, doc, turn.why, turn.message_zh, request,
                      **({} if turn.why == "state" else {"es_id": seal.es_id}))
    k, issuers = turn.applied, turn.issuers
    try:
        base_pdf, base_ofd, box = _base_files(doc, k)
    except rendering.RenderError as exc:
        raise ValidationError(f"无法生成版式文件：{exc.message_zh}") from exc
    if box is None:
        raise ValidationError("版式中没有该发文机关的印章位置。")
    return _Plan(doc, k, len(issuers), key, base_pdf, base_ofd, box)


@dataclass
class _Signed:
    """A plan whose files are signed and in the blob store, to be stored."""

    plan: _Plan
    refs: dict
    when: datetime


def _sign(plan: _Plan, sealer, seal, signing_time) -> _Signed:
    """Sign both renditions of one document (CPU only, no transaction) and put the sealed
    files in the blob store (durable before any row points at them)."""
    when = signing_time or timezone.now()
    sealed = seal_files(sealer, pdf=plan.pdf, ofd=plan.ofd, box=plan.box,
                        seal_image_png=bytes(seal.image_png), signing_time=when, name=seal.name)
    return _Signed(plan, {FileFormat.PDF: blobs.put(sealed.pdf, digest=sealed.pdf_digest),
                          FileFormat.OFD: blobs.put(sealed.ofd)}, when)


def _document_ref(doc: OfficialDocument) -> str:
    return (doc.doc_number or "") + " " + doc.title


_EXPECTED = (PermissionDenied, ValidationError, Http404)


def _seal_many(*, actor, doc_ids: list, seal_id, workstation_credential: str, pin: str,
               key_of, request, signing_time) -> list[tuple[Any, SealingResult | None,
                                                         BaseException | None]]:
    """The one code path of 用印, for one document or a stack: the stack read at once and
    the rules checked per document, the seal opened once (every factor checked, one PIN
    entry) only if a document needs it, each document signed (no transaction held), then
    the whole stack stored in one transaction (``_store_stack``). A refusal of one document
    is returned for it and does not stop the others; a refusal of the seal itself (wrong
    PIN, not the keeper, workstation, seal not active) is raised."""
    from gongwen.pki.errors import PKIError
    from gongwen.policy.permissions import visible_documents
    from gongwen.seals.models import Seal
    from gongwen.seals.services import SealUseRefused, open_seal_session

    try:
        seal = Seal.objects.select_related("unit").get(pk=seal_id)
    except (Seal.DoesNotExist, ValueError, TypeError):
        seal = None
    out: dict[Any, tuple[SealingResult | None, BaseException | None]] = {}
    plans: list[tuple[Any, _Plan]] = []
    ids = list(dict.fromkeys(doc_ids))  # a document listed twice is sealed once
    docs, keys = _load_stack(ids)
    visible = set(visible_documents(actor).filter(pk__in=keys).values_list("pk", flat=True)) \
        if keys else set()
    for doc_id in ids:
        try:
            got = _prepare(actor=actor, doc_id=doc_id, doc=_lookup(docs, doc_id),
                           visible=visible, seal=seal, key=key_of(doc_id), request=request)
        except _EXPECTED as exc:
            out[doc_id] = (None, exc)
            continue
        if isinstance(got, SealingResult):
            out[doc_id] = (got, None)
        else:
            plans.append((doc_id, got))
    if plans:
        # Every factor of art. 3/5; the key disk opened once (its own transaction, the PIN
        # counted once), each refusal audited there and raised: it concerns the whole stack.
        session = open_seal_session(user=actor, seal=seal,
                                    workstation_credential=workstation_credential, pin=pin,
                                    request=request)
        signed: list[tuple[Any, _Signed]] = []
        for doc_id, plan in plans:
            try:
                signed.append((doc_id, _sign(plan, session.sealer, seal, signing_time)))
            except PKIError as exc:
                log.warning("sealing document %s failed: %s", doc_id, exc)
                out[doc_id] = (None, ValidationError(f"签章失败：{exc.message_zh}"))
        if signed:
            try:
                stored = _store_stack(actor=actor, signed=signed, session=session, seal=seal,
                                      request=request)
            except SealUseRefused:
                # Lost or revoked while the stack was being signed: nothing stored; the
                # refusal is audited now (its transaction rolled back).
                try:
                    session.check_active(request)
                    refusal: BaseException = SealingRefused("该电子印章已不能使用。", "status")
                except SealUseRefused as exc:
                    refusal = exc
                stored = {doc_id: (None, refusal) for doc_id, _ in signed}
            except IntegrityError:
                # A concurrent request of the same unit stored a document first: the stack
                # rolled back as a whole; each document again on its own.
                stored = {}
                for pair in signed:
                    try:
                        stored.update(_store_stack(actor=actor, signed=[pair], session=session,
                                                   seal=seal, request=request))
                    except IntegrityError:
                        doc = OfficialDocument.objects.get(pk=pair[1].plan.doc.pk)
                        stored[pair[0]] = (_result(doc, already=True), None)
                    except (SealUseRefused, *_EXPECTED) as exc:
                        stored[pair[0]] = (None, exc)
            out.update(stored)
    return [(doc_id, *out[doc_id]) for doc_id in ids]


def _lookup(docs: dict[int, OfficialDocument], doc_id) -> OfficialDocument | None:
    try:
        return docs.get(int(doc_id))
    except (TypeError, ValueError):
        return None


def seal_documents(*, actor, doc_ids, seal_id: int, workstation_credential: str, pin: str,
                   idempotency_key: uuid.UUID | str, request=None) -> list[BatchItem]:
    """批量用印: the keeper seals a stack of approved documents with one PIN entry. Every
    factor of seal use is checked once and the key disk opened once (a wrong PIN counts
    once and seals nothing); each document is sealed in its own transaction, entered in the
    seal register and the audit trail, and a refusal of one (wrong state, another unit,
    classified, …) is reported for it without stopping the others. Idempotent per document
    (key uuid5(idempotency_key, doc id)): a retry returns the stored results and opens the
    key disk only if a document is still to be sealed."""
    items = _seal_many(actor=actor, doc_ids=list(doc_ids), seal_id=seal_id,
                       workstation_credential=workstation_credential, pin=pin,
                       key_of=lambda doc_id: _item_key(idempotency_key, doc_id),
                       request=request, signing_time=None)
    return [BatchItem(doc_id, result, message_zh(exc) if exc is not None else None)
            for doc_id, result, exc in items]


def seal_document(*, actor, doc_id: int, seal_id: int, workstation_credential: str, pin: str,
                  idempotency_key: uuid.UUID | str | None = None, request=None,
                  signing_time: datetime | None = None) -> SealingResult:
    """用印 (R-FLOW-1: approve → **seal** → dispatch) of one document: the one-item case of
    :func:`seal_documents`, raising its refusal. See the module docstring."""
    key = str(idempotency_key) if idempotency_key else ""
    [(_, result, exc)] = _seal_many(actor=actor, doc_ids=[doc_id], seal_id=seal_id,
                                    workstation_credential=workstation_credential, pin=pin,
                                    key_of=lambda _doc_id: key, request=request,
                                    signing_time=signing_time)
    if exc is not None:
        raise exc
    return result


@audited(durable=True)
def _store_stack(*, actor, signed: list[tuple[Any, _Signed]], session, seal, request
                 ) -> dict[Any, tuple[SealingResult | None, BaseException | None]]:
    """Store a signed stack in one transaction: the uses entered in the seal register (the
    seal's row locked first: a revocation waits or is seen), the documents locked at once
    (in id order) and their progress checked again under the lock, then one INSERT of the
    sealed renditions, one UPDATE of the completed documents and one audit entry per
    document, appended last. A document sealed meanwhile by the same unit keeps the first
    result (our signature is discarded; its register entry says the seal was used)."""
    session.register_uses([(s.plan.doc.pk, _document_ref(s.plan.doc)) for _, s in signed],
                          request=request)
    ids = [s.plan.doc.pk for _, s in signed]
    locked = {d.pk: d for d in OfficialDocument.objects.select_for_update(of=("self",))
              .filter(pk__in=ids).order_by("pk")}
    rows: dict[int, list[Rendition]] = {pk: [] for pk in ids}
    for row in Rendition.objects.filter(document_id__in=ids,
                                        fingerprint__startswith=SEALED_PREFIX):
        rows[row.document_id].append(row)
    out: dict[Any, tuple[SealingResult | None, BaseException | None]] = {}
    new_rows: list[Rendition] = []
    completed: list[OfficialDocument] = []
    now = timezone.now()
    for doc_id, s in signed:
        doc, k, total = locked[s.plan.doc.pk], s.plan.k, s.plan.total
        files = _files_of(rows[doc.pk])
        now_k = _applied(files)
        if now_k != k:
            if now_k > k:  # sealed by a concurrent request of this unit: the first stands
                out[doc_id] = (SealingResult(doc, now_k, total, files, True), None)
            else:
                out[doc_id] = (None, SealingRefused("用印进度已变化，请刷新后重试。", "conflict"))
            continue
        if doc.state != State.APPROVED:
            out[doc_id] = (None, SealingRefused(
                f"公文当前状态为“{doc.get_state_display()}”，不能用印。", "state"))
            continue
        n = k + 1
        for fmt, ref in s.refs.items():
            new_rows.append(Rendition(document=doc, file_format=fmt, revision=doc.revision,
                                      fingerprint=f"{SEALED_PREFIX}{n}:{ref.hex}"[:64],
                                      blob=ref.digest, size=ref.size))
        if n >= total:
            doc.apply(Action.SEAL)  # approved → sealed: from now on immutable (R-FLOW-1)
            doc.updated_at = now
            completed.append(doc)
        record(actor, "document.sealed", doc, request=request,
               detail={"doc_number": doc.doc_number, "es_id": seal.es_id,
                       "seal_unit": seal.unit.name, "seal": n, "of": total,
                       "complete": n >= total, "signing_time": s.when.isoformat(),
                       "idempotency_key": s.plan.key,
                       "pdf": s.refs[FileFormat.PDF].digest,
                       "ofd": s.refs[FileFormat.OFD].digest})
        out[doc_id] = (SealingResult(doc, n, total, {
            fmt: SealedFile(fmt, n, ref.digest, ref.size) for fmt, ref in s.refs.items()},
            False), None)
    Rendition.objects.bulk_create(new_rows)
    if completed:
        update_rows(completed, ["state", "updated_at"])
    return out
