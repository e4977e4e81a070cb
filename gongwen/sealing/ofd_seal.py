"""Seal an OFD document: GB/T 33190-2016 §18 signature files with a GB/T 38540-2020 v4
``SES_Signature`` (STANDARDS.md §1.3, §2.3).

:func:`seal_ofd` adds one seal signature to an OFD package and returns the new package::

    OFD.xml                                  + <ofd:Signatures>/Doc_0/Signs/Signatures.xml
    Doc_0/Signs/Signatures.xml               created, or the new entry appended
    Doc_0/Signs/Sign_N/Seal.esl              the SES_Seal (DER), as given
    Doc_0/Signs/Sign_N/Signature.xml         SignedInfo: Provider, SignatureMethod SM3withSM2,
                                             SignatureDateTime, References (SM3 of every file),
                                             StampAnnot (the GB/T 9704 seal box), Seal BaseLoc
    Doc_0/Signs/Sign_N/SignedValue.dat       DER SES_Signature v4 over TBS_Sign

Steps (as ofdrw's ``OFDSigner`` in ContinueSign mode): declare the signature list in OFD.xml
if it is missing, add the entry to Signatures.xml, write Seal.esl, digest the protected files,
write Signature.xml, ``dataHash = SM3(Signature.xml bytes)``, sign ``DER(TBS_Sign)`` with
SM3withSM2 (:func:`gongwen.seals.ses.signature.build_signature`), write SignedValue.dat.

**What is protected.** Every file of the package at that moment — OFD.xml, Document.xml,
pages, resources, fonts, earlier signatures' Signature.xml / SignedValue.dat / Seal.esl and
this signature's Seal.esl — **except ``Signatures.xml``**. Signatures.xml is the one list of
all signatures of the document (GB/T 33190 §18.1): a later seal (联合行文: each issuing unit
seals in order) has to append its entry to it. If a signature protected it, the next seal
would break that signature — exactly what happened to the first signature of
``ofdrw_two_seals_h.ofd`` (ofdrw's WholeProtected mode). Leaving it out costs nothing: every
signature is self-contained (its Signature.xml is hashed into its own signed TBS_Sign, and
each later signature's References cover the earlier signatures' files), and the verifier
reports any Signature.xml that a later signature protects but the list no longer names, so a
seal cannot be hidden by editing the list. A document whose earlier signature does protect
Signatures.xml is refused (sealing it would invalidate that signature), as ofdrw refuses.

The first seal changes OFD.xml (the ``<ofd:Signatures>`` entry); later seals leave every
earlier-protected file untouched. Members that do not change are copied into the new zip
byte for byte. ``<ofd:Signatures>`` belongs to ``DocBody`` in OFD.xml (GB/T 33190 §7.5),
not to Document.xml.
"""

from __future__ import annotations

import base64
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

import gongwen
from gongwen.pki.errors import PKIError
from gongwen.pki.suites import sm3
from gongwen.seals.ses.seal import signer_from_key
from gongwen.seals.ses.signature import build_signature

from .ofd_package import (
    OFD_NS,
    Entry,
    child,
    children,
    document_pages,
    local_name,
    parse_xml,
    read_entries,
    resolve_loc,
    text_of,
    write_entries,
)

__all__ = [
    "CHECK_METHOD",
    "SIGNATURE_METHOD",
    "OFDSealError",
    "SealPlacement",
    "StampBox",
    "seal_ofd",
]

SIGNATURE_METHOD = "1.2.156.10197.1.501"  # SM3withSM2
CHECK_METHOD = "SM3"  # ofdrw's spelling; verifiers also accept 1.2.156.10197.1.401
_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


class OFDSealError(PKIError):
    """The document cannot be sealed (not an OFD, bad box, earlier signature in the way)."""

    code = "ofd.seal"
    default_message = "the OFD document cannot be sealed"
    default_message_zh = "无法对该 OFD 文件签章"


class StampBox(Protocol):
    """Where the seal is drawn: ``page`` (0-based index) and the box in mm, origin top-left —
    :class:`gongwen.documents.gbt9704.layout.SealBox` fits."""

    page: int
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class SealPlacement:
    """A plain :class:`StampBox`; ``clip`` (x y w h inside the box) for part of a seal."""

    page: int
    x: float
    y: float
    w: float
    h: float
    clip: tuple[float, float, float, float] | None = None


def _n(v: float) -> str:
    s = f"{float(v):.3f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def _as_signer(signer: Any) -> Callable[[bytes], bytes]:
    """A private key, an object with ``sign_der`` (key disk, token) or a callable."""
    if hasattr(signer, "sign_der") or not callable(signer):
        return signer_from_key(signer)
    return signer  # already sign(message) -> DER


def _as_boxes(box: StampBox | Sequence[StampBox] | tuple) -> list[Any]:
    if isinstance(box, tuple) and len(box) == 5 and all(isinstance(v, (int, float)) for v in box):
        return [SealPlacement(int(box[0]), *(float(v) for v in box[1:]))]
    if isinstance(box, (list, tuple)):
        return [b for item in box for b in _as_boxes(item)]
    return [box]


_ID_NUM = re.compile(r"(\d+)\s*$")


def _id_number(value: str | None) -> int:
    m = _ID_NUM.search(value or "")
    return int(m.group(1)) if m else 0


class _Package:
    def __init__(self, ofd: bytes) -> None:
        try:
            self.entries = read_entries(ofd)
        except PKIError as exc:
            raise OFDSealError(str(exc), message_zh=exc.message_zh) from exc
        self.by_name = {e.name: e for e in self.entries}

    def files(self) -> dict[str, bytes]:
        return {e.name: e.data for e in self.entries}

    def get(self, name: str | None) -> bytes | None:
        e = self.by_name.get(name or "")
        return e.data if e else None

    def put(self, name: str, data: bytes) -> None:
        e = self.by_name.get(name)
        if e is None:
            e = Entry(name, data)
            self.entries.append(e)
            self.by_name[name] = e
        elif e.data != data:
            e.data, e.raw, e.info = data, None, None

    def xml(self, name: str, what_zh: str) -> etree._Element:
        data = self.get(name)
        if data is None:
            raise OFDSealError(f"{name} is missing", message_zh=f"OFD 包中缺少{what_zh}：{name}")
        try:
            return parse_xml(data)
        except etree.XMLSyntaxError as exc:
            raise OFDSealError(f"{name}: {exc}", message_zh=f"{what_zh}不是有效的 XML") from exc


def _add_signatures_to_ofd_xml(data: bytes, root: etree._Element, loc: str) -> bytes:
    """Insert ``<Signatures>loc</Signatures>`` at the end of the first DocBody, changing no
    other byte of OFD.xml when the text allows it."""
    body = child(root, "DocBody")
    assert body is not None
    prefix = body.prefix
    tag = f"{prefix}:Signatures" if prefix else "Signatures"
    close = f"</{prefix}:DocBody>" if prefix else "</DocBody>"
    element = f"<{tag}>{escape(loc)}</{tag}>"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        i = text.find(close)
        if i >= 0:
            new = (text[:i] + element + text[i:]).encode("utf-8")
            check = parse_xml(new)
            sig = child(child(check, "DocBody"), "Signatures")
            if sig is not None and text_of(sig) == loc:
                return new
    el = etree.SubElement(body, f"{{{etree.QName(body).namespace}}}Signatures"
                          if etree.QName(body).namespace else "Signatures")  # fmt: skip
    el.text = loc
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _new_signatures_xml(
    existing: etree._Element | None, entry_id: str, max_id: str, sig_loc: str
) -> bytes:
    """Signatures.xml with every existing entry kept as it is, MaxSignId first (XSD order),
    our entry last."""
    ns = f'xmlns:ofd="{OFD_NS}"'
    kept: list[str] = []
    if existing is not None:
        for el in children(existing, "Signature"):
            attrs = "".join(f" {k}={quoteattr(v)}" for k, v in el.attrib.items())
            kept.append(f"<ofd:Signature{attrs}/>")
    kept.append(
        f'<ofd:Signature ID={quoteattr(entry_id)} Type="Seal" BaseLoc={quoteattr(sig_loc)}/>'
    )
    return (
        f"{_DECL}<ofd:Signatures {ns}><ofd:MaxSignId>{escape(max_id)}</ofd:MaxSignId>"
        + "".join(kept)
        + "</ofd:Signatures>"
    ).encode()


def seal_ofd(
    ofd_bytes: bytes,
    *,
    signer: Any,
    signer_cert_der: bytes,
    seal_der: bytes,
    seal_sm3: bytes | None = None,
    box: StampBox | Sequence[StampBox] | tuple,
    signing_time: datetime,
    sign_id: str | None = None,
    provider: str = "gongwen",
    company: str = "gongwen",
) -> bytes:
    """Add a seal signature (GB/T 38540 v4 in GB/T 33190 signature files) to an OFD package.

    ``signer``: the seal holder's SM2 private key, an object with ``sign_der`` (key disk,
    token) or a callable ``sign(message) -> DER``. ``signer_cert_der``: its certificate,
    which must be in the seal's certList. ``seal_der``: the SES_Seal v4 (DER), embedded byte
    for byte and written as Seal.esl. ``box``: where the stamp goes (page index and x, y, w,
    h in mm — a :class:`~gongwen.documents.gbt9704.layout.SealBox`, a :class:`SealPlacement`,
    a ``(page, x, y, w, h)`` tuple, or a list of them for one seal over several places).
    ``seal_sm3``: SM3 of ``seal_der`` when the caller has it (a sealer that seals a stack
    with one seal computes it once); it is Seal.esl's reference.
    ``signing_time``: timezone-aware; must lie in the seal's validity. ``sign_id``: the
    signature's ID in Signatures.xml (default: the next ``sNNN``).

    Raises :class:`OFDSealError` for a package that cannot be sealed, and the seal core's
    errors (``SignerNotInSeal``, ``SigningTimeOutsideSealValidity``, ``SignatureInvalid`` for
    a key that does not match the certificate, …) before anything is signed where possible.
    """
    if signing_time.tzinfo is None or signing_time.utcoffset() is None:
        raise OFDSealError("signing_time must be timezone-aware", message_zh="签章时间缺少时区")
    when = signing_time.astimezone(UTC).replace(microsecond=0)
    pkg = _Package(bytes(ofd_bytes))
    ofd_root = pkg.xml("OFD.xml", "OFD.xml")
    if etree.QName(ofd_root).namespace != OFD_NS or local_name(ofd_root) != "OFD":
        raise OFDSealError(
            f"OFD.xml root is {ofd_root.tag}", message_zh="OFD.xml 的根元素或命名空间不正确"
        )
    body = child(ofd_root, "DocBody")
    doc_path = resolve_loc("", text_of(child(body, "DocRoot")))
    if body is None or doc_path is None or pkg.get(doc_path) is None:
        raise OFDSealError("no document root", message_zh="OFD.xml 未指向有效的文档根节点")
    try:
        pages = document_pages(pkg.files(), doc_path)
    except etree.XMLSyntaxError as exc:
        raise OFDSealError(f"{doc_path}: {exc}", message_zh="Document.xml 不是有效的 XML") from exc

    boxes = _as_boxes(box)
    if not boxes:
        raise OFDSealError("no stamp position", message_zh="未指定印章位置")
    annots: list[tuple[Any, str]] = []
    for b in boxes:
        page = int(b.page)
        if not 0 <= page < len(pages):
            raise OFDSealError(
                f"page {page} does not exist ({len(pages)} pages)",
                message_zh=f"印章所在页 {page + 1} 不存在（共 {len(pages)} 页）",
            )
        if not (b.w > 0 and b.h > 0):
            raise OFDSealError("the stamp box needs a positive size", message_zh="印章尺寸错误")
        annots.append((b, pages[page].id))

    # -- the signature list ---------------------------------------------------------------
    sigs_loc = text_of(child(body, "Signatures"))
    doc_dir = posixpath.dirname(doc_path)
    sigs_path = (
        resolve_loc("", sigs_loc)
        if sigs_loc
        else posixpath.join(doc_dir, "Signs", "Signatures.xml")
    )
    if sigs_path is None:
        raise OFDSealError("bad Signatures location", message_zh="签名列表路径非法")
    sigs_root = pkg.xml(sigs_path, "签名列表文件") if pkg.get(sigs_path) is not None else None
    sigs_dir = posixpath.dirname(sigs_path)
    used_ids = [_id_number(text_of(m)) for m in children(sigs_root, "MaxSignId")]
    for el in children(sigs_root, "Signature"):
        used_ids.append(_id_number(el.get("ID")))
        prior = resolve_loc(sigs_dir, el.get("BaseLoc"))
        _refuse_if_list_protected(pkg, prior, sigs_path, el.get("ID", ""))
        used_ids.extend(_stamp_ids(pkg, prior))
    next_id = max(used_ids, default=0) + 1
    entry_id = sign_id or f"s{next_id:03d}"
    existing_ids = {el.get("ID") for el in children(sigs_root, "Signature")}
    if entry_id in existing_ids:
        raise OFDSealError(
            f"signature ID {entry_id} is taken", message_zh=f"签名标识 {entry_id} 已被使用"
        )
    first_stamp = max(next_id, _id_number(entry_id)) + 1  # after a given sign_id, too
    stamp_ids = [f"s{first_stamp + k:03d}" for k in range(len(annots))]
    max_id = stamp_ids[-1]

    n = 0
    while any(name.startswith(f"{sigs_dir}/Sign_{n}/") for name in pkg.by_name):
        n += 1
    sign_dir = f"{sigs_dir}/Sign_{n}"
    sig_path = f"{sign_dir}/Signature.xml"
    seal_path = f"{sign_dir}/Seal.esl"
    sv_path = f"{sign_dir}/SignedValue.dat"

    # -- write: OFD.xml, Signatures.xml, Seal.esl --------------------------------------------
    if not sigs_loc:
        pkg.put(
            "OFD.xml",
            _add_signatures_to_ofd_xml(pkg.get("OFD.xml") or b"", ofd_root, "/" + sigs_path),
        )
    pkg.put(sigs_path, _new_signatures_xml(sigs_root, entry_id, max_id, "/" + sig_path))
    seal_der = bytes(seal_der)
    pkg.put(seal_path, seal_der)

    # -- Signature.xml ----------------------------------------------------------------------
    def check_value(e: Entry) -> bytes:
        return seal_sm3 if seal_sm3 is not None and e.name == seal_path else sm3(e.data)

    refs = "".join(
        f"<ofd:Reference FileRef={quoteattr('/' + e.name)}><ofd:CheckValue>"
        f"{base64.b64encode(check_value(e)).decode('ascii')}</ofd:CheckValue></ofd:Reference>"
        for e in pkg.entries
        if e.name != sigs_path
    )
    stamps = "".join(
        f'<ofd:StampAnnot ID="{sid}" PageRef={quoteattr(page_id)} '
        f'Boundary="{_n(b.x)} {_n(b.y)} {_n(b.w)} {_n(b.h)}"'
        + (f' Clip="{" ".join(_n(v) for v in b.clip)}"' if getattr(b, "clip", None) else "")
        + "/>"
        for sid, (b, page_id) in zip(stamp_ids, annots, strict=True)
    )
    sig_xml = (
        f'{_DECL}<ofd:Signature xmlns:ofd="{OFD_NS}"><ofd:SignedInfo>'
        f"<ofd:Provider ProviderName={quoteattr(provider)} Version={quoteattr(gongwen.__version__)} "
        f"Company={quoteattr(company)}/>"
        f"<ofd:SignatureMethod>{SIGNATURE_METHOD}</ofd:SignatureMethod>"
        f"<ofd:SignatureDateTime>{when:%Y%m%d%H%M%S}Z</ofd:SignatureDateTime>"
        f'<ofd:References CheckMethod="{CHECK_METHOD}">{refs}</ofd:References>'
        f"{stamps}"
        f"<ofd:Seal><ofd:BaseLoc>/{seal_path}</ofd:BaseLoc></ofd:Seal>"
        f"</ofd:SignedInfo><ofd:SignedValue>/{sv_path}</ofd:SignedValue></ofd:Signature>"
    ).encode()

    # -- SignedValue.dat: SES_Signature v4 over DER(TBS_Sign) --------------------------------
    signed_value = build_signature(
        seal_der=seal_der,
        data_hash=sm3(sig_xml),
        property_info="/" + sig_path,
        signer_cert=signer_cert_der,
        sign=_as_signer(signer),
        signing_time=when,
    )
    pkg.put(sig_path, sig_xml)
    pkg.put(sv_path, signed_value)
    return write_entries(pkg.entries)


def _signature_root(pkg: _Package, path: str | None) -> etree._Element | None:
    data = pkg.get(path)
    if data is None:
        return None
    try:
        return parse_xml(data)
    except etree.XMLSyntaxError:
        return None


def _refuse_if_list_protected(
    pkg: _Package, sig_path: str | None, sigs_path: str, sid: str
) -> None:
    root = _signature_root(pkg, sig_path)
    if root is None or sig_path is None:
        return
    refs = child(child(root, "SignedInfo"), "References")
    base = posixpath.dirname(sig_path)
    for ref in children(refs, "Reference"):
        if resolve_loc(base, ref.get("FileRef")) == sigs_path:
            raise OFDSealError(
                f"signature {sid} protects {sigs_path}; another seal would invalidate it",
                message_zh=f"已有签章（{sid}）保护了签名列表文件，继续签章将使其失效，不能再加盖印章",
            )


def _stamp_ids(pkg: _Package, sig_path: str | None) -> list[int]:
    root = _signature_root(pkg, sig_path)
    if root is None:
        return []
    return [_id_number(a.get("ID")) for a in children(child(root, "SignedInfo"), "StampAnnot")]
