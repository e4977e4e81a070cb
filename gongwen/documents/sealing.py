"""用印: the seal keeper seals an approved document (R-DOC-3, R-FLOW-1, R-SEAL-5/6; issue 8).

One verb, :func:`seal_document`, with the business rules of sealing in one place:

* only an approved document of a unit that issues it (发文机关) is sealed; 联合行文 (several
  issuing units) is sealed by each unit's keeper **in the order of the issuers**, each seal at
  its own GB/T 9704 seal box of the layout (7.3.5.2); the document becomes "sealed"
  (``TRANSITIONS[(approved, seal)]``) after the last one;
* every factor of art. 3 and 5 goes through :func:`gongwen.seals.services.authorize_seal_use`
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
  and gets the first result.

The key disk is opened *before* our transaction (``open_key_disk`` commits its PIN counter
itself); rendering and signing also run outside it, the transaction only stores and moves
the state.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from gongwen.audit.services import record
from gongwen.policy.permissions import Perm, can, require

from . import blobs, rendering
from .models import Action, FileFormat, OfficialDocument, Rendition, State

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
    out: dict[str, SealedFile] = {}
    for row in _sealed_rows(doc):
        k = _k_of(row)
        cur = out.get(row.file_format)
        if cur is None or k > cur.seals:
            out[row.file_format] = SealedFile(row.file_format, k, row.blob, row.size)
    return out


def seals_applied(doc: OfficialDocument) -> int:
    files = sealed_files(doc)
    return min((f.seals for f in files.values()), default=0) if files else 0


def sealed_bytes(doc: OfficialDocument, file_format: str = FileFormat.PDF) -> bytes | None:
    """The sealed file of ``doc`` in ``file_format`` (the newest, with every seal so far)."""
    f = sealed_files(doc).get(file_format)
    if f is None or not blobs.exists(f.blob):
        return None
    return blobs.read(f.blob)


def awaiting_seal(user):
    """The sealing queue of a seal keeper: approved documents whose next seal is one of the
    keeper's unit (lead unit, or a co-issuer whose turn it is)."""
    if not can(user, Perm.SEAL) or not user.unit_id:
        return []
    qs = (OfficialDocument.objects.filter(state=State.APPROVED, issuers__unit_id=user.unit_id)
          .select_related("unit").distinct().order_by("approved_at", "id"))
    out = []
    for doc in qs:
        issuers = sealing_issuers(doc)
        k = seals_applied(doc)
        if k < len(issuers) and issuers[k].pk == user.unit_id:
            out.append(doc)
    return out


def _result(doc: OfficialDocument, *, already: bool) -> SealingResult:
    files = sealed_files(doc)
    return SealingResult(doc, min((f.seals for f in files.values()), default=0),
                         len(sealing_issuers(doc)), files, already)


# ------------------------------------------------------------------------------ signing


def seal_files(sealer, *, pdf: bytes | None, ofd: bytes | None, box: Any, seal_image_png: bytes,
               signing_time: datetime, name: str = "") -> tuple[bytes | None, bytes | None]:
    """Seal the given renditions with an opened seal (a ``DocumentSealer``) at ``box``."""
    sealed_pdf = sealed_ofd = None
    if ofd is not None:
        sealed_ofd = sealer.seal_ofd(ofd, box=box, signing_time=signing_time)
    if pdf is not None:
        sealed_pdf = sealer.seal_pdf(pdf, box=box, seal_image_png=seal_image_png,
                                     signing_time=signing_time, name=name)
    return sealed_pdf, sealed_ofd


# --------------------------------------------------------------------------------- verb


def _refuse(actor, doc: OfficialDocument, why: str, message: str, request=None,
            **detail) -> SealingRefused:
    record(actor if getattr(actor, "pk", None) else None, "document.seal_refused", doc,
           detail={"why": why, **detail}, request=request)
    return SealingRefused(message, why)


def _base_files(doc: OfficialDocument, k: int) -> tuple[bytes, bytes]:
    if k == 0:
        pdf, _ = rendering.rendition(doc, FileFormat.PDF)
        ofd, _ = rendering.rendition(doc, FileFormat.OFD)
        return pdf, ofd
    pdf, ofd = sealed_bytes(doc, FileFormat.PDF), sealed_bytes(doc, FileFormat.OFD)
    if pdf is None or ofd is None:
        raise ValidationError("前一单位用印后的版式文件缺失，无法继续用印。")
    return pdf, ofd


def seal_document(*, actor, doc_id: int, seal_id: int, workstation_credential: str, pin: str,
                  idempotency_key: uuid.UUID | str | None = None, request=None,
                  signing_time: datetime | None = None) -> SealingResult:
    """用印 (R-FLOW-1: approve → **seal** → dispatch). See the module docstring."""
    from gongwen.seals.models import Seal
    from gongwen.seals.services import authorize_seal_use

    try:
        doc = OfficialDocument.objects.select_related("unit").get(pk=doc_id)
    except (OfficialDocument.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该公文。") from None
    require(actor, Perm.VIEW_DOCUMENT, doc, request=request)  # another unit's: 404, audited
    try:
        seal = Seal.objects.select_related("unit").get(pk=seal_id)
    except (Seal.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该电子印章。") from None
    key = str(idempotency_key) if idempotency_key else ""
    issuers = sealing_issuers(doc)
    position = next((n for n, u in enumerate(issuers) if u.pk == seal.unit_id), None)
    k = seals_applied(doc)
    if position is None:
        raise _refuse(actor, doc, "not_issuer",
                      f"“{seal.unit.name}”不是该公文的发文机关，不能加盖其印章。", request,
                      es_id=seal.es_id)
    if position < k:  # this unit has sealed already: a retry gets the first result
        return _result(doc, already=True)
    if doc.state != State.APPROVED:
        raise _refuse(actor, doc, "state",
                      f"公文当前状态为“{doc.get_state_display()}”，只有已核批的公文可以用印。",
                      request)
    if position != k:
        raise _refuse(actor, doc, "order",
                      f"联合行文按发文机关顺序用印，当前应由“{issuers[k].name}”用印。", request,
                      es_id=seal.es_id)
    try:
        lay = rendering.layout(doc)
        base_pdf, base_ofd = _base_files(doc, k)
    except rendering.RenderError as exc:
        raise ValidationError(f"无法生成版式文件：{exc.message_zh}") from exc
    if k >= len(lay.seals):
        raise ValidationError("版式中没有该发文机关的印章位置。")
    box = lay.seals[k]
    # Every factor of art. 3/5; opens the key disk in its own transaction (PIN counted),
    # audits a refusal, enters the use in the seal register.
    sealer = authorize_seal_use(user=actor, seal=seal, workstation_credential=workstation_credential,
                                pin=pin, document_id=doc.pk,
                                document_ref=(doc.doc_number or "") + " " + doc.title,
                                request=request)
    when = signing_time or timezone.now()
    sealed_pdf, sealed_ofd = seal_files(sealer, pdf=base_pdf, ofd=base_ofd, box=box,
                                        seal_image_png=bytes(seal.image_png),
                                        signing_time=when, name=seal.name)
    refs = {FileFormat.PDF: blobs.put(sealed_pdf), FileFormat.OFD: blobs.put(sealed_ofd)}
    try:
        return _store(actor=actor, doc_id=doc.pk, k=k, total=len(issuers), refs=refs,
                      seal=seal, key=key, when=when, request=request)
    except IntegrityError:  # a concurrent request of the same unit stored first
        return _result(OfficialDocument.objects.get(pk=doc.pk), already=True)


@transaction.atomic(durable=True)
def _store(*, actor, doc_id: int, k: int, total: int, refs: dict, seal, key: str,
           when: datetime, request) -> SealingResult:
    doc = OfficialDocument.objects.select_for_update(of=("self",)).get(pk=doc_id)
    now_k = seals_applied(doc)
    if now_k != k:
        # Someone sealed in between (the same unit's retry, or order changed): the first
        # result stands; our signature is discarded (its register entry says it was opened).
        if now_k > k:
            return _result(doc, already=True)
        raise SealingRefused("用印进度已变化，请刷新后重试。", "conflict")
    if doc.state != State.APPROVED:
        raise SealingRefused(f"公文当前状态为“{doc.get_state_display()}”，不能用印。", "state")
    n = k + 1
    for fmt, ref in refs.items():
        Rendition.objects.create(document=doc, file_format=fmt, revision=doc.revision,
                                 fingerprint=f"{SEALED_PREFIX}{n}:{ref.hex}"[:64],
                                 blob=ref.digest, size=ref.size)
    if n >= total:
        doc.apply(Action.SEAL)  # approved → sealed: from now on immutable (R-FLOW-1)
        doc.save(update_fields=["state", "updated_at"])
    record(actor, "document.sealed", doc, request=request,
           detail={"doc_number": doc.doc_number, "es_id": seal.es_id, "seal_unit": seal.unit.name,
                   "seal": n, "of": total, "complete": n >= total,
                   "signing_time": when.isoformat(), "idempotency_key": key,
                   "pdf": refs[FileFormat.PDF].digest, "ofd": refs[FileFormat.OFD].digest})
    return _result(doc, already=False)
