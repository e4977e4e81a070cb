"""Read back the files a sealed PDF or OFD carries (R-FLOW-5; the writers are
:mod:`gongwen.documents.gbt9704.carried`, ``render_pdf``/``render_ofd``).

:func:`carried_files` lists and extracts them, and says for each whether the **last seal**
covers exactly these bytes (``covered``):

* PDF (ISO 32000-2 §7.11.4, §14.13): the catalog's ``/Names /EmbeddedFiles`` name tree
  (``/Kids`` followed) and ``/AF`` array, each ``/Filespec``'s ``/EF /UF`` (else ``/F``)
  stream decoded. Covered: the file is in the revision that the last signature's
  ``/ByteRange`` ends with, with the same bytes (a file added or swapped by a later
  incremental update is not covered). Whether those byte ranges still match the signed
  digest is the signature check's business (``pdf_verify.check_pdf``).
* OFD (GB/T 33190-2016 §7.7): ``Document.xml`` → ``<Attachments>`` → each
  ``<Attachment><FileLoc>``. Covered: the last signature's ``Signature.xml`` lists the file
  in its ``References`` with the file's SM3 digest (GB/T 38540-2020; only SM3 and its OIDs
  are accepted as CheckMethod here).

Also the declared size / MD5 ``CheckSum`` (PDF) and ``Size`` (OFD, in KB) are compared with
the bytes. Nothing here trusts a name: a carried file is found by the document's own
structure. Django-free; raises :class:`gongwen.sealing.errors.MalformedPDF` /
:class:`gongwen.seals.ses.errors.MalformedSES` only for a container that cannot be read at
all.
"""

from __future__ import annotations

import base64
import hashlib
import io
import posixpath
import zipfile
from dataclasses import dataclass
from typing import Any

from lxml import etree

from gongwen.pki.suites import sm3
from gongwen.seals.ses.ofd_xml import (
    child,
    children,
    parse_xml,
    read_package,
    resolve_loc,
    text_of,
)

from . import cos
from .errors import MalformedPDF

__all__ = ["CarriedFile", "carried_files", "has_carried_files"]

_SM3_METHODS = {"sm3", "1.2.156.10197.1.401"}
_MAX_FILES = 200


@dataclass(frozen=True)
class CarriedFile:
    """A file found inside a PDF/OFD. ``covered``: True when the last seal covers exactly
    these bytes, False when it does not (``problem``/``problem_zh`` say why), None when the
    container carries no seal. ``where``: the package path (OFD) or "EmbeddedFiles" key."""

    index: int
    name: str
    description: str
    relationship: str  # "Source" (the body), "Supplement" (an attachment), or as found
    data: bytes
    where: str
    covered: bool | None
    problem: str = ""
    problem_zh: str = ""

    def __repr__(self) -> str:
        return (f"CarriedFile(index={self.index}, name={self.name!r}, size={len(self.data)}, "
                f"covered={self.covered!r})")

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sm3_hex(self) -> str:
        return sm3(self.data).hex()

    @property
    def file_format(self) -> str:
        if self.data[:5] == b"%PDF-":
            return "pdf"
        if self.data[:2] == b"PK":
            try:
                with zipfile.ZipFile(io.BytesIO(self.data)) as z:
                    if "OFD.xml" in z.namelist():
                        return "ofd"
            except zipfile.BadZipFile:
                return ""
        return ""


def has_carried_files(data: bytes) -> bool:
    """A cheap look before the real reading: could ``data`` carry files at all?"""
    if data[:5] == b"%PDF-":
        return b"/EmbeddedFiles" in data or b"/AF" in data
    if data[:2] == b"PK":
        # The member names are stored uncompressed in the zip's directory.
        return b"Attachments" in data or b"Attachs" in data
    return False


def carried_files(data: bytes) -> list[CarriedFile]:
    """The files carried by a PDF or OFD, in document order; [] for neither."""
    if data[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        return _pdf_files(data)
    if data[:2] == b"PK":
        return _ofd_files(data)
    return []


# ------------------------------------------------------------------------------------- PDF


@dataclass
class _Found:
    name: str
    description: str
    relationship: str
    data: bytes
    problem: tuple[str, str] | None = None


def _pdf_entries(reader: cos.PDFReader, rev: int | None) -> list[_Found]:
    root = reader.catalog(rev)
    specs: list[Any] = []
    names = reader.resolve(root.get("Names"), rev)
    tree = reader.resolve(names.get("EmbeddedFiles"), rev) if isinstance(names, dict) else None
    seen: set[Any] = set()

    def walk(node: Any, depth: int) -> None:
        node = reader.resolve(node, rev)
        if not isinstance(node, dict) or depth > 32 or len(specs) > _MAX_FILES:
            return
        pairs = reader.resolve(node.get("Names"), rev)
        if isinstance(pairs, list):
            for value in pairs[1::2]:
                specs.append(value)
        for kid in reader.resolve(node.get("Kids"), rev) or []:
            if isinstance(kid, cos.Ref) and kid in seen:
                continue
            seen.add(kid)
            walk(kid, depth + 1)

    if tree is not None:
        walk(tree, 0)
    # /AF of the catalog (the PDF 2.0 association) gives the document order; files named
    # only in the name tree (sorted by name) follow.
    af = [s for s in reader.resolve(root.get("AF"), rev) or [] if isinstance(s, cos.Ref)]
    specs = af + [s for s in specs if not (isinstance(s, cos.Ref) and s in af)]
    out = []
    for spec in specs:
        found = _pdf_spec(reader, spec, rev)
        if found is not None:
            out.append(found)
    return out


def _pdf_spec(reader: cos.PDFReader, spec: Any, rev: int | None) -> _Found | None:
    d = reader.resolve(spec, rev)
    if not isinstance(d, dict):
        return None
    ef = reader.resolve(d.get("EF"), rev)
    if not isinstance(ef, dict):
        return None
    name = cos.decode_text(reader.resolve(d.get("UF"), rev)) or cos.decode_text(
        reader.resolve(d.get("F"), rev))
    desc = cos.decode_text(reader.resolve(d.get("Desc"), rev))
    rel = reader.resolve(d.get("AFRelationship"), rev)
    stream = reader.resolve(ef.get("UF") or ef.get("F"), rev)
    if not isinstance(stream, cos.Stream):
        return _Found(name, desc, str(rel or ""), b"",
                      ("the embedded file stream is missing", "内嵌文件数据缺失"))
    try:
        data = cos.decode_stream(stream, lambda v: reader.resolve(v, rev))
    except (MalformedPDF, ValueError) as exc:
        return _Found(name, desc, str(rel or ""), b"",
                      (f"the embedded file cannot be decoded: {exc}", "内嵌文件数据无法解码（可能已被篡改）"))
    problem = None
    params = reader.resolve(stream.dict.get("Params"), rev)
    if isinstance(params, dict):
        size = reader.resolve(params.get("Size"), rev)
        check = reader.resolve(params.get("CheckSum"), rev)
        if isinstance(size, int) and size != len(data):
            problem = (f"declared size {size}, found {len(data)} bytes",
                       f"声明大小为 {size} 字节，实际为 {len(data)} 字节")
        elif isinstance(check, bytes) and len(check) == 16 and bytes(check) != hashlib.md5(
                data, usedforsecurity=False).digest():
            problem = ("the MD5 check sum does not match the data", "校验和与文件数据不一致")
    return _Found(name, desc, str(rel or ""), data, problem)


def _signed_revision(reader: cos.PDFReader) -> int | None:
    """The revision the last signature (the one whose byte ranges reach furthest) ends with;
    None when the PDF has no signature."""
    ends = []
    for _ref, field, _name in reader.iter_fields():
        if field.get("FT") != "Sig":
            continue
        v = reader.resolve(field.get("V"))
        br = reader.resolve(v.get("ByteRange")) if isinstance(v, dict) else None
        if isinstance(br, list) and len(br) == 4 and all(isinstance(x, int) for x in br):
            ends.append(br[2] + br[3])
    if not ends:
        return None
    end = max(ends)
    best = None
    for r in reader.revisions:
        if r.end <= end + 2:  # the ranges may stop before the final end-of-line
            best = r.index
    return best


def _pdf_files(data: bytes) -> list[CarriedFile]:
    reader = cos.PDFReader(data)
    newest = _pdf_entries(reader, None)
    if not newest:
        return []
    signed_rev = _signed_revision(reader)
    signed: dict[str, bytes] | None = None
    if signed_rev is not None:
        last = len(reader.revisions) - 1
        signed = ({f.name: f.data for f in newest} if signed_rev >= last else
                  {f.name: f.data for f in _pdf_entries(reader, signed_rev)})
    out = []
    for i, f in enumerate(newest):
        covered: bool | None = None
        problem = f.problem
        if signed is not None:
            if f.name not in signed:
                problem = ("the file was added after sealing", "该文件在签章后被加入，不在印章保护范围内")
            elif signed[f.name] != f.data:
                problem = ("the file was changed after sealing", "该文件在签章后被替换或修改")
            covered = problem is None
        elif problem is not None:
            covered = False
        out.append(CarriedFile(i, f.name, f.description, f.relationship, f.data,
                               f"EmbeddedFiles/{f.name}", covered,
                               *(problem or ("", ""))))
    return out


# ------------------------------------------------------------------------------------- OFD


def _xml(files: dict[str, bytes], path: str | None) -> etree._Element | None:
    if not path or path not in files:
        return None
    try:
        return parse_xml(files[path])
    except etree.XMLSyntaxError:
        return None


def _last_signature_refs(files: dict[str, bytes], ofd_root: etree._Element
                         ) -> dict[str, bytes] | None:
    """FileRef → CheckValue of the last signature listed in Signatures.xml (its SM3
    References); {} for a signature with another CheckMethod; None without a signature."""
    body = child(ofd_root, "DocBody")
    sigs_path = resolve_loc("", text_of(child(body, "Signatures")))
    sigs = _xml(files, sigs_path)
    entries = children(sigs, "Signature")
    if sigs_path is None or not entries:
        return None
    sig_path = resolve_loc(posixpath.dirname(sigs_path), entries[-1].get("BaseLoc"))
    sig = _xml(files, sig_path)
    if sig is None or sig_path is None:
        return {}
    refs = child(child(sig, "SignedInfo"), "References")
    if (refs is None or (refs.get("CheckMethod") or "").strip().lower() not in _SM3_METHODS):
        return {}
    base = posixpath.dirname(sig_path)
    out: dict[str, bytes] = {}
    for ref in children(refs, "Reference"):
        path = resolve_loc(base, ref.get("FileRef"))
        try:
            value = base64.b64decode(text_of(child(ref, "CheckValue")) or "", validate=True)
        except ValueError:
            continue
        if path:
            out[path] = value
    return out


def _ofd_files(data: bytes) -> list[CarriedFile]:
    files = read_package(data)
    root = _xml(files, "OFD.xml")
    if root is None:
        return []
    doc_path = resolve_loc("", text_of(child(child(root, "DocBody"), "DocRoot")))
    doc = _xml(files, doc_path)
    if doc is None or doc_path is None:
        return []
    att_path = resolve_loc(posixpath.dirname(doc_path), text_of(child(doc, "Attachments")))
    atts = _xml(files, att_path)
    if atts is None or att_path is None:
        return []
    refs = _last_signature_refs(files, root)
    base = posixpath.dirname(att_path)
    out: list[CarriedFile] = []
    for el in children(atts, "Attachment")[:_MAX_FILES]:
        path = resolve_loc(base, text_of(child(el, "FileLoc")))
        name = el.get("Name") or posixpath.basename(path or "")
        body = files.get(path or "")
        usage = (el.get("Usage") or "").lower()
        rel = "Source" if usage == "body" else "Supplement" if usage == "attachment" \
            else el.get("Usage") or ""
        problem: tuple[str, str] | None = None
        if body is None:
            problem = (f"the attachment file {path} is missing", f"附件文件 {path} 缺失")
            body = b""
        else:
            size = el.get("Size")
            try:
                declared = float(size) if size else None
            except ValueError:
                declared = None
            if declared is not None and abs(declared * 1024 - len(body)) > 1024:
                problem = (f"declared size {size} KB, found {len(body)} bytes",
                           f"声明大小为 {size} KB，实际为 {len(body)} 字节")
        covered: bool | None = None
        if refs is not None:
            want = refs.get(path or "")
            covered = problem is None and want is not None and want == sm3(body)
            if problem is None and not covered:
                problem = (("the file is not among the seal's references",
                            "该文件不在印章签名保护的文件列表中") if want is None else
                           ("the file's digest differs from the one the seal signed",
                            "该文件的摘要与印章签名保护的摘要不一致（签章后被修改）"))
            # Attachments.xml itself must be covered too (names, sizes, locations).
            if covered and refs.get(att_path) != sm3(files[att_path]):
                covered = False
                problem = ("Attachments.xml is not covered by the seal",
                           "附件列表文件不在印章签名保护范围内或已被修改")
        elif problem is not None:
            covered = False
        out.append(CarriedFile(len(out), name, "", rel, body, path or "",
                               covered, *(problem or ("", ""))))
    return out
