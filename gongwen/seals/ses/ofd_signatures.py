"""Verify the signatures of an OFD package (GB/T 33190-2016 §18 with GB/T 38540-2020).

Pure and read-only: reads ``OFD.xml`` → ``Signatures.xml`` → each ``Signature.xml``, checks
every ``Reference`` digest (``CheckValue`` = base64 of the digest of the file's bytes;
CheckMethod ``SM3`` or ``1.2.156.10197.1.401``, case-insensitive), then the signed value:

* ``Type="Seal"`` (the default): ``SignedValue.dat`` is an SES_Signature; all checks of
  :func:`gongwen.seals.ses.signature.check_signature` with the signed data = the exact
  bytes of ``Signature.xml`` and, when ``<Seal>`` is present, Seal.esl compared to the
  embedded seal;
* ``Type="Sign"``: a plain digital signature. A bare SM2 signature over ``Signature.xml``
  (as ofdrw's DigitalSign writes it) carries no certificate: it is verified with the
  certificates the caller supplies (``external_certs``), otherwise reported unverifiable.
  GB/T 35275 PKCS#7 signed data is left to the CMS module (reported unverifiable).

Warnings do not invalidate: deviations read leniently, files that no signature protects,
files that the document declares but the package lacks. The OFD writer and the full
document report live in the documents package; this module only judges signatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from gongwen.pki.errors import InvalidSignature, MalformedInput, PKIError, UnsupportedAlgorithm
from gongwen.pki.suites import sm2_za, sm3

from .errors import MalformedSES, ReferenceDigestMismatch, UnverifiableSignature
from .ofd_xml import (
    MAX_PACKAGE_BYTES,
    OFD_NS,
    child,
    children,
    local_name,
    parse_xml,
    read_package,
    resolve_loc,
)
from .seal import MakerCheck, _to_der_cert, verify_with_cert_key
from .signature import (
    Check,
    CheckStatus,
    SignatureInfo,
    SignerCheck,
    check_signature,
)

__all__ = [
    "MAX_PACKAGE_BYTES",
    "OFD_NS",
    "OFDSignatureResult",
    "OFDVerification",
    "ReferenceResult",
    "read_package",
    "sm2_za",
    "verify_ofd_signatures",
]

_SM3_METHODS = {"sm3", "1.2.156.10197.1.401"}
# The HMAC-SM3 OID, written by some vendors for plain SM3 digests (ofdrw #192).
_SM3_LENIENT = {"1.2.156.10197.1.401.2"}
_SHA256_METHODS = {"sha256", "sha-256", "2.16.840.1.101.3.4.2.1"}


@dataclass(frozen=True)
class ReferenceResult:
    file_ref: str  # as written
    path: str | None  # resolved package path
    ok: bool
    reason: str | None = None
    reason_zh: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file_ref,
            "ok": self.ok,
            "reason": self.reason,
            "reason_zh": self.reason_zh,
        }


@dataclass
class OFDSignatureResult:
    id: str
    type: str  # "Seal" | "Sign"
    signature_path: str  # package path of Signature.xml
    signed_value_path: str | None
    signature_method: str | None
    signature_datetime: str | None  # as written (xs:string)
    provider: dict[str, str]
    references: list[ReferenceResult]
    checks: list[Check]
    info: SignatureInfo | None = None
    stamp_annots: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(c.failed for c in self.checks)

    @property
    def verdict(self) -> str:
        """``valid``, ``unverifiable`` (only a missing certificate stands in the way) or
        ``invalid``."""
        failed = [c for c in self.checks if c.failed]
        if not failed:
            return "valid"
        if all(isinstance(c.error, UnverifiableSignature) for c in failed):
            return "unverifiable"
        return "invalid"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "signature": self.signature_path,
            "verdict": self.verdict,
            "checks": [c.as_dict() for c in self.checks],
            "references": [r.as_dict() for r in self.references],
            "stamp_annots": self.stamp_annots,
            "warnings": self.warnings,
        }


@dataclass
class OFDVerification:
    signatures: list[OFDSignatureResult]
    errors: list[Check] = field(default_factory=list)  # package-level failures
    warnings: list[str] = field(default_factory=list)
    unprotected: list[str] = field(default_factory=list)  # files no signature covers

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    @property
    def valid(self) -> bool:
        return not self.errors and self.signed and all(s.valid for s in self.signatures)

    @property
    def verdict(self) -> str:
        if self.errors:
            return "invalid"
        if not self.signatures:
            return "unsigned"
        verdicts = {s.verdict for s in self.signatures}
        if "invalid" in verdicts:
            return "invalid"
        if "unverifiable" in verdicts:
            return "unverifiable"
        return "valid"

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "valid": self.valid,
            "errors": [c.as_dict() for c in self.errors],
            "signatures": [s.as_dict() for s in self.signatures],
            "warnings": self.warnings,
            "unprotected": self.unprotected,
        }


# --------------------------------------------------------------------------------------------
# package reading
# --------------------------------------------------------------------------------------------


class _Package:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self._lower: dict[str, list[str]] = {}
        for name in files:
            self._lower.setdefault(name.lower(), []).append(name)

    def get(self, path: str | None) -> tuple[str | None, bytes | None, str | None]:
        """(actual name, bytes, warning) for a package path, falling back to a unique
        case-insensitive match (with a warning)."""
        if path is None:
            return None, None, None
        if path in self.files:
            return path, self.files[path], None
        cands = self._lower.get(path.lower(), [])
        if len(cands) == 1:
            return cands[0], self.files[cands[0]], f"{path} found as {cands[0]} (case differs)"
        return None, None, None


def _text(el: etree._Element | None) -> str | None:
    """Like :func:`.ofd_xml.text_of`, but white-space-only text is ``""`` (as written)."""
    return el.text.strip() if el is not None and el.text is not None else None


# --------------------------------------------------------------------------------------------
# verification
# --------------------------------------------------------------------------------------------


def _cert_point(cert_der: bytes) -> bytes | None:
    from asn1crypto import x509 as ax

    try:
        spki = ax.Certificate.load(bytes(cert_der))["tbs_certificate"]["subject_public_key_info"]
        return bytes(spki["public_key"].native)
    except Exception:
        return None


def _digests(
    method: str, data: bytes, points: Sequence[bytes]
) -> list[tuple[bytes, str | None]] | None:
    """Acceptable digests of ``data`` for ``method`` with a note each; None if unsupported.

    ``1.2.156.10197.1.401.2`` ("SM3 with key") is SM3(Z_A ‖ data) with the signer's public
    key — what dms360's iOFD writes; plain SM3 is accepted too (ofdrw #192), noted.
    """
    m = method.strip().lower()
    if m in _SM3_METHODS:
        return [(sm3(data), None)]
    if m in _SM3_LENIENT:
        try:
            zas = [sm2_za(p) for p in points]
        except MalformedInput as exc:  # a point that is not x‖y: reported as before
            raise MalformedSES(str(exc), message_zh=exc.message_zh) from exc
        out: list[tuple[bytes, str | None]] = [(sm3(za + data), None) for za in zas]
        out.append((sm3(data), f"CheckMethod {method} holds plain SM3 digests"))
        return out
    if m in _SHA256_METHODS:
        return [(hashlib.sha256(data).digest(), None)]
    return None


def _check_references(
    pkg: _Package,
    refs_el: etree._Element | None,
    sig_dir: str,
    result: OFDSignatureResult,
    points: Sequence[bytes],
) -> Check:
    if refs_el is None:
        return Check(
            "references",
            CheckStatus.FAILED,
            ReferenceDigestMismatch("no References", message_zh="签名未列出受保护文件"),
        )
    method = refs_el.get("CheckMethod")
    if method is None:
        method = "MD5"  # the 2016 XSD default
    notes: set[str] = set()
    failures: list[ReferenceResult] = []
    for ref in children(refs_el, "Reference"):
        file_ref = ref.get("FileRef", "")
        path = resolve_loc(sig_dir, file_ref)
        name, data, warn = pkg.get(path)
        if warn:
            result.warnings.append(warn)
        rr: ReferenceResult
        if data is None:
            rr = ReferenceResult(
                file_ref, path, False, "file is missing", f"受保护文件缺失：{file_ref}"
            )
        else:
            expected_text = _text(child(ref, "CheckValue")) or ""
            try:
                expected = base64.b64decode(expected_text, validate=True)
            except (binascii.Error, ValueError):
                expected = None
            candidates = _digests(method, data, points)
            match = None
            if candidates is not None and expected is not None:
                match = next((c for c in candidates if c[0] == expected), None)
            if match is not None and match[1]:
                notes.add(match[1])
            if candidates is None:
                rr = ReferenceResult(
                    file_ref, name, False, f"unsupported CheckMethod {method}",
                    f"不支持的摘要算法 {method}",
                )  # fmt: skip
            elif expected is None:
                rr = ReferenceResult(
                    file_ref, name, False, "CheckValue is not base64", f"摘要值格式错误：{file_ref}"
                )
            elif match is None:
                rr = ReferenceResult(
                    file_ref, name, False, "digest mismatch", f"文件在签章后被修改：{file_ref}"
                )
            else:
                rr = ReferenceResult(file_ref, name, True)
        result.references.append(rr)
        if not rr.ok:
            failures.append(rr)
    result.warnings.extend(sorted(notes))
    if not result.references:
        return Check(
            "references",
            CheckStatus.FAILED,
            ReferenceDigestMismatch("no Reference", message_zh="签名未列出受保护文件"),
        )
    if failures:
        files = ", ".join(f.file_ref for f in failures)
        return Check(
            "references",
            CheckStatus.FAILED,
            ReferenceDigestMismatch(
                f"{len(failures)} of {len(result.references)} references fail: {files}",
                message_zh="；".join(f.reason_zh or "" for f in failures),
            ),
        )
    return Check("references", CheckStatus.PASSED)


def _verify_plain_signature(
    signed_value: bytes, signature_xml: bytes, external_certs: Sequence[bytes]
) -> Check:
    """Type="Sign": bare SM2 signature over Signature.xml, checked with given certs."""
    looks_cms = (
        signed_value[:1] == b"\x30"
        and b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" in (signed_value[:32])
    )
    sm2_cms = b"\x06\x0a\x2a\x81\x1c\xcf\x55\x06\x01\x04\x02\x02" in signed_value[:32]
    if looks_cms or sm2_cms:
        return Check(
            "signature",
            CheckStatus.FAILED,
            UnverifiableSignature(
                "PKCS#7 signed data (GB/T 35275) is verified by the CMS module",
                message_zh="PKCS#7 格式的数字签名需由 CMS 模块验证",
            ),
        )
    if not external_certs:
        return Check("signature", CheckStatus.FAILED, UnverifiableSignature())
    last: PKIError | None = None
    for cert in external_certs:
        try:
            verify_with_cert_key(cert, signature_xml, signed_value)
        except (InvalidSignature, UnsupportedAlgorithm, MalformedSES) as exc:
            last = exc
            continue
        except PKIError as exc:
            last = exc
            continue
        return Check("signature", CheckStatus.PASSED, note="verified with a supplied certificate")
    from .errors import SignatureInvalid

    return Check(
        "signature",
        CheckStatus.FAILED,
        SignatureInvalid(
            f"no supplied certificate verifies the signature ({last})",
            message_zh="数字签名与所提供的证书均不匹配",
        ),
    )


def verify_ofd_signatures(
    ofd: bytes | str | Path | dict[str, bytes],
    *,
    maker_check: MakerCheck | None = None,
    signer_check: SignerCheck | None = None,
    external_certs: Iterable[bytes | str] = (),
) -> OFDVerification:
    """Verify every signature of an OFD package; see the module docstring."""
    try:
        files = ofd if isinstance(ofd, dict) else read_package(ofd)
    except PKIError as exc:
        return OFDVerification([], errors=[Check("package", CheckStatus.FAILED, exc)])
    pkg = _Package(files)
    certs = [_to_der_cert(c, "签名者") for c in external_certs]
    out = OFDVerification([])
    ofd_xml = files.get("OFD.xml")
    if ofd_xml is None:
        out.errors.append(
            Check(
                "package", CheckStatus.FAILED, MalformedSES("no OFD.xml", message_zh="缺少 OFD.xml")
            )
        )
        return out
    try:
        root = parse_xml(ofd_xml)
    except etree.XMLSyntaxError as exc:
        out.errors.append(
            Check(
                "package",
                CheckStatus.FAILED,
                MalformedSES(f"OFD.xml: {exc}", message_zh="OFD.xml 格式错误"),
            )
        )
        return out
    if etree.QName(root).namespace != OFD_NS:
        out.warnings.append(f"OFD.xml namespace is {etree.QName(root).namespace!r}")
    covered: set[str] = set()
    own: set[str] = set()
    for body in children(root, "DocBody"):
        doc_path = resolve_loc("", _text(child(body, "DocRoot")))
        page_ids = _check_document(pkg, doc_path, out)
        sigs_path = resolve_loc("", _text(child(body, "Signatures")))
        if sigs_path is None:
            continue
        name, sigs_xml, warn = pkg.get(sigs_path)
        if warn:
            out.warnings.append(warn)
        if sigs_xml is None:
            out.errors.append(
                Check(
                    "package",
                    CheckStatus.FAILED,
                    MalformedSES(
                        f"{sigs_path} is declared but missing", message_zh="签名列表文件缺失"
                    ),
                )
            )
            continue
        own.add(name)
        try:
            sigs_root = parse_xml(sigs_xml)
        except etree.XMLSyntaxError as exc:
            out.errors.append(
                Check(
                    "package",
                    CheckStatus.FAILED,
                    MalformedSES(f"{name}: {exc}", message_zh="签名列表文件格式错误"),
                )
            )
            continue
        sigs_dir = posixpath.dirname(name)
        for sig_el in children(sigs_root, "Signature"):
            result = _verify_one(pkg, sig_el, sigs_dir, page_ids, maker_check, signer_check, certs)
            out.signatures.append(result)
            covered.update(r.path for r in result.references if r.path)
            own.add(result.signature_path)
            if result.signed_value_path:
                own.add(result.signed_value_path)
    out.unprotected = sorted(f for f in files if f not in covered and f not in own)
    return out


def _check_document(pkg: _Package, doc_path: str | None, out: OFDVerification) -> set[str]:
    """Warn about files Document.xml declares but the package lacks; return page IDs."""
    name, data, warn = pkg.get(doc_path)
    if warn:
        out.warnings.append(warn)
    if data is None:
        out.warnings.append(f"document root {doc_path} is missing")
        return set()
    try:
        doc = parse_xml(data)
    except etree.XMLSyntaxError:
        out.warnings.append(f"{name} is not well-formed XML")
        return set()
    base = posixpath.dirname(name)
    declared: list[str] = []
    common = child(doc, "CommonData")
    for tag in ("PublicRes", "DocumentRes"):
        declared += [t for t in (_text(e) for e in children(common, tag)) if t]
    declared += [e.get("BaseLoc", "") for e in children(common, "TemplatePage")]
    pages = children(child(doc, "Pages"), "Page")
    declared += [p.get("BaseLoc", "") for p in pages]
    for tag in ("Annotations", "Attachments", "CustomTags"):
        t = _text(child(doc, tag))
        if t:
            declared.append(t)
    for loc in declared:
        path = resolve_loc(base, loc)
        found, _, w = pkg.get(path)
        if w:
            out.warnings.append(f"{name} declares {loc}: {w}")
        elif found is None:
            out.warnings.append(f"{name} declares {loc}, which is not in the package")
    return {p.get("ID", "") for p in pages}


def _verify_one(
    pkg: _Package,
    sig_el: etree._Element,
    sigs_dir: str,
    page_ids: set[str],
    maker_check: MakerCheck | None,
    signer_check: SignerCheck | None,
    certs: Sequence[bytes],
) -> OFDSignatureResult:
    sig_id = sig_el.get("ID", "")
    sig_type = sig_el.get("Type", "Seal")
    sig_path = resolve_loc(sigs_dir, sig_el.get("BaseLoc")) or ""
    result = OFDSignatureResult(
        id=sig_id,
        type=sig_type,
        signature_path=sig_path,
        signed_value_path=None,
        signature_method=None,
        signature_datetime=None,
        provider={},
        references=[],
        checks=[],
    )
    name, sig_xml, warn = pkg.get(sig_path)
    if warn:
        result.warnings.append(warn)
    if sig_xml is None:
        result.checks.append(
            Check(
                "format",
                CheckStatus.FAILED,
                MalformedSES(f"{sig_path} is missing", message_zh="签名描述文件缺失"),
            )
        )
        return result
    result.signature_path = name
    try:
        root = parse_xml(sig_xml)
    except etree.XMLSyntaxError as exc:
        result.checks.append(
            Check(
                "format",
                CheckStatus.FAILED,
                MalformedSES(f"{name}: {exc}", message_zh="签名描述文件格式错误"),
            )
        )
        return result
    sig_dir = posixpath.dirname(name)
    info_el = child(root, "SignedInfo")
    provider = child(info_el, "Provider")
    if provider is not None:
        result.provider = {k: v for k, v in provider.attrib.items()}
        for c in provider:
            if _text(c):
                result.provider[local_name(c)] = _text(c) or ""
    result.signature_method = _text(child(info_el, "SignatureMethod"))
    result.signature_datetime = _text(child(info_el, "SignatureDateTime"))
    for annot in children(info_el, "StampAnnot"):
        a = {k: v for k, v in annot.attrib.items()}
        result.stamp_annots.append(a)
        if page_ids and a.get("PageRef") not in page_ids:
            result.warnings.append(
                f"StampAnnot {a.get('ID')} refers to unknown page {a.get('PageRef')}"
            )
    refs_el = child(info_el, "References")
    sv_path = resolve_loc(sig_dir, _text(child(root, "SignedValue")))
    sv_name, signed_value, warn = pkg.get(sv_path)
    if warn:
        result.warnings.append(warn)
    result.signed_value_path = sv_name or sv_path
    if signed_value is None:
        result.checks.append(_check_references(pkg, refs_el, sig_dir, result, []))
        result.checks.append(
            Check(
                "signature",
                CheckStatus.FAILED,
                MalformedSES(f"{sv_path} is missing", message_zh="签名值文件缺失"),
            )
        )
        return result
    if sig_type == "Sign":
        points = [p for p in (_cert_point(c) for c in certs) if p]
        result.checks.append(_check_references(pkg, refs_el, sig_dir, result, points))
        result.checks.append(_verify_plain_signature(signed_value, sig_xml, certs))
        return result
    if sig_type != "Seal":
        result.checks.append(
            Check(
                "signature",
                CheckStatus.FAILED,
                MalformedSES(f"unknown signature Type {sig_type!r}", message_zh="未知的签名类型"),
            )
        )
        return result
    seal_file = None
    seal_check: Check | None = None
    seal_loc = _text(child(child(info_el, "Seal"), "BaseLoc"))
    if seal_loc:
        seal_path = resolve_loc(sig_dir, seal_loc)
        _, seal_file, warn = pkg.get(seal_path)
        if warn:
            result.warnings.append(warn)
        if seal_file is None:
            seal_check = Check(
                "seal_file",
                CheckStatus.FAILED,
                MalformedSES(f"{seal_path} is missing", message_zh="印章文件缺失"),
            )
    report = check_signature(
        signed_value,
        sig_xml,
        maker_check=maker_check,
        signer_check=signer_check,
        seal_file=seal_file,
    )
    points = []
    if report.info is not None:
        p = _cert_point(report.info.signer_cert)
        if p:
            points.append(p)
    result.checks.append(_check_references(pkg, refs_el, sig_dir, result, points))
    result.checks.extend(report.checks)
    if seal_check is not None:
        result.checks.append(seal_check)
    result.info = report.info
    if report.info is not None:
        result.warnings.extend(report.info.warnings)
        result.warnings.extend(f"seal: {w}" for w in report.info.seal.warnings)
        expected = "/" + name
        if report.info.property_info not in (expected, name):
            result.warnings.append(
                f"propertyInfo {report.info.property_info!r} is not the Signature.xml path"
            )
    return result
