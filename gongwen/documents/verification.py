"""The one verification report of a sealed PDF or OFD (R-FLOW-2, R-DOC-3; issue 8 item 3).

Used by the receiving inbox (through ``gongwen.exchange.hooks.verify_for_receipt``), the
document page, the public page later and ``gongwen verify``. The cryptography comes from the
pure cores (:func:`gongwen.sealing.ofd_verify.check_ofd`, :func:`gongwen.sealing.pdf_verify.check_pdf`);
this module adds what needs the database: the certificate chain and CRLs the authority app
stores, the seal register, and who the sender claims to be.

:class:`VerificationReport` has one field per check (STYLE.md §2: the clerk sees each); each
is a :class:`Check` with ``ok`` (True passed, False failed, None not applicable) and a reason
in English and Chinese. ``valid`` is True only when no check failed and the file carries at
least one seal.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from gongwen.pki.errors import PKIError

CHECK_LABELS_ZH = {
    "readable": "文件格式",
    "signature": "签章密码校验",
    "seal": "电子印章",
    "certificate": "证书链与吊销状态",
    "register": "印章登记状态",
    "signer_unit": "签章单位与发文单位一致",
    "integrity": "文件完整性",
    "added_after": "签章后追加内容",
    "elements": "公文格式要素",
}


@dataclass(frozen=True)
class Check:
    ok: bool | None
    reason: str
    reason_zh: str

    @classmethod
    def passed(cls, en: str, zh: str) -> Check:
        return cls(True, en, zh)

    @classmethod
    def failed(cls, en: str, zh: str) -> Check:
        return cls(False, en, zh)

    @classmethod
    def skipped(cls, en: str, zh: str) -> Check:
        return cls(None, en, zh)


def _na() -> Check:
    return Check.skipped("not checked", "未校验")


@dataclass
class VerificationReport:
    file_format: str  # "pdf" | "ofd" | ""
    readable: Check = field(default_factory=_na)
    signature: Check = field(default_factory=_na)
    seal: Check = field(default_factory=_na)
    certificate: Check = field(default_factory=_na)
    register: Check = field(default_factory=_na)
    signer_unit: Check = field(default_factory=_na)
    integrity: Check = field(default_factory=_na)
    added_after: Check = field(default_factory=_na)
    elements: Check = field(default_factory=_na)
    signatures: list[dict[str, Any]] = field(default_factory=list)  # one summary per seal
    verified_at: datetime | None = None
    # (algorithm, digest of the whole file), when asked for (``verify_file(…, digest=…)``)
    # and the verification computed it on the way (a readable PDF); else None
    file_digest: tuple[str, bytes] | None = None

    CHECKS = tuple(CHECK_LABELS_ZH)

    def checks(self) -> list[tuple[str, Check]]:
        return [(name, getattr(self, name)) for name in self.CHECKS]

    @property
    def unreadable(self) -> bool:
        return self.readable.ok is False

    @property
    def valid(self) -> bool:
        return bool(self.signatures) and all(c.ok is not False for _, c in self.checks())

    def failures(self) -> list[tuple[str, Check]]:
        return [(n, c) for n, c in self.checks() if c.ok is False]

    def reason_zh(self) -> str:
        return "；".join(f"{CHECK_LABELS_ZH[n]}：{c.reason_zh}" for n, c in self.failures())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.file_format,
            "valid": self.valid,
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
            "checks": {n: {"label_zh": CHECK_LABELS_ZH[n], **asdict(c)}
                       for n, c in self.checks()},
            "signatures": self.signatures,
        }

    def text_zh(self) -> str:
        mark = {True: "✔", False: "✘", None: "－"}
        lines = [f"验证结论：{'有效' if self.valid else '无效'}（{self.file_format.upper() or '未知格式'}）"]
        for s in self.signatures:
            lines.append(f"  签章 {s.get('index', 0) + 1}：{s.get('seal_name') or ''} "
                         f"{s.get('unit') or ''} 签章时间 {display_time(s.get('signing_time')) or '未知'}")
        for n, c in self.checks():
            lines.append(f"{mark[c.ok]} {CHECK_LABELS_ZH[n]}：{c.reason_zh}")
        return "\n".join(lines)


assert {f.name for f in fields(VerificationReport)} >= set(CHECK_LABELS_ZH)


def display_time(value: str | datetime | None) -> str:
    """A time of the report as the rest of the UI shows times: local (Beijing) time,
    ``YYYY-MM-DD HH:MM:SS``. The report keeps UTC ISO 8601 text (``signatures``, stored with
    a delivery's verification); this is for display only. Unreadable text is shown as is."""
    from django.utils import timezone

    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


# ------------------------------------------------------------------------------ helpers


def file_format_of(data: bytes) -> str:
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


def _damaged_member(data: bytes) -> str | None:
    """The first file of an OFD zip whose data cannot be read back intact (CRC-32 mismatch,
    broken deflate stream), None when every file reads or the zip itself is unreadable."""
    import zlib

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in z.infolist():
                if info.is_dir():
                    continue
                try:
                    z.read(info)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
                    return info.filename
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None


_BYTE_RANGE_RE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def _pdf_ranges_altered(data: bytes) -> list[int]:
    """For a PDF the core cannot read: the indexes of the signatures (found by a raw scan
    for ``/ByteRange``) whose signed ranges no longer match the CMS message digest, or whose
    ranges no longer fit the file. Empty when none is found or all match."""
    from gongwen.sealing import cms

    out: list[int] = []
    for i, m in enumerate(_BYTE_RANGE_RE.finditer(data)):
        a, b, c, d = (int(v) for v in m.groups())
        if a != 0 or b > c or c + d > len(data):
            out.append(i)
            continue
        hole = data[a + b:c].strip()
        if not (hole.startswith(b"<") and hole.endswith(b">")):
            out.append(i)
            continue
        try:
            der = bytes.fromhex(hole[1:-1].decode("ascii"))
            if len(der) > 4 and der[0] == 0x30 and der[1] & 0x80:
                k = der[1] & 0x7F
                der = der[:2 + k + int.from_bytes(der[2:2 + k], "big")]
            parsed = cms.parse_cms(der)
        except (ValueError, UnicodeError, PKIError):
            continue  # the signature itself cannot be read: no verdict on the ranges
        if not parsed.digest_algorithm or not parsed.message_digest:
            continue
        h = cms.new_hash(parsed.digest_algorithm)
        h.update(data[a:a + b])
        h.update(data[c:c + d])
        if h.digest() != parsed.message_digest:
            out.append(i)
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def document_text(data: bytes, file_format: str) -> str:
    """The text of the pages (for the GB/T 9704 element check)."""
    if file_format == "ofd":
        from lxml import etree

        out = []
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in sorted(z.namelist()):
                if "/Pages/" in name and name.endswith("Content.xml"):
                    root = etree.fromstring(z.read(name))
                    out.extend(el.text or "" for el in root.iter()
                               if isinstance(el.tag, str) and el.tag.endswith("TextCode"))
        return "".join(out)
    from gongwen.sealing.pdftext import page_text

    lean = page_text(data)  # the text operators through ToUnicode: our writer's PDFs
    if lean is not None:
        return lean
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "".join((p.extract_text() or "") for p in reader.pages)


def _page_text(data: bytes, file_format: str) -> str:
    """:func:`document_text`, once per file content (a pure function of the bytes)."""
    from gongwen.sealing import cache

    return cache.page_text(data, file_format, document_text)


@dataclass
class _Sig:
    index: int
    ok_crypto: list[tuple[str, str]]  # failed crypto checks (en, zh)
    integrity: list[tuple[str, str]]
    seal_fail: list[tuple[str, str]]
    signing_time: datetime | None
    signer_cert: bytes | None
    es_id: str | None
    seal_name: str | None


def _collect_ofd(report) -> list[_Sig]:
    out = []
    crypto = {"format", "signature", "signer_in_seal", "signing_time", "stamp_annot"}
    integ = {"references", "data_hash", "signature_list"}
    sealc = {"seal_signature", "seal_validity", "seal_file", "maker_certificate"}
    for i, s in enumerate(report.signatures):
        def fails(names, s=s):
            return [(c.reason, c.reason_zh) for c in s.checks if c.failed and c.name in names]
        others = {c.name for c in s.checks} - crypto - integ - sealc - {"signer_certificate",
                                                                       "timestamp"}
        out.append(_Sig(i, fails(crypto | others), fails(integ), fails(sealc), s.signing_time,
                        s.signer_cert, (s.seal or {}).get("es_id") or (s.seal or {}).get("esID"),
                        (s.seal or {}).get("name")))
    return out


def _collect_pdf(report) -> list[_Sig]:
    out = []
    crypto = {"format", "signature", "signing_certificate", "timestamp", "signing_time"}
    integ = {"byte_range", "data_hash"}
    for i, s in enumerate(report.signatures):
        def fails(names, s=s):
            return [(c.reason, c.reason_zh) for c in s.checks if c.failed and c.name in names]
        out.append(_Sig(i, fails(crypto), fails(integ), [], s.signing_time, s.signer_cert,
                        None, s.name))
    return out


def _join(items: list[tuple[str, str]], n: int | None = None) -> tuple[str, str]:
    pre_en = f"seal {n + 1}: " if n is not None else ""
    pre_zh = f"第{n + 1}个签章：" if n is not None else ""
    return (pre_en + "; ".join(e for e, _ in items), pre_zh + "；".join(z for _, z in items))


# ------------------------------------------------------------------------------ the report


def verify_file(data: bytes, *, at: datetime | None = None, claimed_units: Iterable | None = None,
                document=None, register: RegisterReader | None = None,
                digest: str | None = None) -> VerificationReport:
    """Verify ``data`` (PDF or OFD). ``claimed_units``: the units the sender claims issued it
    (the dispatching unit, or the document's issuers); without them the units named as
    发文机关署名 in the text are the claim. ``document``: the OfficialDocument it should be, for
    the GB/T 9704 elements (发文字号, 标题, 成文日期, 署名). ``register``: the rows read from
    the database, shared by the files of a stack verified together (see
    :class:`RegisterReader`); a fresh one by default. ``digest`` ("sm3", "sha256"): the
    file's digest in that algorithm is wanted too (``rep.file_digest``; see
    ``check_pdf(digest_whole=…)``)."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    register = register or RegisterReader()
    fmt = file_format_of(data)
    rep = VerificationReport(fmt, verified_at=at)
    if not fmt:
        rep.readable = Check.failed("not a PDF or OFD file", "不是可识别的 PDF 或 OFD 版式文件")
        return rep
    try:
        if fmt == "ofd":
            from gongwen.sealing.ofd_verify import check_ofd

            core = check_ofd(data, at=at)
            if core.errors:
                damaged = _damaged_member(data)
                if damaged is not None:
                    # The package opens and names its files, but one file's zip data no
                    # longer match their CRC-32 (or do not inflate): the file was changed.
                    rep.readable = Check.passed(
                        f"OFD package (its file {damaged} is damaged)",
                        f"OFD 版式文件，可以读取（包内文件 {damaged} 已损坏）")
                    rep.integrity = Check.failed(
                        f"the package file {damaged} was modified or damaged after sealing "
                        "(its zip data do not match their checksum)",
                        f"包内文件 {damaged} 在签章后被修改或损坏（压缩数据与校验值不一致）")
                    return rep
                e = core.errors[0]
                rep.readable = Check.failed(e.reason, e.reason_zh)
                return rep
            sigs = _collect_ofd(core)
            after = [f for s in core.signatures[-1:] for f in s.findings
                     if f.code == "ofd.added_after_signing"]
            after += [f for f in core.findings if f.code in ("ofd.unprotected",
                                                             "ofd.unlisted_signature")]
            added = [(f.message, f.message_zh) for f in after]
        else:
            from gongwen.sealing.pdf_verify import check_pdf

            core = check_pdf(data, at=at, digest_whole=digest)
            rep.file_digest = core.file_digest
            if core.errors:
                altered = _pdf_ranges_altered(data)
                if altered:
                    # The structure is broken, but a signature's own byte ranges no longer
                    # match its digest: the signed file was changed, not merely unreadable.
                    n = altered[0]
                    rep.readable = Check.passed(
                        "PDF file (its structure is damaged)", "PDF 版式文件（文件结构已损坏）")
                    rep.integrity = Check.failed(
                        f"seal {n + 1}: the signed byte ranges were modified after sealing "
                        "(digest mismatch; the file structure is damaged)",
                        f"第{n + 1}个签章：签名覆盖的字节范围在签章后被修改（摘要不一致，文件结构已损坏）")
                    return rep
                e = core.errors[0]
                rep.readable = Check.failed(e.reason, e.reason_zh)
                return rep
            sigs = _collect_pdf(core)
            added = []
            for s in core.signatures:
                c = s.check("modifications")
                if c is not None and c.failed:
                    added.append((c.reason, c.reason_zh))
            if core.later_changes and not added:
                added.append(("changes after the last seal: " + "; ".join(
                    c.describe() for c in core.later_changes[:5]),
                    "最后一个签章之后有修改：" + "；".join(
                        c.describe_zh() for c in core.later_changes[:5])))
    except (PKIError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        rep.readable = Check.failed(f"unreadable: {exc}", "文件无法读取")
        return rep
    rep.readable = Check.passed(f"{fmt.upper()} file", f"{fmt.upper()} 版式文件，可以读取")
    if not sigs:
        rep.signature = Check.failed("the file carries no seal", "文件未加盖电子印章")
        rep.elements = _elements(data, fmt, document, [])
        return rep

    # -- cryptography, integrity, SES seal --------------------------------------------------
    bad = [(s.index, s.ok_crypto) for s in sigs if s.ok_crypto]
    rep.signature = (Check.failed(*_join(bad[0][1], bad[0][0])) if bad else Check.passed(
        f"{len(sigs)} seal signature(s) verify", f"{len(sigs)} 个签章的签名值验证通过"))
    bad = [(s.index, s.integrity) for s in sigs if s.integrity]
    what = ("every referenced file matches its digest" if fmt == "ofd"
            else "the signed byte ranges match their digests")
    what_zh = "签章保护的全部文件摘要一致" if fmt == "ofd" else "签名覆盖的字节范围摘要一致"
    rep.integrity = Check.failed(*_join(bad[0][1], bad[0][0])) if bad else Check.passed(what,
                                                                                        what_zh)
    rep.added_after = (Check.failed(*_join(added)) if added else Check.passed(
        "nothing was added after the last seal", "最后一个签章之后没有追加或修改内容"))

    # -- database: seal register, certificates, sender ---------------------------------------
    seals = [register.seal_for(s) for s in sigs]
    bad_seal = [(s.index, s.seal_fail) for s in sigs if s.seal_fail]
    missing = [s.index for s, seal in zip(sigs, seals, strict=True) if seal is None]
    if bad_seal:
        rep.seal = Check.failed(*_join(bad_seal[0][1], bad_seal[0][0]))
    elif missing:
        n = missing[0]
        rep.seal = Check.failed(f"seal {n + 1}: not an electronic seal of this platform's register",
                                f"第{n + 1}个签章所用印章不在本平台电子印章登记簿中")
    else:
        rep.seal = Check.passed("the seals were issued by their authority and are in the register",
                                "电子印章由制章机构签发，且在印章登记簿中")
        for s, seal in zip(sigs, seals, strict=True):
            if s.signing_time and not seal.valid_from <= s.signing_time <= seal.valid_to:
                rep.seal = Check.failed(
                    f"seal {s.index + 1}: signed outside the seal's validity",
                    f"第{s.index + 1}个签章的签章时间不在印章有效期内")
    rep.certificate = _certificates(sigs, at, register.authorities())
    rep.register = _register(sigs, seals)
    rep.signer_unit = _sender(sigs, seals, claimed_units, data, fmt)
    rep.elements = _elements(data, fmt, document, [s for s in seals if s is not None])
    for s, seal in zip(sigs, seals, strict=True):
        rep.signatures.append({
            "index": s.index, "es_id": seal.es_id if seal else s.es_id,
            "seal_name": seal.name if seal else s.seal_name,
            "unit": seal.unit.name if seal else None,
            "signing_time": s.signing_time.isoformat() if s.signing_time else None,
            "signer": _signer_name(s.signer_cert),
        })
    return rep


def _signer_name(cert_der: bytes | None) -> str | None:
    """The signer certificate's subject (CN, else the whole name) for the report."""
    if not cert_der:
        return None
    from gongwen.sealing import cache

    try:
        info = cache.certificate_info(bytes(cert_der))
    except (PKIError, ValueError):
        return None
    return info.subject_cn or info.subject


# ----------------------------------------------------------------- carried files (R-FLOW-5)


CARRIED_ROLES_ZH = {"Source": "正文原件", "Supplement": "附件原件"}


@dataclass(frozen=True)
class CarriedReport:
    """One file a sealed PDF/OFD carries (R-FLOW-5): what it is (name, size, SM3), whether
    the carrying file's last seal covers exactly these bytes (``covered``: an integrity
    check of the carrying file), and, for a PDF/OFD that carries seals of its own, the
    verification of those (``original``: 原件印章核验, a warning to the clerk when it fails;
    the carrying unit's seal is what decides 签收)."""

    index: int
    name: str
    description: str
    role: str  # "Source" (the body) | "Supplement" (an attachment) | as found
    size: int
    sm3: str
    file_format: str
    covered: bool | None
    covered_reason_zh: str
    original: dict[str, Any] | None = None

    @property
    def role_zh(self) -> str:
        return CARRIED_ROLES_ZH.get(self.role, "随文文件")

    @property
    def integrity_ok(self) -> bool:
        return self.covered is not False

    @property
    def warning(self) -> bool:
        """The original carries seals and they do not verify."""
        return bool(self.original and self.original.get("sealed")
                    and not self.original.get("valid"))

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "description": self.description,
                "role": self.role, "role_zh": self.role_zh, "size": self.size,
                "sm3": self.sm3, "format": self.file_format, "covered": self.covered,
                "covered_reason_zh": self.covered_reason_zh, "original": self.original,
                "warning": self.warning}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CarriedReport:
        return cls(index=int(d.get("index", 0)), name=str(d.get("name", "")),
                   description=str(d.get("description", "")), role=str(d.get("role", "")),
                   size=int(d.get("size", 0)), sm3=str(d.get("sm3", "")),
                   file_format=str(d.get("format", "")), covered=d.get("covered"),
                   covered_reason_zh=str(d.get("covered_reason_zh", "")),
                   original=d.get("original"))


def carried_of(data: bytes):
    """The carried files of a PDF/OFD (``gongwen.sealing.carried``); [] when it carries
    none or cannot be read (its own verification reports an unreadable file)."""
    from gongwen.sealing.carried import carried_files, has_carried_files
    from gongwen.seals.ses.errors import MalformedSES

    if not has_carried_files(data):
        return []
    try:
        return carried_files(data)
    except (PKIError, MalformedSES, ValueError, KeyError, zipfile.BadZipFile, RecursionError):
        return []


def verify_carried(data: bytes, *, at: datetime | None = None,
                   register: RegisterReader | None = None) -> list[CarriedReport]:
    """A :class:`CarriedReport` per file ``data`` carries, each sealed PDF/OFD among them
    verified with :func:`verify_file` (its seals' signer, seal name, chain, register status,
    validity; no claimed sender: its own 发文机关署名 is the claim)."""
    register = register or RegisterReader()
    out = []
    for f in carried_of(data):
        covered_zh = ("该文件受本文件印章保护，字节与签章时一致" if f.covered else
                      f.problem_zh or "该文件不受印章保护" if f.covered is False else
                      "本文件未加盖印章，无法确认")
        out.append(CarriedReport(
            index=f.index, name=f.name, description=f.description, role=f.relationship,
            size=f.size, sm3=f.sm3_hex, file_format=f.file_format, covered=f.covered,
            covered_reason_zh=covered_zh,
            original=_original(f.data, f.file_format, at, register) if f.data else None))
    return out


def _original(data: bytes, fmt: str, at: datetime | None, register: RegisterReader
              ) -> dict[str, Any] | None:
    """原件印章核验: the verification of a carried PDF/OFD's own seals, summarised."""
    if fmt not in ("pdf", "ofd"):
        return None
    rep = verify_file(data, at=at, register=register)
    if not rep.signatures and rep.readable.ok is not False and rep.signature.ok is False:
        return {"sealed": False, "valid": False, "signatures": [], "checks": [],
                "summary_zh": "原件未加盖电子印章（不核验）"}
    checks = [{"name": n, "label": CHECK_LABELS_ZH[n], "ok": c.ok, "reason": c.reason_zh}
              for n, c in rep.checks() if c.ok is not None]
    who = "、".join(f"{s.get('unit') or s.get('signer') or '未知单位'}“{s.get('seal_name') or ''}”"
                   for s in rep.signatures)
    if rep.valid:
        summary = f"原件印章核验通过：{who}"
    else:
        summary = "原件印章核验未通过：" + (rep.reason_zh() or "无法核验")
    return {"sealed": True, "valid": rep.valid, "signatures": rep.signatures,
            "checks": checks, "summary_zh": summary}


class RegisterReader:
    """What a verification reads from the database: the certificate authorities (trust
    anchors, intermediates, CRLs) and the seal register rows. Verifying a stack of files
    together (the worker's check of a 批量分发) shares one reader, so each row is read once
    per stack instead of once per file. A reader lives for one verification run only, never
    across requests: a revocation or a new CRL must be seen by the next run."""

    def __init__(self, authorities: list | None = None) -> None:
        self._authorities = authorities
        self._seals: dict[str, object] = {}
        self._by_certificate: dict[bytes, object] = {}

    def authorities(self) -> list:
        """Every CertificateAuthority row, by id."""
        from gongwen.authority.models import CertificateAuthority

        if self._authorities is None:
            self._authorities = list(CertificateAuthority.objects.order_by("id"))
        return self._authorities

    def seal_for(self, s: _Sig):
        """The register's seal of signature ``s`` (by its ES ID, else by its signer
        certificate), or None; its certificate must be the one that signed."""
        seal = self._seal_by_es_id(s.es_id) if s.es_id else None
        if seal is not None and (not s.signer_cert
                                 or bytes(seal.certificate.der) == bytes(s.signer_cert)):
            return seal
        if s.signer_cert:
            der = bytes(s.signer_cert)
            if der not in self._by_certificate:
                self._by_certificate[der] = _seal_by_certificate(der)
            return self._by_certificate[der]
        return None

    def _seal_by_es_id(self, es_id: str):
        from gongwen.seals.models import Seal

        if es_id not in self._seals:
            self._seals[es_id] = (Seal.objects.select_related("unit", "certificate")
                                  .filter(es_id=es_id).first())
        return self._seals[es_id]


def _seal_by_certificate(cert_der: bytes):
    from gongwen.sealing import cache
    from gongwen.seals.models import Seal

    try:
        serial = cache.certificate_info(cert_der).serial_hex
    except PKIError:
        return None
    # The register keeps the serial as the authority writes it (lower-case hex, indexed).
    for seal in Seal.objects.select_related("unit", "certificate").filter(cert_serial=serial):
        if bytes(seal.certificate.der) == cert_der:
            return seal
    return None


def _crl_freshness(at: datetime, cas=None) -> tuple[str, str] | None:
    """R-PKI-4: a CRL past its nextUpdate now is a hard failure (revocations unknown)."""
    from gongwen.authority.models import CertificateAuthority
    from gongwen.sealing import cache

    if cas is None:
        cas = CertificateAuthority.objects.exclude(crl_der=None).order_by("id")
    for ca in cas:
        if not ca.crl_der:
            continue
        nxt = cache.crl(bytes(ca.crl_der))["tbs_cert_list"]["next_update"].native
        if nxt is not None and nxt < at:
            return (f"the CRL of {ca.name} is stale (nextUpdate {nxt.isoformat()})",
                    f"{ca.name}的证书吊销列表已过期（下次更新时间 {nxt:%Y-%m-%d %H:%M}），"
                    "无法确认证书未被吊销")
    return None


def _certificates(sigs: list[_Sig], at: datetime, cas: list) -> Check:
    """The chain of each seal's certificate against the trust material the authority app
    holds now (as ``authority.services.trust_material``/``validate_certificate``: the root
    as trust anchor, the issuing CAs as intermediates, their current CRLs; read once for the
    chain and the CRL freshness: ``cas``, from :meth:`RegisterReader.authorities`), through
    the chain cache of :mod:`gongwen.sealing.cache`: a success is reused only for the exact
    certificates and CRLs in use and inside their validity windows."""
    from gongwen.authority.models import CARole
    from gongwen.authority.services import validate_certificate
    from gongwen.sealing import cache

    anchors = [bytes(ca.certificate_der) for ca in cas if ca.role == CARole.ROOT]
    intermediates = [bytes(ca.certificate_der) for ca in cas if ca.role != CARole.ROOT]
    crls = [bytes(ca.crl_der) for ca in cas if ca.crl_der]
    for s in sigs:
        if not s.signer_cert:
            return Check.failed(f"seal {s.index + 1}: no signer certificate",
                                f"第{s.index + 1}个签章没有签章者证书")
        try:
            if not anchors:  # not initialised: its own error
                validate_certificate(s.signer_cert, s.signing_time or at,
                                     key_usage=("digital_signature",))
            cache.validate_chain(bytes(s.signer_cert), anchors, intermediates, crls,
                                 s.signing_time or at, key_usage=("digital_signature",))
        except PKIError as exc:
            return Check.failed(f"seal {s.index + 1}: {exc}",
                                f"第{s.index + 1}个签章的证书无效：{exc.message_zh}")
    stale = _crl_freshness(at, cas)
    if stale:
        return Check.failed(*stale)
    return Check.passed("certificate chain valid and not revoked at signing time; CRLs current",
                        "签章证书链有效，签章时未被吊销，证书吊销列表在有效期内")


def _register(sigs: list[_Sig], seals: list) -> Check:
    for s, seal in zip(sigs, seals, strict=True):
        if seal is None:
            return Check.failed(f"seal {s.index + 1}: not in the seal register",
                                f"第{s.index + 1}个签章的印章未在印章登记簿中登记")
        if not seal.is_active:
            changed = seal.status_changed_at
            if changed is None or s.signing_time is None or changed <= s.signing_time:
                return Check.failed(
                    f"seal {s.index + 1}: seal {seal.es_id} was {seal.status} at signing time",
                    f"第{s.index + 1}个签章：印章“{seal.name}”（{seal.es_id}）签章时"
                    f"{seal.get_status_display()}")
    return Check.passed("every seal was active in the register at signing time",
                        "签章时印章在登记簿中均为有效状态（未注销、未挂失）")


def _sender(sigs: list[_Sig], seals: list, claimed, data: bytes, fmt: str) -> Check:
    if any(seal is None for seal in seals):
        return Check.failed("a seal cannot be attributed to a registered unit",
                            "有签章无法对应到已登记单位，不能确认签章单位")
    if claimed is not None:
        claimed = list(claimed)
        ids = {u.pk for u in claimed}
        for s, seal in zip(sigs, seals, strict=True):
            if seal.unit_id not in ids:
                names = "、".join(u.name for u in claimed)
                return Check.failed(
                    f"seal {s.index + 1} is of {seal.unit.name}, not of the sender",
                    f"签章单位不是发文单位：第{s.index + 1}个签章为“{seal.unit.name}”的印章，"
                    f"而发文单位为“{names}”")
        sealed = {seal.unit_id for seal in seals}
        missing = [u for u in claimed if u.pk not in sealed]
        if missing:
            return Check.failed(f"no seal of {missing[0].name}",
                                f"缺少发文单位“{missing[0].name}”的印章")
        return Check.passed("the seals are those of the sending unit(s)",
                            "签章单位与发文单位一致")
    try:
        text = _squash(_page_text(data, fmt))
    except Exception:
        text = ""
    for s, seal in zip(sigs, seals, strict=True):
        if _squash(seal.unit.name) not in text:
            return Check.failed(
                f"seal {s.index + 1} is of {seal.unit.name}, who is not named as issuer",
                f"签章单位不是发文单位：“{seal.unit.name}”未署名为发文机关")
    return Check.passed("each sealing unit is named as issuer in the document",
                        "签章单位均为文中署名的发文机关")


_NUMBER_RE = re.compile(r"〔\d{4}〕\d+号")
_DATE_RE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def _elements(data: bytes, fmt: str, document, seals: list) -> Check:
    try:
        text = _squash(_page_text(data, fmt))
    except Exception:
        return Check.failed("the page text cannot be read", "无法读取版面文字，不能核对公文格式要素")
    missing: list[tuple[str, str]] = []
    if document is not None:
        if document.doc_number and _squash(document.doc_number) not in text:
            missing.append(("document number", "发文字号"))
        if _squash(document.title) not in text:
            missing.append(("title", "标题"))
        if document.date and f"{document.date.year}年{document.date.month}月" \
                f"{document.date.day}日" not in text:
            missing.append(("date", "成文日期"))
        names = [_squash(n) for n in (document.issuer_names() or [document.unit.name])]
        if document.signature_text and len(names) == 1:
            names = [_squash(document.signature_text)]
        if not all(n in text for n in names):
            missing.append(("issuer signature", "发文机关署名"))
    else:
        if not _NUMBER_RE.search(text):
            missing.append(("document number", "发文字号"))
        if not _DATE_RE.search(text):
            missing.append(("date", "成文日期"))
        if not re.search(r"关于|通知|决定|意见|报告|请示|批复|函|纪要|通报|公告|通告", text):
            missing.append(("title", "标题"))
        if seals and not any(_squash(s.unit.name) in text for s in seals):
            missing.append(("issuer signature", "发文机关署名"))
    if missing:
        return Check.failed("missing: " + ", ".join(e for e, _ in missing),
                            "缺少公文格式要素：" + "、".join(z for _, z in missing))
    return Check.passed("发文字号, title, date and issuer signature present",
                        "发文字号、标题、成文日期、发文机关署名齐全")


def verify_document(doc, *, at: datetime | None = None, file_format: str = "pdf",
                    claimed_units: Iterable | None = None) -> VerificationReport | None:
    """The report of the stored sealed file of ``doc`` (None if it has none)."""
    from .sealing import sealed_bytes, sealing_issuers

    data = sealed_bytes(doc, file_format)
    if data is None:
        return None
    return verify_file(data, at=at, document=doc,
                       claimed_units=claimed_units if claimed_units is not None
                       else sealing_issuers(doc))
