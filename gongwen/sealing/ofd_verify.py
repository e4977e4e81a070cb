"""Verify the seal signatures of an OFD document (GB/T 33190-2016 §18, GB/T 38540-2020 §7.3).

The cryptography and the reference digests are the seal core's
(:func:`gongwen.seals.ses.ofd_signatures.verify_ofd_signatures`: one implementation); this
module turns its result into the per-signature report the receiving inbox, the public page
and the CLI show, and adds the document-level checks a sealed 公文 needs:

==================  =====================================================================
check               meaning
==================  =====================================================================
``references``      every ``Reference`` digest (CheckMethod SM3 / 1.2.156.10197.1.401)
``format``          SignedValue.dat parses as SES_Signature v4 (or v1)
``signature``       SM3withSM2 over DER(TBS_Sign) with the signer certificate
``signer_in_seal``  the signer certificate is DER-identical to one in the seal's certList
``seal_signature``  the maker's signature on the embedded SES_Seal
``maker_certificate`` / ``signer_certificate``  caller hooks (chain, CRL) — else skipped
``seal_validity``   ``validStart ≤ timeInfo ≤ validEnd``
``data_hash``       ``TBS_Sign.dataHash == SM3(Signature.xml bytes)``
``seal_file``       Seal.esl is byte-identical to ``TBS_Sign.eseal``
``stamp_annot``     a StampAnnot places the seal on an existing page with a real box
``signing_time``    the signing time is not after the verification time ``at``
``signature_list``  every earlier signature this one protects is still in Signatures.xml
==================  =====================================================================

Each check carries ``ok`` (True passed, False failed, None skipped), an English ``reason``
and a Chinese ``reason_zh``. **Findings** do not invalidate a signature: files the signature
does not cover because they were added after it (later signatures' files excepted), files no
signature covers. Signatures.xml is deliberately outside every gongwen signature (see
:mod:`.ofd_seal`); ``signature_list`` is what keeps a seal from being hidden by editing it.

The signer and maker certificates are returned (``signer_cert``, ``maker_cert``) so that the
caller validates them against its CAs and CRLs at ``signing_time`` — or passes
``maker_check`` / ``signer_check`` hooks (``gongwen.seals.ses.seal.chain_check``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree

from gongwen.pki.errors import PKIError
from gongwen.seals.ses.ofd_signatures import (
    OFDSignatureResult as CoreSignatureResult,
)
from gongwen.seals.ses.ofd_signatures import (
    ReferenceResult,
    verify_ofd_signatures,
)
from gongwen.seals.ses.seal import MakerCheck
from gongwen.seals.ses.signature import CHECK_LABELS_ZH, Check, CheckStatus, SignerCheck

from . import report as _report
from .ofd_package import (
    OFD_NS,
    PageRef,
    child,
    children,
    document_pages,
    load_package,
    local_name,
    parse_xml,
    resolve_loc,
    text_of,
)

__all__ = [
    "CLOCK_SKEW",
    "CheckResult",
    "Finding",
    "OFDReport",
    "OFDSignatureResult",
    "OFDUnreadable",
    "StampAnnotInfo",
    "check_ofd",
    "verify_ofd",
]

#: A signing time up to this much after ``at`` is accepted (clocks of signing workstations).
CLOCK_SKEW = timedelta(minutes=10)

LABELS_ZH = {
    **CHECK_LABELS_ZH,
    "package": "OFD 文件包",
    "stamp_annot": "印章外观位置",
    "signing_time": "签章时间",
    "signature_list": "签名列表完整性",
}

_PASSED = {
    "references": ("every protected file matches its digest", "受保护文件摘要全部一致"),
    "format": ("the signed value is a well-formed SES_Signature", "签章数据格式正确"),
    "signature": ("the SM2 signature over TBS_Sign verifies", "签章签名值验证通过"),
    "signer_in_seal": (
        "the signer certificate is in the seal's certificate list",
        "签章者证书在电子印章的证书列表中",
    ),
    "seal_signature": ("the seal maker's signature verifies", "电子印章的制章者签名验证通过"),
    "maker_certificate": ("the seal maker's certificate is trusted", "制章者证书可信"),
    "seal_validity": ("signed within the seal's validity period", "签章时间在印章有效期内"),
    "signer_certificate": ("the signer certificate is valid", "签章者证书有效"),
    "data_hash": ("the data hash matches Signature.xml", "原文摘要与签名描述文件一致"),
    "seal_file": ("Seal.esl equals the seal inside the signature", "印章文件与签章中的印章一致"),
}

_SKIPPED_ZH = {
    "maker_certificate": "未校验制章者证书（由调用方按 CA 与 CRL 校验返回的证书）",
    "signer_certificate": "未校验签章者证书（由调用方按 CA 与 CRL 校验返回的证书）",
    "timestamp": "含时间戳，未评估",
}


class OFDUnreadable(PKIError):
    """The package is not a readable OFD (not a zip, no OFD.xml, broken XML, a declared
    signature list missing): no signature can be judged."""

    code = "ofd.unreadable"
    default_message = "the OFD package cannot be read"
    default_message_zh = "OFD 文件无法读取"

    def __init__(self, message: str | None = None, *, message_zh: str | None = None,
                 report: OFDReport | None = None) -> None:  # fmt: skip
        super().__init__(message, message_zh=message_zh)
        self.report = report


class CheckResult(_report.CheckResult):
    """One check on an OFD signature (or on the package); the shape is :mod:`.report`'s."""

    labels_zh = LABELS_ZH

    @classmethod
    def from_core(cls, c: Check) -> CheckResult:
        if c.status is CheckStatus.FAILED:
            err = c.error
            return cls(
                c.name,
                "failed",
                str(err) if err else c.note or "failed",
                err.message_zh if err else "校验未通过",
                c.code,
            )
        if c.status is CheckStatus.SKIPPED:
            return cls(c.name, "skipped", c.note or "skipped", _SKIPPED_ZH.get(c.name, "未校验"))
        en, zh = _PASSED.get(c.name, ("passed", "通过"))
        if c.note:
            en = f"{en} ({c.note})"
        return cls(c.name, "passed", en, zh)


@dataclass(frozen=True)
class Finding:
    """Something the reader should know that does not by itself invalidate a signature."""

    code: str  # "ofd.added_after_signing", "ofd.unprotected", "ofd.stamp_outside_page", …
    message: str
    message_zh: str
    path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "message_zh": self.message_zh,
        }


@dataclass(frozen=True)
class StampAnnotInfo:
    id: str
    page_ref: str  # the page ID as written
    page_index: int | None  # 0-based, None if the page does not exist
    boundary: tuple[float, float, float, float] | None  # x y w h, mm
    clip: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "page_ref": self.page_ref,
            "page": None if self.page_index is None else self.page_index + 1,
            "boundary": list(self.boundary) if self.boundary else None,
            "clip": self.clip,
        }


@dataclass
class OFDSignatureResult(_report.SignatureChecks):
    """One signature of the document and every check on it."""

    id: str
    type: str  # "Seal" (SES_Signature) | "Sign" (plain digital signature)
    signature_path: str
    signed_value_path: str | None
    signature_datetime: str | None  # SignatureDateTime as written (xs:string)
    signing_time: datetime | None  # TBS_Sign.timeInfo, UTC
    provider: dict[str, str]
    seal: dict[str, Any] | None  # name, esID, type, vid, version, validity of the seal used
    signer_cert: bytes | None = field(repr=False)
    maker_cert: bytes | None = field(repr=False)
    stamp_annots: list[StampAnnotInfo]
    references: list[ReferenceResult]
    checks: list[CheckResult]
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    core: CoreSignatureResult | None = field(default=None, repr=False)

    @property
    def verdict(self) -> str:
        """``valid``; ``unverifiable`` (only a missing certificate stands in the way, bare
        ``Type="Sign"`` signatures); ``invalid``."""
        failed = self.failures
        if not failed:
            return "valid"
        if all(c.code == "signature.unverifiable" for c in failed):
            return "unverifiable"
        return "invalid"

    def as_dict(self) -> dict[str, Any]:
        from gongwen.seals.ses.seal import _cert_summary

        return {
            "id": self.id,
            "type": self.type,
            "verdict": self.verdict,
            "ok": self.ok,
            "signature": self.signature_path,
            "signed_value": self.signed_value_path,
            "signature_datetime": self.signature_datetime,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "provider": self.provider,
            "seal": self.seal,
            "signer": _cert_summary(self.signer_cert) if self.signer_cert else None,
            "maker": _cert_summary(self.maker_cert) if self.maker_cert else None,
            "stamp_annots": [a.as_dict() for a in self.stamp_annots],
            "checks": [c.as_dict() for c in self.checks],
            "references": [r.as_dict() for r in self.references],
            "findings": [f.as_dict() for f in self.findings],
            "warnings": self.warnings,
        }


@dataclass
class OFDReport(_report.ReportChecks):
    signatures: list[OFDSignatureResult]
    errors: list[CheckResult] = field(default_factory=list)  # package-level failures
    findings: list[Finding] = field(default_factory=list)  # package-level findings
    warnings: list[str] = field(default_factory=list)
    unprotected: list[str] = field(default_factory=list)  # files no signature covers
    at: datetime | None = None

    @property
    def verdict(self) -> str:
        """``valid``, ``invalid``, ``unverifiable``, ``unsigned``."""
        if self.errors:
            return "invalid"
        if not self.signatures:
            return "unsigned"
        verdicts = {s.verdict for s in self.signatures}
        for v in ("invalid", "unverifiable"):
            if v in verdicts:
                return v
        return "valid"

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": "ofd",
            "verdict": self.verdict,
            "valid": self.valid,
            "verified_at": self.at.isoformat() if self.at else None,
            "errors": [c.as_dict() for c in self.errors],
            "signatures": [s.as_dict() for s in self.signatures],
            "findings": [f.as_dict() for f in self.findings],
            "unprotected": self.unprotected,
            "warnings": self.warnings,
        }


# --------------------------------------------------------------------------------------------


@dataclass
class _DocInfo:
    pages: list[PageRef]
    sigs_path: str | None
    listed: list[str]  # Signature.xml paths named by the signature list
    list_ok: bool = True  # the list's root is an OFD Signatures element


def _documents(files: dict[str, bytes]) -> list[_DocInfo]:
    """Per DocBody: the pages and the signature list (best effort: the seal core reports
    what is broken)."""
    out: list[_DocInfo] = []
    try:
        root = parse_xml(files["OFD.xml"])
    except (KeyError, etree.XMLSyntaxError):
        return out
    for body in children(root, "DocBody"):
        doc_path = resolve_loc("", text_of(child(body, "DocRoot")))
        pages: list[PageRef] = []
        if doc_path and doc_path in files:
            try:
                pages = document_pages(files, doc_path)
            except etree.XMLSyntaxError:
                pages = []
        sigs_path = resolve_loc("", text_of(child(body, "Signatures")))
        listed: list[str] = []
        list_ok = True
        if sigs_path and sigs_path in files:
            try:
                sroot = parse_xml(files[sigs_path])
                list_ok = (
                    local_name(sroot) == "Signatures" and etree.QName(sroot).namespace == OFD_NS
                )
                base = posixpath.dirname(sigs_path)
                listed = [
                    p
                    for p in (
                        resolve_loc(base, s.get("BaseLoc")) for s in children(sroot, "Signature")
                    )
                    if p
                ]
            except etree.XMLSyntaxError:
                pass
        out.append(_DocInfo(pages, sigs_path, listed, list_ok))
    return out


def _boundary(text: str | None) -> tuple[float, float, float, float] | None:
    try:
        v = [float(x) for x in (text or "").replace(",", " ").split()]
    except ValueError:
        return None
    return (v[0], v[1], v[2], v[3]) if len(v) == 4 else None


def _stamp_check(
    core: CoreSignatureResult, pages: list[PageRef]
) -> tuple[CheckResult, list[StampAnnotInfo], list[Finding]]:
    by_id = {p.id: p for p in pages}
    annots: list[StampAnnotInfo] = []
    findings: list[Finding] = []
    problems: list[tuple[str, str]] = []
    for a in core.stamp_annots:
        page = by_id.get(a.get("PageRef", ""))
        box = _boundary(a.get("Boundary"))
        info = StampAnnotInfo(
            a.get("ID", ""), a.get("PageRef", ""), page.index if page else None, box, a.get("Clip")
        )
        annots.append(info)
        if page is None:
            problems.append(
                (
                    f"StampAnnot {info.id} refers to page {info.page_ref}, which does not exist",
                    f"印章外观 {info.id} 所在页（{info.page_ref}）不存在",
                )
            )
            continue
        if box is None or box[2] <= 0 or box[3] <= 0:
            problems.append(
                (
                    f"StampAnnot {info.id} has no usable Boundary ({a.get('Boundary')!r})",
                    f"印章外观 {info.id} 的位置和大小无效",
                )
            )
            continue
        if page.width and page.height:
            x, y, w, h = box
            if x >= page.width or y >= page.height or x + w <= 0 or y + h <= 0:
                findings.append(
                    Finding(
                        "ofd.stamp_outside_page",
                        f"StampAnnot {info.id} lies outside page {page.index + 1}",
                        f"印章外观 {info.id} 位于第 {page.index + 1} 页版面之外",
                    )
                )
    if not core.stamp_annots:
        check = CheckResult.failure(
            "stamp_annot",
            "ofd.stamp_annot",
            "the seal signature has no StampAnnot: the seal is not shown anywhere",
            "签章未指定印章外观位置（缺少 StampAnnot），文件上不显示印章",
        )
    elif problems:
        check = CheckResult.failure(
            "stamp_annot",
            "ofd.stamp_annot",
            "; ".join(p[0] for p in problems),
            "；".join(p[1] for p in problems),
        )
    else:
        where = ", ".join(f"page {a.page_index + 1}" for a in annots if a.page_index is not None)
        where_zh = "、".join(
            f"第 {a.page_index + 1} 页" for a in annots if a.page_index is not None
        )
        check = CheckResult.passed(
            "stamp_annot", f"the seal is shown on {where}", f"印章显示在{where_zh}"
        )
    return check, annots, findings


def _signing_time_check(t: datetime | None, at: datetime) -> CheckResult:
    if t is None:
        return CheckResult(
            "signing_time", "skipped", "no readable signing time", "签章时间无法识别"
        )
    if t > at + CLOCK_SKEW:
        return CheckResult.failure(
            "signing_time",
            "signature.future",
            f"signed at {t:%Y-%m-%d %H:%M:%S}Z, after the verification time "
            f"{at:%Y-%m-%d %H:%M:%S}Z",
            f"签章时间 {t:%Y-%m-%d %H:%M:%S} UTC 晚于验证时间 {at:%Y-%m-%d %H:%M:%S} UTC",
        )
    return CheckResult.passed(
        "signing_time",
        f"signed at {t:%Y-%m-%d %H:%M:%S}Z",
        f"签章时间 {t:%Y-%m-%d %H:%M:%S} UTC",
    )


def _is_signature_xml(data: bytes | None) -> bool:
    if not data or b"Signature" not in data[:4096]:
        return False
    try:
        root = parse_xml(data)
    except etree.XMLSyntaxError:
        return False
    return local_name(root) == "Signature" and etree.QName(root).namespace == OFD_NS


def _seal_summary(core: CoreSignatureResult) -> dict[str, Any] | None:
    if core.info is None:
        return None
    s = core.info.seal
    return {
        "name": s.name,
        "es_id": s.es_id,
        "type": s.type,
        "vid": s.vid,
        "version": s.version,
        "valid_start": s.valid_start.isoformat(),
        "valid_end": s.valid_end.isoformat(),
        "picture": {
            "type": s.picture.type,
            "width_mm": s.picture.width_mm,
            "height_mm": s.picture.height_mm,
        },
    }


def check_ofd(
    ofd: bytes | str | Path | dict[str, bytes],
    *,
    at: datetime | None = None,
    maker_check: MakerCheck | None = None,
    signer_check: SignerCheck | None = None,
    external_certs: Iterable[bytes | str] = (),
) -> OFDReport:
    """The full verification report of an OFD package (never raises for bad input).

    ``at``: the verification time (default now, UTC); signing times after it (beyond
    :data:`CLOCK_SKEW`) fail ``signing_time``. Seal validity and the certificate hooks are
    judged at each signature's own signing time. ``external_certs``: certificates for bare
    ``Type="Sign"`` signatures, which carry none.
    """
    at = (at or datetime.now(UTC)).astimezone(UTC)
    report = OFDReport([], at=at)
    try:
        files = ofd if isinstance(ofd, dict) else load_package(ofd)
    except PKIError as exc:
        report.errors.append(
            CheckResult.failure(
                "package", getattr(exc, "code", "ofd.package"), str(exc), exc.message_zh
            )
        )
        return report
    core = verify_ofd_signatures(
        files, maker_check=maker_check, signer_check=signer_check, external_certs=external_certs
    )
    for c in core.errors:
        report.errors.append(CheckResult.from_core(c))
    report.warnings.extend(core.warnings)
    report.unprotected = list(core.unprotected)

    docs = _documents(files)
    page_of: dict[str, list[PageRef]] = {}
    listed: set[str] = set()
    lists: set[str] = set()
    bad_list: set[str] = set()  # signatures listed in a list that is not ofd:Signatures
    for d in docs:
        listed.update(d.listed)
        if not d.list_ok:
            bad_list.update(d.listed)
        if d.sigs_path:
            lists.add(d.sigs_path)
        for p in d.listed:
            page_of[p] = d.pages
    default_pages = docs[0].pages if docs else []

    sigs = core.signatures
    own_files: list[set[str]] = []
    for s in sigs:
        own = {s.signature_path}
        if s.signed_value_path:
            own.add(s.signed_value_path)
        if s.info is not None:  # Seal.esl of this signature, when it has one
            own.update(
                r.path
                for r in s.references
                if r.path
                and r.path.endswith(".esl")
                and posixpath.dirname(r.path) == posixpath.dirname(s.signature_path)
            )
        own_files.append(own)
    covered_by = [{r.path for r in s.references if r.path} for s in sigs]

    for i, s in enumerate(sigs):
        checks = [CheckResult.from_core(c) for c in s.checks]
        findings: list[Finding] = []
        annots: list[StampAnnotInfo] = []
        if s.type == "Seal":
            stamp, annots, stamp_findings = _stamp_check(
                s, page_of.get(s.signature_path, default_pages)
            )
            checks.append(stamp)
            findings.extend(stamp_findings)
            checks.append(_signing_time_check(s.info.signing_time if s.info else None, at))
        else:
            annots = [
                StampAnnotInfo(
                    a.get("ID", ""),
                    a.get("PageRef", ""),
                    None,
                    _boundary(a.get("Boundary")),
                    a.get("Clip"),
                )
                for a in s.stamp_annots
            ]
        # earlier signatures this one protects must still be listed
        protected_sigs = sorted(
            p for p in covered_by[i] if p != s.signature_path and _is_signature_xml(files.get(p))
        )
        dropped = [p for p in protected_sigs if p not in listed]
        if s.signature_path in bad_list:
            checks.append(
                CheckResult.failure(
                    "signature_list",
                    "ofd.signature_list",
                    f"the signature list is not an ofd:Signatures document (namespace {OFD_NS})",
                    "签名列表文件的根元素或命名空间不正确",
                )
            )
        elif dropped:
            checks.append(
                CheckResult.failure(
                    "signature_list",
                    "ofd.signature_list",
                    "signature(s) protected by this one are missing from the signature list: "
                    + ", ".join(dropped),
                    "本签章保护的其他签章已从签名列表中删除：" + "、".join(dropped),
                )
            )
        else:
            checks.append(
                CheckResult.passed(
                    "signature_list",
                    f"{len(protected_sigs)} earlier signature(s) protected and listed",
                    f"本签章保护的 {len(protected_sigs)} 个先前签章均在签名列表中",
                )
            )
        # files this signature does not cover
        later_own = set().union(*own_files[i + 1 :]) if i + 1 < len(sigs) else set()
        for name in files:
            if name in covered_by[i] or name in own_files[i] or name in later_own or name in lists:
                continue
            later = [sigs[j].id for j in range(i + 1, len(sigs)) if name in covered_by[j]]
            if later:
                msg = f"{name} was added after this signature; covered by {', '.join(later)}"
                msg_zh = f"{name} 在本签章之后加入，由后续签章（{'、'.join(later)}）保护"
            else:
                msg = f"{name} was added after this signature and no signature covers it"
                msg_zh = f"{name} 在本签章之后加入，未受任何签章保护"
            findings.append(Finding("ofd.added_after_signing", msg, msg_zh, name))
        info = s.info
        report.signatures.append(
            OFDSignatureResult(
                id=s.id,
                type=s.type,
                signature_path=s.signature_path,
                signed_value_path=s.signed_value_path,
                signature_datetime=s.signature_datetime,
                signing_time=info.signing_time if info else None,
                provider=dict(s.provider),
                seal=_seal_summary(s),
                signer_cert=info.signer_cert if info else None,
                maker_cert=info.seal.maker_cert if info else None,
                stamp_annots=annots,
                references=list(s.references),
                checks=checks,
                findings=findings,
                warnings=list(s.warnings),
                core=s,
            )
        )

    for name in report.unprotected:
        report.findings.append(
            Finding(
                "ofd.unprotected",
                f"{name} is not covered by any signature",
                f"{name} 未受任何签章保护（可能在签章后加入）",
                name,
            )
        )
    for name in sorted(files):
        if _is_signature_xml(files.get(name)) and name not in listed and sigs:
            report.findings.append(
                Finding(
                    "ofd.unlisted_signature",
                    f"{name} is a signature that the signature list does not name",
                    f"{name} 是未列入签名列表的签章",
                    name,
                )
            )
    return report


def verify_ofd(
    ofd_bytes: bytes | str | Path | dict[str, bytes],
    *,
    at: datetime | None = None,
    maker_check: MakerCheck | None = None,
    signer_check: SignerCheck | None = None,
    external_certs: Iterable[bytes | str] = (),
) -> list[OFDSignatureResult]:
    """Verify every signature of an OFD document; one result per signature, in the order of
    Signatures.xml (an unsigned document gives ``[]``). Raises :class:`OFDUnreadable` when the
    package cannot be judged at all (``err.report`` holds the report). See :func:`check_ofd`
    for the whole report with package-level findings."""
    report = check_ofd(
        ofd_bytes,
        at=at,
        maker_check=maker_check,
        signer_check=signer_check,
        external_certs=external_certs,
    )
    if report.errors:
        first = report.errors[0]
        raise OFDUnreadable(first.reason, message_zh=first.reason_zh, report=report)
    return report.signatures
