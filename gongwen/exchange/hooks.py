"""The two narrow points where the exchange depends on the sealing step (issue 8).

* ``sealed_file(document) -> bytes | None``: the sealed PDF/OFD that is dispatched;
* ``verify_for_receipt(document, delivery) -> Report``: the checks the receiving clerk sees
  before 签收 (R-FLOW-2, notice §3(7)); ``Report.ok`` False means the delivery is returned
  to the sender automatically with the failed checks as the reason.

Both use the sealing service of the documents app (``documents.sealing.sealed_bytes``,
``documents.verification.verify_file``: format, seal signature, certificate chain,
revocation, seal register, signer is the issuing unit, integrity, GB/T 9704 elements) and
add the exchange's own check that the file is byte for byte the one dispatched (SM3
fingerprint).

Carried files (R-FLOW-5, 转发): a sealed file may carry the originals it forwards (an
uploaded body, file attachments, a received sealed document). ``Report.carried`` lists each
(name, size, SM3, whether the outer seal covers exactly those bytes, and 原件印章核验 — the
verification of its own seals); a carried file the outer seal does not cover fails the
report (check ``carried``), an original whose own seal fails is a warning only
(``Report.warnings``). Without carried files the report and its JSON are what they were. Where the sealing service is not installed, ``_seal_checks`` falls back to
checks of state, sender and elements only (used by tests whose "sealed" file is a stand-in).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import asdict, dataclass, field

from gongwen.documents import blobs


@dataclass(frozen=True)
class Check:
    name: str        # machine name: format, integrity, seal, chain, revocation, sender, layout
    label: str       # 中文 label shown to the clerk
    ok: bool
    reason: str      # 中文 reason, shown beside the green/red mark


@dataclass(frozen=True)
class Report:
    ok: bool
    checks: tuple[Check, ...] = field(default_factory=tuple)
    # One entry per carried file (documents.verification.CarriedReport), R-FLOW-5.
    carried: tuple = field(default_factory=tuple)

    @classmethod
    def of(cls, checks: list[Check], carried: list | tuple = ()) -> Report:
        return cls(ok=bool(checks) and all(c.ok for c in checks), checks=tuple(checks),
                   carried=tuple(carried))

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def reason_zh(self) -> str:
        return "；".join(f"{c.label}：{c.reason}" for c in self.failures())

    def warnings(self) -> list:
        """Carried originals whose own seals do not verify (shown, not deciding)."""
        return [c for c in self.carried if c.warning]

    def as_dict(self) -> dict:
        out = {"ok": self.ok, "checks": [asdict(c) for c in self.checks]}
        if self.carried:
            out["carried"] = [c.as_dict() for c in self.carried]
        return out

    @classmethod
    def from_dict(cls, data: dict | None) -> Report | None:
        if not data:
            return None
        carried: tuple = ()
        if data.get("carried"):
            from gongwen.documents.verification import CarriedReport

            carried = tuple(CarriedReport.from_dict(c) for c in data["carried"])
        return cls(ok=bool(data.get("ok")),
                   checks=tuple(Check(**c) for c in data.get("checks", [])), carried=carried)


def file_format_of(data: bytes) -> str:
    """"pdf", "ofd" or "" for bytes that are neither."""
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "OFD.xml" in z.namelist():
                    return "ofd"
        except zipfile.BadZipFile:
            return ""
    return ""


def _sealing():
    try:
        from gongwen.documents import sealing, verification
    except ImportError:  # pragma: no cover - the sealing step is part of the product
        return None, None
    return sealing, verification


@dataclass(frozen=True)
class SealedFile:
    """A sealed file as the blob store holds it: its bytes and the blob's name, the digest
    the sealing step computed of those bytes when it stored them. Dispatch records that
    digest as the fingerprint instead of hashing the file again; should the stored file
    have changed since, the verification right after dispatch finds that its bytes no longer
    match the fingerprint and returns the delivery (the integrity check)."""

    data: bytes
    digest: str


def sealed_file(document) -> bytes | None:
    """The file to dispatch for a sealed ``document`` (PDF first, then OFD), or None: the
    one-document case of ``sealed_files``."""
    found = sealed_files([document])[document.pk]
    return found.data if found is not None else None


def sealed_files(documents) -> dict[int, SealedFile | None]:
    """``sealed_file`` for a stack of documents, with one query for all their sealed
    renditions: the same choice per document (the sealing service's newest PDF, then OFD,
    with the most seals; else a ``sealed…`` rendition of another shape, newest first)."""
    from gongwen.documents.models import Rendition

    docs = list(documents)
    rows: dict[int, list] = {d.pk: [] for d in docs}
    for row in (Rendition.objects.filter(document_id__in=list(rows),
                                         fingerprint__startswith="sealed")
                .only("id", "document_id", "file_format", "fingerprint", "blob", "created_at")
                .order_by("id")):
        rows[row.document_id].append(row)
    sealing, _ = _sealing()
    prefix = getattr(sealing, "SEALED_PREFIX", None) if sealing is not None else None
    out: dict[int, SealedFile | None] = {}
    for doc in docs:
        out[doc.pk] = _choose_sealed(rows[doc.pk], prefix)
    return out


def _seals_of(row) -> int:
    try:
        return int(row.fingerprint.split(":")[1])
    except (IndexError, ValueError):
        return 0


def _choose_sealed(rows: list, prefix: str | None) -> SealedFile | None:
    if prefix:  # the sealing service's files (documents.sealing.sealed_bytes)
        for fmt in ("pdf", "ofd"):
            best = None
            for row in rows:
                if row.file_format == fmt and row.fingerprint.startswith(prefix) and (
                        best is None or _seals_of(row) > _seals_of(best)):
                    best = row
            if best is not None and blobs.exists(best.blob):
                return SealedFile(blobs.read(best.blob), best.blob)
    for fmt in ("pdf", "ofd"):
        newest = sorted((r for r in rows if r.file_format == fmt),
                        key=lambda r: (r.created_at, r.id), reverse=True)
        if newest and blobs.exists(newest[0].blob):
            return SealedFile(blobs.read(newest[0].blob), newest[0].blob)
    return None


def verify_for_receipt(document, delivery) -> Report:
    """The verification report for ``delivery`` of ``document`` (R-FLOW-2). It depends on
    the dispatched file and the document only, not on the recipient: see
    ``verify_dispatched``."""
    return verify_dispatched(document, delivery.dispatch)


def verify_dispatched_stack(pairs, authorities: list | None = None) -> list[Report]:
    """``verify_dispatched`` for each ``(document, dispatch)`` of a stack, in order. The rows
    the verification reads (certificate authorities, seal register) are read once for the
    stack (``authorities``: the CA rows the caller already holds)."""
    _, verification = _sealing()
    register = verification.RegisterReader(authorities) if verification is not None else None
    return [verify_dispatched(document, dispatch, register) for document, dispatch in pairs]


def verify_dispatched(document, dispatch, register=None) -> Report:
    """The verification report of the file ``dispatch`` sent, valid for each of its
    deliveries. ``register``: the verification's database reads shared with the other
    files of a stack (``documents.verification.RegisterReader``)."""
    try:
        data = blobs.read(dispatch.fingerprint)
    except (blobs.BlobError, OSError):
        data = None
    if data is None:
        return Report.of([Check("integrity", "文件完整性", False, "未找到所发送的版式文件")])
    algorithm = dispatch.fingerprint.split(":", 1)[0]
    seal_checks, computed = _seal_checks(document, dispatch, data, register,
                                         algorithm if algorithm in ("sm3", "sha256") else None)
    fingerprint = (f"{algorithm}:{computed.hex()}" if computed is not None
                   else blobs.digest_of(data, dispatch.fingerprint))
    same = fingerprint == dispatch.fingerprint
    checks = [Check("dispatched", "与发出文件一致", same,
                    "文件指纹与发送时一致（SM3）" if same
                    else "文件指纹与发送时不一致，文件可能被篡改")]
    carried, carried_checks = _carried(data, register)
    return Report.of(checks + seal_checks + carried_checks, carried)


def _carried(data: bytes, register=None) -> tuple[list, list[Check]]:
    """The carried files of the dispatched file (R-FLOW-5) and the one check over them:
    every carried file must be covered by the outer seal byte for byte. An original whose
    own seal fails is a warning (``Report.warnings``), not a failed check."""
    _, verification = _sealing()
    if verification is None:  # pragma: no cover
        return [], []
    carried = verification.verify_carried(data, register=register)
    if not carried:
        return [], []
    bad = [c for c in carried if c.covered is not True]
    if bad:
        reason = "；".join(f"“{c.name}”{c.covered_reason_zh}" for c in bad)
        return carried, [Check("carried", "随文原件完整性", False, reason)]
    return carried, [Check("carried", "随文原件完整性", True,
                           f"随文原件 {len(carried)} 个，均受印章保护，与签章时一致")]


def _seal_checks(document, dispatch, data: bytes, register=None, algorithm: str | None = None
                 ) -> tuple[list[Check], bytes | None]:
    """The sealing verification (documents.verification.verify_file), one Check per
    applicable check; checks that do not apply (``ok is None``) are left out. With
    ``algorithm``, also the file's digest in it when the verification computed it on the
    way (a readable PDF: see ``check_pdf(digest_whole=…)``), else None."""
    sealing, verification = _sealing()
    if verification is None:  # pragma: no cover
        return _fallback_checks(document, dispatch, data), None
    claimed = sealing.sealing_issuers(document)
    rep = verification.verify_file(data, document=document, claimed_units=claimed,
                                   register=register, digest=algorithm)
    computed = rep.file_digest[1] if rep.file_digest is not None else None
    out = []
    for name, c in rep.checks():
        if c.ok is None:
            continue
        out.append(Check(name, verification.CHECK_LABELS_ZH[name], bool(c.ok), c.reason_zh))
    if not rep.signatures:
        out.append(Check("seal_present", "电子印章", False, "文件中没有电子印章签章"))
    if document.unit_id != dispatch.sender_unit_id:
        out.append(Check("sender", "发文单位", False, "文件的发文单位与分发单位不符"))
    return out, computed


def _fallback_checks(document, dispatch, data: bytes) -> list[Check]:
    """Without the sealing verification: format, sender, state and elements only."""
    checks: list[Check] = []
    fmt = file_format_of(data)
    checks.append(Check("format", "文件格式", bool(fmt),
                        f"{fmt.upper()} 版式文件" if fmt else "不是可识别的 PDF/OFD 版式文件"))
    sender_ok = document.unit_id == dispatch.sender_unit_id
    checks.append(Check("sender", "发文单位", sender_ok,
                        f"发文单位为{dispatch.sender_unit.name}" if sender_ok
                        else "文件的发文单位与分发单位不符"))
    sealed = document.state in ("sealed", "dispatched", "withdrawn")
    checks.append(Check("seal", "电子印章", sealed,
                        "公文已经用印（未做印章签名核验）" if sealed else "公文未经用印"))
    layout_ok = bool(document.doc_number and document.title)
    checks.append(Check("layout", "公文格式", layout_ok,
                        f"发文字号 {document.doc_number}" if layout_ok else "缺少发文字号或标题"))
    return checks
