"""Verify every signature (seal) of a PDF: ISO 32000-1 §12.8, PAdES (ETSI EN 319 142-1),
GB/T 35275 CMS for the GM suite.

The file is parsed once (:class:`~gongwen.sealing.cos.PDFReader`, lazily); per signature:

======================  ===================================================================
check                   meaning
======================  ===================================================================
``format``              the signature dictionary and its CMS SignedData are well formed, the
                        SubFilter is supported, the content-type attribute is id-data
``byte_range``          ``/ByteRange [0 a b c]``: the gap is exactly the ``/Contents`` string
                        of this signature dictionary and the signed ranges run from byte 0 to
                        the ``%%EOF`` of a revision (the whole file up to that revision)
``data_hash``           the message-digest attribute equals the digest of the signed ranges
``signature``           the signature over the signed attributes verifies with the signer
                        certificate's key (SM2/SM3 with ID 1234567812345678; ECDSA; RSA)
``signing_certificate`` the ESS signingCertificate(V2) attribute names the signer certificate
                        (PAdES requires it; for adbe.pkcs7.detached it may be absent)
``timestamp``           an RFC 3161 signature time-stamp, if present, matches the signature
``signer_certificate``  the caller's hook (chain, CRL at signing time); skipped without one
``signing_time``        the signing time is not after the verification time
``modifications``       what later incremental updates changed; only later seals (a new
                        signature field, its widget and appearance, the page's ``/Annots``,
                        the AcroForm) and validation data (DSS) are allowed
======================  ===================================================================

Each check is ``passed``/``failed``/``skipped`` with an English and a Chinese reason. Every
change made after a signature's revision is listed on that signature (``changes_after``),
so what was added after the last seal is always visible.

The signer certificate and the embedded certificates are returned so the caller can
validate them against its CAs and CRLs (or pass ``signer_check``; see :func:`chain_check`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gongwen.pki.errors import PKIError

from . import cms as _cms
from . import report as _report
from .cos import (
    Name,
    PDFReader,
    PDFString,
    Ref,
    Stream,
    decode_text,
    dumps,
)
from .errors import MalformedPDF
from .pdf import page_geometry

__all__ = [
    "CLOCK_SKEW",
    "Change",
    "CheckResult",
    "Finding",
    "PDFReport",
    "PDFSignatureResult",
    "PDFUnreadable",
    "SignerCheck",
    "chain_check",
    "check_pdf",
    "verify_pdf",
]

CLOCK_SKEW = timedelta(minutes=10)

#: ``signer_check(signer_cert_der, signing_time)`` raises a PKIError when the signer's
#: certificate is not valid at signing time (chain, period, revocation, key usage).
SignerCheck = Callable[[bytes, datetime], None]

LABELS_ZH = {
    "document": "PDF 文件",
    "format": "签名数据格式",
    "byte_range": "签名覆盖范围",
    "data_hash": "原文摘要",
    "signature": "签章签名值",
    "signing_certificate": "签章证书属性",
    "timestamp": "时间戳",
    "signer_certificate": "签章者证书",
    "signing_time": "签章时间",
    "modifications": "签章后修改",
}

_SUPPORTED_SUBFILTERS = {"adbe.pkcs7.detached", "ETSI.CAdES.detached"}


class PDFUnreadable(MalformedPDF):
    """The file is not a PDF whose signatures can be judged; ``report`` holds the report."""

    code = "pdf.unreadable"
    default_message = "the PDF cannot be read"
    default_message_zh = "PDF 文件无法读取"

    def __init__(
        self, message: str | None = None, *, message_zh: str | None = None, report: Any = None
    ) -> None:
        super().__init__(message, message_zh=message_zh)
        self.report = report


# ------------------------------------------------------------------------------- results


class CheckResult(_report.CheckResult):
    """One check on a PDF signature (or on the document); the shape is :mod:`.report`'s."""

    labels_zh = LABELS_ZH


_passed = CheckResult.passed
_skipped = CheckResult.skipped


def _failed(name: str, reason: str, reason_zh: str, code: str | None = None) -> CheckResult:
    return CheckResult.failure(name, code or f"pdf.{name}", reason, reason_zh)


@dataclass(frozen=True)
class Change:
    """One object an incremental update added, modified or freed."""

    revision: int  # index of the revision that made the change (0 = original)
    num: int  # object number (0 for bytes outside any object)
    action: str  # "added" | "modified" | "deleted" | "appended-bytes"
    type: str  # "Sig", "Widget", "Page", "Catalog", "AcroForm", "XObject/Image", …
    keys: tuple[str, ...] = ()  # changed dictionary keys, for "modified"
    allowed: bool = False
    note: str = ""

    def describe(self) -> str:
        keys = f" ({', '.join('/' + k for k in self.keys)})" if self.keys else ""
        note = f": {self.note}" if self.note else ""
        return f"revision {self.revision}: {self.action} object {self.num} {self.type}{keys}{note}"

    def describe_zh(self) -> str:
        act = {"added": "新增", "modified": "修改", "deleted": "删除", "appended-bytes": "追加"}
        keys = f"（{'、'.join('/' + k for k in self.keys)}）" if self.keys else ""
        return f"第 {self.revision} 次修订{act.get(self.action, self.action)}对象 {self.num} {self.type}{keys}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "object": self.num,
            "action": self.action,
            "type": self.type,
            "keys": list(self.keys),
            "allowed": self.allowed,
            "note": self.note,
            "description": self.describe(),
            "description_zh": self.describe_zh(),
        }


@dataclass(frozen=True)
class Finding:
    """Something the reader should know that does not by itself invalidate a signature."""

    code: str
    message: str
    message_zh: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "message_zh": self.message_zh}


@dataclass
class PDFSignatureResult(_report.SignatureChecks):
    """One signature (seal) of the document and every check on it."""

    index: int  # 0-based, in signing order
    field_name: str
    sub_filter: str | None
    suite: str | None  # "GM" | "INTL"
    digest_algorithm: str | None
    signature_algorithm: str | None  # OID
    byte_range: tuple[int, ...] | None
    revision: int | None  # the revision this signature closes
    covers_whole_file: bool
    signing_time: datetime | None  # time-stamp > signing-time attribute > /M
    signing_time_source: str | None  # "timestamp" | "signing-time" | "M"
    claimed_time: datetime | None  # /M
    reason: str | None
    location: str | None
    name: str | None
    page: int | None  # 0-based page of the visible seal
    rect_mm: tuple[float, float, float, float] | None  # x, y, w, h from the top-left, mm
    signer_cert: bytes | None = field(repr=False)
    certificates: list[bytes] = field(default_factory=list, repr=False)
    timestamp: _cms.TimestampInfo | None = None
    checks: list[CheckResult] = field(default_factory=list)
    changes_after: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "valid" if self.ok else "invalid"

    def as_dict(self) -> dict[str, Any]:
        signer = None
        if self.signer_cert:
            try:
                from gongwen.pki.x509 import certificate_info

                info = certificate_info(self.signer_cert)
                signer = {
                    "subject": info.subject,
                    "issuer": info.issuer,
                    "serial": info.serial_hex,
                    "not_before": info.not_before.isoformat(),
                    "not_after": info.not_after.isoformat(),
                }
            except PKIError:
                signer = None
        return {
            "index": self.index,
            "field": self.field_name,
            "verdict": self.verdict,
            "ok": self.ok,
            "sub_filter": self.sub_filter,
            "suite": self.suite,
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "byte_range": list(self.byte_range) if self.byte_range else None,
            "revision": self.revision,
            "covers_whole_file": self.covers_whole_file,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "signing_time_source": self.signing_time_source,
            "claimed_time": self.claimed_time.isoformat() if self.claimed_time else None,
            "reason": self.reason,
            "location": self.location,
            "name": self.name,
            "page": None if self.page is None else self.page + 1,
            "rect_mm": list(self.rect_mm) if self.rect_mm else None,
            "signer": signer,
            "timestamp": self.timestamp.gen_time.isoformat() if self.timestamp else None,
            "checks": [c.as_dict() for c in self.checks],
            "changes_after": [c.as_dict() for c in self.changes_after],
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass
class PDFReport(_report.ReportChecks):
    signatures: list[PDFSignatureResult]
    errors: list[CheckResult] = field(default_factory=list)  # document-level failures
    findings: list[Finding] = field(default_factory=list)
    later_changes: list[Change] = field(default_factory=list)  # after the last signature
    at: datetime | None = None
    # (algorithm, digest of the whole file) when ``check_pdf(…, digest_whole=algorithm)``
    file_digest: tuple[str, bytes] | None = None

    @property
    def verdict(self) -> str:
        """``valid``, ``invalid``, ``unsigned``."""
        if self.errors:
            return "invalid"
        if not self.signatures:
            return "unsigned"
        return "valid" if all(s.ok for s in self.signatures) else "invalid"

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": "pdf",
            "verdict": self.verdict,
            "valid": self.valid,
            "verified_at": self.at.isoformat() if self.at else None,
            "errors": [c.as_dict() for c in self.errors],
            "signatures": [s.as_dict() for s in self.signatures],
            "later_changes": [c.as_dict() for c in self.later_changes],
            "findings": [f.as_dict() for f in self.findings],
        }


# ---------------------------------------------------------------------------- helpers

_RE_PDF_DATE = re.compile(
    r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+\-])?(\d{2})?'?(\d{2})?'?"
)


def _parse_pdf_date(value: Any) -> datetime | None:
    if not isinstance(value, bytes):
        return None
    m = _RE_PDF_DATE.match(decode_text(value).strip())
    if m is None:
        return None
    y, mo, d, h, mi, s, sign, oh, om = m.groups()
    try:
        dt = datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        return None
    off = timedelta(hours=int(oh or 0), minutes=int(om or 0))
    if sign == "-":
        off = -off
    return (dt - off).replace(tzinfo=UTC)


def _text_or_none(value: Any) -> str | None:
    return decode_text(value) if isinstance(value, bytes) else None


def _obj_type(obj: Any) -> str:
    d = obj.dict if isinstance(obj, Stream) else obj
    if isinstance(d, dict):
        if "ByteRange" in d and "Contents" in d:
            return "Sig"
        t = d.get("Type")
        st = d.get("Subtype")
        if d.get("FT") == "Sig" and (st == "Widget" or t == "Annot"):
            return "SigWidget"
        if st == "Widget" or (t is None and "FT" in d):
            return "Field/Widget" if st == "Widget" else f"Field/{d.get('FT')}"
        if t == "Annot" or (t is None and isinstance(st, str) and "Rect" in d):
            return f"Annot/{st}"
        if isinstance(t, str) and isinstance(st, str):
            return f"{t}/{st}"
        if isinstance(t, str):
            return t
        if "Fields" in d:
            return "AcroForm"
        if isinstance(obj, Stream):
            return "Stream"
        return "Dictionary"
    if isinstance(obj, list):
        return "Array"
    if obj is None:
        return "null"
    return type(obj).__name__


def _changed_keys(old: Any, new: Any) -> tuple[str, ...]:
    od = old.dict if isinstance(old, Stream) else old
    nd = new.dict if isinstance(new, Stream) else new
    if not isinstance(od, dict) or not isinstance(nd, dict):
        return ()
    keys = [k for k in {**od, **nd} if dumps(od.get(k)) != dumps(nd.get(k))]
    if isinstance(old, Stream) and isinstance(new, Stream) and old.raw != new.raw:
        keys.append("(stream data)")
    return tuple(sorted(keys))


# ----------------------------------------------------------------------- difference check


class _Diff:
    """Changes of one revision against the one before it, classified."""

    def __init__(self, reader: PDFReader, rev: int, sealed_fields: set[Ref]) -> None:
        self.reader = reader
        self.rev = rev
        self.sealed_fields = sealed_fields  # sig fields whose signature closes ``rev``

    def _get(self, num: int, rev: int) -> Any:
        return self.reader.get(num, rev)

    def _is_new_sig_widget(self, ref: Any) -> bool:
        return isinstance(ref, Ref) and ref in self.sealed_fields

    def _list_grows_by_seals(self, old: Any, new: Any) -> bool:
        r = self.reader
        old_l = r.resolve(old, self.rev - 1)
        new_l = r.resolve(new, self.rev)
        old_l = old_l if isinstance(old_l, list) else []
        if not isinstance(new_l, list):
            return False
        if any(x not in new_l for x in old_l):
            return False
        added = [x for x in new_l if x not in old_l]
        return all(self._is_new_sig_widget(x) for x in added)

    def changes(self) -> list[Change]:
        r = self.reader
        prev, cur = self.rev - 1, self.rev
        out: list[Change] = []
        sealed = bool(self.sealed_fields)
        roles = self._roles()
        for num, entry in sorted(r.revisions[cur].entries.items()):
            before = r.entry(num, prev)
            if entry[0] == "f":
                if before[0] != "f":
                    out.append(Change(cur, num, "deleted", _obj_type(self._safe(num, prev))))
                continue
            new = self._safe(num, cur)
            if before[0] == "f":
                typ = _obj_type(new)
                # New objects are inert unless something existing now points at them; that
                # pointer is itself a modification judged below.
                out.append(Change(cur, num, "added", typ, allowed=True))
                continue
            if before == entry:
                continue
            old = self._safe(num, prev)
            if dumps_safe(old) == dumps_safe(new):
                continue
            typ = _obj_type(new)
            keys = _changed_keys(old, new)
            allowed, note = self._judge(num, old, new, keys, roles, sealed)
            out.append(Change(cur, num, "modified", typ, keys, allowed, note))
        return out

    def _safe(self, num: int, rev: int) -> Any:
        try:
            return self._get(num, rev)
        except MalformedPDF:
            return None

    def _roles(self) -> dict[int, str]:
        """Which existing arrays are a page's /Annots or the AcroForm's /Fields."""
        r = self.reader
        roles: dict[int, str] = {}
        try:
            for _ref, page in r.pages(self.rev):
                a = page.get("Annots")
                if isinstance(a, Ref):
                    roles[a.num] = "annots"
            cat = r.catalog(self.rev)
            acro = r.resolve(cat.get("AcroForm"), self.rev)
            if isinstance(acro, dict) and isinstance(acro.get("Fields"), Ref):
                roles[acro["Fields"].num] = "fields"
            if isinstance(cat.get("AcroForm"), Ref):
                roles[cat["AcroForm"].num] = "acroform"
            root = r.trailer_at(self.rev).get("Root")
            if isinstance(root, Ref):
                roles[root.num] = "catalog"
            info = r.trailer_at(self.rev).get("Info")
            if isinstance(info, Ref):
                roles[info.num] = "info"
        except MalformedPDF:
            pass
        return roles

    def _judge(
        self,
        num: int,
        old: Any,
        new: Any,
        keys: tuple[str, ...],
        roles: dict[int, str],
        sealed: bool,
    ) -> tuple[bool, str]:
        role = roles.get(num)
        if role == "info":
            return True, "document information"
        nd = new.dict if isinstance(new, Stream) else new
        if isinstance(nd, dict) and nd.get("Type") == "Metadata":
            return True, "XMP metadata"
        if role == "catalog" or (isinstance(new, dict) and new.get("Type") == "Catalog"):
            if not isinstance(new, dict) or not isinstance(old, dict):
                return False, "catalog replaced"
            allowed_keys = {"AcroForm", "DSS", "Extensions"} if sealed else {"DSS", "Extensions"}
            bad = [k for k in keys if k not in allowed_keys]
            if not bad and "AcroForm" in keys:
                ok = self._acroform_ok(old.get("AcroForm"), new.get("AcroForm"))
                return ok, "" if ok else "AcroForm changed beyond adding seal fields"
            return not bad, "" if not bad else "catalog entries changed"
        if role in ("annots", "fields") and isinstance(new, list):
            ok = sealed and self._list_grows_by_seals(old, new)
            return ok, "" if ok else f"/{role.capitalize()} changed beyond adding seal fields"
        if role == "acroform" or (isinstance(new, dict) and "Fields" in new and "Type" not in new):
            ok = sealed and self._acroform_dict_ok(old, new, keys)
            return ok, "" if ok else "AcroForm changed beyond adding seal fields"
        if isinstance(new, dict) and new.get("Type") == "Page":
            if sealed and keys == ("Annots",) and isinstance(old, dict):
                ok = self._list_grows_by_seals(old.get("Annots"), new.get("Annots"))
                return ok, "" if ok else "annotations other than seals added or removed"
            return False, "page changed"
        return False, ""

    def _acroform_ok(self, old: Any, new: Any) -> bool:
        r = self.reader
        if isinstance(new, Ref) and (old is None or isinstance(old, Ref)):
            # a (new or rewritten) AcroForm object: judge its contents
            o = r.resolve(old, self.rev - 1) if old is not None else {}
            n = r.resolve(new, self.rev)
            if not isinstance(n, dict):
                return False
            o = o if isinstance(o, dict) else {}
            return self._acroform_dict_ok(o, n, _changed_keys(o, n))
        if isinstance(new, dict):
            o = r.resolve(old, self.rev - 1) if old is not None else {}
            o = o if isinstance(o, dict) else {}
            return self._acroform_dict_ok(o, new, _changed_keys(o, new))
        return False

    def _acroform_dict_ok(self, old: Any, new: Any, keys: tuple[str, ...]) -> bool:
        if not isinstance(new, dict):
            return False
        old = old if isinstance(old, dict) else {}
        if any(k not in ("Fields", "SigFlags", "DR", "DA") for k in keys):
            return False
        if "Fields" in keys:
            return self._list_grows_by_seals(old.get("Fields"), new.get("Fields"))
        return True


def dumps_safe(obj: Any) -> bytes:
    try:
        return dumps(obj)
    except (TypeError, ValueError):
        return repr(obj).encode()


# ------------------------------------------------------------------------------- checking


class _RangeHasher:
    """Digests of ``data[0:a] + data[b:e]`` for several signatures, hashing the shared
    prefix once: each signature's first range starts at byte 0, so the digest state at the
    end of one signature's first range is the starting point of the next (hash objects are
    copied at checkpoints)."""

    def __init__(self, data: bytes) -> None:
        self.view = memoryview(data)
        self._points: dict[str, list[tuple[int, Any]]] = {}

    def digest(self, alg: str, ranges: list[tuple[int, int]]) -> bytes:
        (o1, l1), (o2, l2) = ranges
        if o1 != 0:
            h = _cms.new_hash(alg)
            h.update(self.view[o1 : o1 + l1])
        else:
            h = self._prefix(alg, l1)
        h.update(self.view[o2 : o2 + l2])
        return h.digest()

    def whole(self, alg: str) -> bytes:
        """The digest of the whole file, continuing from the furthest prefix hashed for a
        signature (the file's fingerprint costs only the bytes after it)."""
        return self._prefix(alg, len(self.view)).digest()

    def _prefix(self, alg: str, end: int) -> Any:
        """A hash object holding ``data[0:end]`` (a copy: the caller may go on with it)."""
        points = self._points.setdefault(alg, [(0, _cms.new_hash(alg))])
        pos, base = max((p for p in points if p[0] <= end), key=lambda p: p[0])
        h = base.copy()
        h.update(self.view[pos:end])
        points.append((end, h.copy()))
        return h


@dataclass
class _Sig:
    field_ref: Ref | None
    field: dict[str, Any]
    name: str
    sig_ref: Ref | None
    sig: dict[str, Any]


def _signature_fields(reader: PDFReader) -> list[_Sig]:
    out: list[_Sig] = []
    for ref, fdict, name in reader.iter_fields():
        if fdict.get("FT") != "Sig":
            continue
        v = fdict.get("V")
        sig = reader.resolve(v)
        if not isinstance(sig, dict):
            continue  # an empty signature field
        out.append(_Sig(ref, fdict, name, v if isinstance(v, Ref) else None, sig))
    return out


def _seal_position(
    reader: PDFReader, fdict: dict[str, Any], pages: list[tuple[Ref, dict[str, Any]]]
) -> tuple[int | None, tuple[float, float, float, float] | None]:
    rect = reader.resolve(fdict.get("Rect"))
    p = fdict.get("P")
    index = None
    for i, (ref, _page) in enumerate(pages):
        if ref == p:
            index = i
            break
    if index is None:  # /P is optional: find the page whose /Annots lists the widget
        return None, None
    if not (isinstance(rect, list) and len(rect) == 4):
        return index, None
    try:
        coords = [float(reader.resolve(v)) for v in rect]
        geo = page_geometry(reader, pages[index][1])
    except (TypeError, ValueError, IndexError, MalformedPDF):
        return index, None
    if coords[0] == coords[2] or coords[1] == coords[3]:
        return index, None
    x, y, w, h = geo.box_for(coords)
    return index, (round(x, 2), round(y, 2), round(w, 2), round(h, 2))


def _find_gap_in_object(reader: PDFReader, sig_ref: Ref | None, gap: tuple[int, int]) -> bool:
    """The ``/Contents`` hex string of this signature dictionary is exactly the gap."""
    data = reader.data
    a, b = gap
    if not (0 < a < b <= len(data)) or data[a : a + 1] != b"<" or data[b - 1 : b] != b">":
        return False
    if not re.fullmatch(rb"[0-9A-Fa-f\s]*", data[a + 1 : b - 1]):
        return False
    if sig_ref is None:
        return False
    e = reader.entry(sig_ref.num)
    if e[0] != "n":
        return False
    start = e[1]
    # /Contents must precede the gap inside this very object
    m = re.compile(rb"/Contents[ \t\r\n\x0c\x00]*$").search(data, start, a)
    return m is not None and start < a and data.find(b"endobj", start, a) < 0


def _object_outside_revision(reader: PDFReader, rev: int) -> int | None:
    """An object whose cross-reference entry, in revision ``rev`` or before, points at or
    after the end of the revision that lists it (its bytes would not be signed, so they
    could be replaced later without a new revision): its number, else ``None``."""
    for rv in reader.revisions[: rev + 1]:
        for num, e in rv.entries.items():
            if e[0] == "n" and e[1] >= rv.end:
                return num
    return None


def _check_one(
    reader: PDFReader,
    s: _Sig,
    index: int,
    pages: list[tuple[Ref, dict[str, Any]]],
    at: datetime,
    signer_check: SignerCheck | None,
    hasher: _RangeHasher,
) -> PDFSignatureResult:
    data = reader.data
    sig = s.sig
    checks: list[CheckResult] = []
    sub_filter = sig.get("SubFilter")
    sub_filter = str(sub_filter) if isinstance(sub_filter, Name) else None
    claimed = _parse_pdf_date(reader.resolve(sig.get("M")))
    page, rect = _seal_position(reader, s.field, pages)
    res = PDFSignatureResult(
        index=index,
        field_name=s.name,
        sub_filter=sub_filter,
        suite=None,
        digest_algorithm=None,
        signature_algorithm=None,
        byte_range=None,
        revision=None,
        covers_whole_file=False,
        signing_time=None,
        signing_time_source=None,
        claimed_time=claimed,
        reason=_text_or_none(reader.resolve(sig.get("Reason"))),
        location=_text_or_none(reader.resolve(sig.get("Location"))),
        name=_text_or_none(reader.resolve(sig.get("Name"))),
        page=page,
        rect_mm=rect,
        signer_cert=None,
        checks=checks,
    )

    # ---- format
    contents = reader.resolve(sig.get("Contents"))
    br = reader.resolve(sig.get("ByteRange"))
    parsed: _cms.CMSSignature | None = None
    if sub_filter not in _SUPPORTED_SUBFILTERS:
        checks.append(
            _failed(
                "format",
                f"unsupported /SubFilter {sub_filter}",
                f"不支持的签名格式 {sub_filter}",
            )
        )
    elif not isinstance(contents, PDFString) or not contents:
        checks.append(_failed("format", "no /Contents", "签名数据缺失"))
    else:
        try:
            der = _strip_padding(bytes(contents))
            parsed = _cms.parse_cms(der)
        except PKIError as exc:
            checks.append(_failed("format", str(exc), exc.message_zh))
    if parsed is not None:
        problems = list(parsed.problems)
        if parsed.content_type_attr not in (_cms.OID.DATA, _cms.OID.GM_DATA):
            problems.append(("content-type attribute is not id-data", "内容类型属性不是 data"))
        if parsed.signed_attrs_der is None:
            problems.append(("no signed attributes", "缺少签名属性"))
        if problems:
            checks.append(
                _failed(
                    "format", "; ".join(p[0] for p in problems), "；".join(p[1] for p in problems)
                )
            )
            parsed_ok = False
        else:
            checks.append(
                _passed(
                    "format", f"CMS SignedData ({sub_filter})", f"签名数据格式正确（{sub_filter}）"
                )
            )
            parsed_ok = True
        res.suite = parsed.suite_name
        res.digest_algorithm = parsed.digest_algorithm
        res.signature_algorithm = parsed.signature_algorithm_oid
        res.signer_cert = parsed.signer_cert_der
        res.certificates = parsed.certificates
    else:
        parsed_ok = False

    # ---- byte range
    ranges: list[tuple[int, int]] = []
    br_ok = False
    if (
        isinstance(br, list)
        and len(br) == 4
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in br)
    ):
        res.byte_range = tuple(br)
        o1, l1, o2, l2 = br
        end = o2 + l2
        ranges = [(o1, l1), (o2, l2)]
        rev = next((rv.index for rv in reader.revisions if rv.end == end), None)
        res.revision = rev
        res.covers_whole_file = end == len(data)
        if o1 != 0:
            checks.append(
                _failed(
                    "byte_range",
                    "the signed range does not start at byte 0",
                    "签名范围未从文件开头开始",
                )
            )
        elif end > len(data) or l1 > o2:
            checks.append(_failed("byte_range", "/ByteRange beyond the file", "签名范围超出文件"))
        elif not _find_gap_in_object(reader, s.sig_ref, (l1, o2)):
            checks.append(
                _failed(
                    "byte_range",
                    "the unsigned gap is not exactly this signature's /Contents",
                    "未签名区间与签名值位置不符",
                )
            )
        elif rev is None:
            checks.append(
                _failed(
                    "byte_range",
                    f"the signed range ends at {end}, not at the end of a revision",
                    "签名范围未覆盖到某一修订版本的结尾",
                )
            )
        elif (outside := _object_outside_revision(reader, rev)) is not None:
            checks.append(
                _failed(
                    "byte_range",
                    f"object {outside} of a signed revision lies outside the signed bytes",
                    f"已签名修订中的对象 {outside} 位于签名范围之外",
                )
            )
        else:
            br_ok = True
            checks.append(
                _passed(
                    "byte_range",
                    f"covers the whole file up to revision {rev} (byte {end})",
                    f"签名覆盖至第 {rev} 次修订结尾（共 {end} 字节）",
                )
            )
    else:
        checks.append(_failed("byte_range", "malformed /ByteRange", "签名范围格式错误"))

    # ---- data hash
    if parsed is not None and parsed.digest_algorithm and ranges and parsed.message_digest:
        try:
            digest = hasher.digest(parsed.digest_algorithm, ranges)
            if digest == parsed.message_digest and br_ok:
                checks.append(
                    _passed(
                        "data_hash",
                        f"the {parsed.digest_algorithm} digest of the signed ranges matches",
                        f"签名范围的 {parsed.digest_algorithm.upper()} 摘要一致",
                    )
                )
            elif digest == parsed.message_digest:
                checks.append(
                    _failed(
                        "data_hash",
                        "digest matches but the byte range is invalid",
                        "摘要一致但签名范围无效",
                    )
                )
            else:
                checks.append(
                    _failed(
                        "data_hash",
                        "the document was changed after sealing: digest mismatch",
                        "文件内容在签章后被修改：摘要不一致",
                    )
                )
        except PKIError as exc:
            checks.append(_failed("data_hash", str(exc), exc.message_zh))
    elif parsed is not None and parsed.digest_algorithm is None:
        checks.append(
            _failed(
                "data_hash",
                f"unsupported digest algorithm {parsed.digest_algorithm_oid}",
                f"不支持的摘要算法 {parsed.digest_algorithm_oid}",
            )
        )
    else:
        checks.append(_failed("data_hash", "no message digest to compare", "无法比对原文摘要"))

    # ---- signature
    if parsed is not None and parsed_ok:
        try:
            _cms.verify_cms_signature(parsed)
            alg = "SM2/SM3" if parsed.suite_name == "GM" else parsed.signature_algorithm_oid
            checks.append(
                _passed("signature", f"the {alg} signature verifies", "签章签名值验证通过")
            )
        except PKIError as exc:
            checks.append(_failed("signature", str(exc), exc.message_zh))
    else:
        checks.append(
            _failed(
                "signature", "cannot verify a malformed signature", "签名数据格式错误，无法验证"
            )
        )

    # ---- ESS signing certificate
    if parsed is not None:
        ok, en, zh = _cms.check_signing_certificate(parsed)
        if ok is True:
            checks.append(_passed("signing_certificate", en, zh))
        elif ok is False:
            checks.append(_failed("signing_certificate", en, zh))
        elif sub_filter == "ETSI.CAdES.detached":
            checks.append(
                _failed(
                    "signing_certificate",
                    "PAdES requires the signingCertificateV2 attribute",
                    "PAdES 签名须包含签章证书属性",
                )
            )
        else:
            checks.append(_skipped("signing_certificate", en, zh))

    # ---- time-stamp and signing time
    if parsed is not None and parsed.timestamp_token is not None:
        try:
            res.timestamp = _cms.verify_timestamp_token(parsed.timestamp_token, parsed.signature)
            checks.append(
                _passed(
                    "timestamp",
                    f"signature time-stamp at {res.timestamp.gen_time.isoformat()}",
                    f"时间戳有效（{res.timestamp.gen_time.isoformat()}）",
                )
            )
        except PKIError as exc:
            checks.append(_failed("timestamp", str(exc), exc.message_zh))
    else:
        checks.append(_skipped("timestamp", "no signature time-stamp", "无时间戳"))
    if res.timestamp is not None:
        res.signing_time, res.signing_time_source = res.timestamp.gen_time, "timestamp"
    elif parsed is not None and parsed.signing_time is not None:
        res.signing_time, res.signing_time_source = parsed.signing_time, "signing-time"
    elif claimed is not None:
        res.signing_time, res.signing_time_source = claimed, "M"

    # ---- signer certificate (caller's hook)
    if signer_check is None:
        checks.append(
            _skipped(
                "signer_certificate",
                "not checked here: validate the returned certificate against the CAs and CRLs",
                "未校验签章者证书（由调用方按 CA 与 CRL 校验返回的证书）",
            )
        )
    elif res.signer_cert is None or res.signing_time is None:
        checks.append(
            _failed(
                "signer_certificate",
                "no signer certificate or signing time",
                "缺少签章者证书或签章时间",
            )
        )
    else:
        try:
            signer_check(res.signer_cert, res.signing_time)
            checks.append(
                _passed("signer_certificate", "the signer certificate is valid", "签章者证书有效")
            )
        except PKIError as exc:
            checks.append(
                _failed(
                    "signer_certificate",
                    f"signer certificate: {exc}",
                    f"签章者证书无效：{exc.message_zh}",
                    getattr(exc, "code", None) or "pdf.signer_certificate",
                )
            )

    if res.signing_time is None:
        checks.append(_skipped("signing_time", "no signing time", "签章时间无法识别"))
    elif res.signing_time > at + CLOCK_SKEW:
        checks.append(
            _failed(
                "signing_time",
                f"signing time {res.signing_time.isoformat()} is in the future",
                "签章时间晚于验证时间",
            )
        )
    else:
        checks.append(
            _passed(
                "signing_time",
                f"signed at {res.signing_time.isoformat()}",
                f"签章时间 {res.signing_time.isoformat()}",
            )
        )
    return res


def _strip_padding(der: bytes) -> bytes:
    """``/Contents`` is zero-padded after the DER: keep the outer TLV only."""
    if len(der) < 2 or der[0] != 0x30:
        return der
    n = der[1]
    if n < 0x80:
        return der[: 2 + n]
    k = n & 0x7F
    if k == 0 or k > 4 or len(der) < 2 + k:
        return der
    length = int.from_bytes(der[2 : 2 + k], "big")
    return der[: 2 + k + length]


def _modifications(
    reader: PDFReader, results: list[PDFSignatureResult], sigs: list[_Sig]
) -> tuple[dict[int, list[Change]], list[Finding]]:
    """Changes per revision (index → changes), with the seals each revision adds."""
    sealed_by_rev: dict[int, set[Ref]] = {}
    for res, s in zip(results, sigs, strict=True):
        if res.revision is not None and s.field_ref is not None:
            sealed_by_rev.setdefault(res.revision, set()).add(s.field_ref)
    per_rev: dict[int, list[Change]] = {}
    first = min((r.revision for r in results if r.revision is not None), default=None)
    for rv in reader.revisions[1:]:
        if first is None or rv.index <= first:
            continue  # covered by every signature that has a revision
        try:
            per_rev[rv.index] = _Diff(
                reader, rv.index, sealed_by_rev.get(rv.index, set())
            ).changes()
        except (PKIError, RecursionError, ValueError, TypeError, IndexError, KeyError,
                AttributeError) as exc:  # fmt: skip
            per_rev[rv.index] = [Change(rv.index, 0, "modified", "unreadable", (), False, str(exc))]
    findings: list[Finding] = []
    data = reader.data
    last_end = reader.revisions[-1].end if reader.revisions else len(data)
    tail = data[last_end:]
    if tail.strip(b" \t\r\n\x0c\x00"):
        n = len(reader.revisions)
        per_rev.setdefault(n, []).append(
            Change(n, 0, "appended-bytes", f"{len(tail)} bytes after the last %%EOF", (), False)
        )
    return per_rev, findings


def _gap_start(s: _Sig) -> int:
    br = s.sig.get("ByteRange")
    return br[1] if isinstance(br, list) and len(br) == 4 and isinstance(br[1], int) else 0


def _rank(res: PDFSignatureResult) -> int:
    return res.byte_range[2] + res.byte_range[3] if res.byte_range else 0


def check_pdf(
    pdf_bytes: bytes,
    *,
    at: datetime | None = None,
    signer_check: SignerCheck | None = None,
    digest_whole: str | None = None,
) -> PDFReport:
    """The verification report of a PDF (never raises for bad input). See the module
    docstring for the checks; ``at`` is the verification time (default now).
    ``digest_whole`` ("sm3", "sha256"): also the digest of the whole file in that
    algorithm (``report.file_digest``), for a caller that checks the file's fingerprint: in
    the signatures' own algorithm it continues from their signed prefix instead of hashing
    the file again. Left ``None`` when the file cannot be read."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    report = PDFReport([], at=at)
    try:
        reader = PDFReader(bytes(pdf_bytes))
        sigs = _signature_fields(reader)
        pages = reader.pages()
    except PKIError as exc:
        report.errors.append(
            _failed("document", str(exc), exc.message_zh, getattr(exc, "code", "pdf.document"))
        )
        return report
    except (RecursionError, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        report.errors.append(
            _failed("document", f"unreadable PDF: {exc}", "PDF 文件无法读取", "pdf.document")
        )
        return report
    if reader.repaired:
        report.findings.append(
            Finding(
                "pdf.repaired",
                "the cross-reference structure is damaged; objects were located by scanning",
                "PDF 交叉引用表已损坏，已按对象扫描读取",
            )
        )
    results: list[PDFSignatureResult] = []
    hasher = _RangeHasher(reader.data)
    sigs.sort(key=_gap_start)
    for i, s in enumerate(sigs):
        try:
            results.append(_check_one(reader, s, i, pages, at, signer_check, hasher))
        except (
            PKIError, RecursionError, ValueError, TypeError, IndexError, KeyError, AttributeError,
        ) as exc:  # fmt: skip
            r = PDFSignatureResult(
                i,
                s.name,
                None,
                None,
                None,
                None,
                None,
                None,
                False,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
            )
            zh = getattr(exc, "message_zh", "签名无法读取")
            r.checks.append(_failed("format", f"unreadable signature: {exc}", zh))
            results.append(r)
    # signing order = order of the signed ranges
    order = sorted(range(len(results)), key=lambda k: _rank(results[k]))
    results = [results[k] for k in order]
    sigs = [sigs[k] for k in order]
    for k, r in enumerate(results):
        r.index = k

    per_rev, findings = _modifications(reader, results, sigs)
    report.findings.extend(findings)
    for r in results:
        if r.revision is None:
            r.checks.append(
                _failed(
                    "modifications",
                    "the signed revision cannot be determined",
                    "无法确定签章所覆盖的修订版本",
                )
            )
            continue
        later = [c for rev, cs in sorted(per_rev.items()) if rev > r.revision for c in cs]
        r.changes_after = later
        bad = [c for c in later if not c.allowed]
        if bad:
            shown = "; ".join(c.describe() for c in bad[:5])
            shown_zh = "；".join(c.describe_zh() for c in bad[:5])
            more = f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""
            r.checks.append(
                _failed(
                    "modifications",
                    f"changed after sealing: {shown}{more}",
                    f"签章后文件被修改：{shown_zh}",
                )
            )
        elif later:
            revs = sorted({c.revision for c in later})
            r.checks.append(
                _passed(
                    "modifications",
                    f"later revisions {revs} only add seals or validation data",
                    f"其后的修订 {revs} 仅添加签章或验证数据",
                )
            )
        else:
            r.checks.append(
                _passed("modifications", "nothing was added after this seal", "签章后无修改")
            )
    if results:
        last = max((r.revision for r in results if r.revision is not None), default=-1)
        report.later_changes = [c for rev, cs in sorted(per_rev.items()) if rev > last for c in cs]
    report.signatures = results
    if digest_whole:
        report.file_digest = (digest_whole, hasher.whole(digest_whole))
    return report


def verify_pdf(
    pdf_bytes: bytes,
    *,
    at: datetime | None = None,
    signer_check: SignerCheck | None = None,
) -> list[PDFSignatureResult]:
    """Verify every signature of a PDF; one result per signature in signing order (an
    unsigned document gives ``[]``). Raises :class:`PDFUnreadable` when the file cannot be
    read (``err.report`` holds the report). :func:`check_pdf` gives the whole report."""
    report = check_pdf(pdf_bytes, at=at, signer_check=signer_check)
    if report.errors:
        first = report.errors[0]
        raise PDFUnreadable(first.reason, message_zh=first.reason_zh, report=report)
    return report.signatures


def chain_check(
    trust_anchors: Iterable[Any],
    crls: Iterable[Any] = (),
    intermediates: Iterable[Any] = (),
    *,
    cache: bool = True,
) -> SignerCheck:
    """A ``signer_check`` that validates the signer certificate with
    :func:`gongwen.pki.crl.validate_chain` at the signing time (digitalSignature and
    nonRepudiation required, CRLs mandatory).

    With ``cache`` the outcome is remembered per certificate and *time interval*: the
    result of ``validate_chain`` only changes at the certificates' notBefore/notAfter, the
    CRLs' nextUpdate and the revocation dates, so two documents signed between the same two
    such instants get the same answer without repeating the signature checks. Build a new
    checker when the CRLs change.
    """
    import bisect
    import threading

    from gongwen.pki.crl import load_crl, validate_chain
    from gongwen.pki.x509 import load_certificate

    anchors = [load_certificate(c) for c in trust_anchors]
    inter = [load_certificate(c) for c in intermediates]
    cl = [load_crl(c) for c in crls]
    points: set[datetime] = set()
    for c in (*anchors, *inter):
        v = c["tbs_certificate"]["validity"]
        points.update((v["not_before"].native, v["not_after"].native))
    for c in cl:
        tbs = c["tbs_cert_list"]
        if tbs["next_update"].native is not None:
            points.add(tbs["next_update"].native)
        for entry in tbs["revoked_certificates"]:
            points.add(entry["revocation_date"].native)
    base_points = sorted(points)
    memo: dict[tuple[Any, ...], BaseException | None] = {}
    leaf_points: dict[bytes, list[datetime]] = {}
    lock = threading.Lock()

    def check(cert_der: bytes, when: datetime) -> None:
        key = None
        if cache:
            der = bytes(cert_der)
            bps = leaf_points.get(der)
            if bps is None:
                v = load_certificate(der)["tbs_certificate"]["validity"]
                bps = sorted({*base_points, v["not_before"].native, v["not_after"].native})
                with lock:
                    if len(leaf_points) > 4096:
                        leaf_points.clear()
                    leaf_points[der] = bps
            i, j = bisect.bisect_left(bps, when), bisect.bisect_right(bps, when)
            key = (der, i, j)
            with lock:
                if key in memo:
                    err = memo[key]
                    if err is not None:
                        raise err.with_traceback(None)
                    return
        try:
            validate_chain(
                cert_der,
                anchors,
                inter,
                cl,
                when,
                key_usage=("digital_signature", "non_repudiation"),
            )
        except PKIError as exc:
            if key is not None:
                with lock:
                    if len(memo) > 4096:
                        memo.clear()
                    memo[key] = exc
            raise
        if key is not None:
            with lock:
                if len(memo) > 4096:
                    memo.clear()
                memo[key] = None

    return check
