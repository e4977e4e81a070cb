"""Checking an uploaded PDF or OFD (R-DOC-4) before it becomes a body or an attachment.

``inspect_file`` takes the original bytes and returns what it found (format, page count,
extracted text for the classification guard) or raises :class:`UploadRejected` with a Chinese
message: too large, neither PDF nor OFD, encrypted, broken. The bytes themselves are never
changed: the caller keeps them in the blob store with their digest.

PDF: pypdf parses the file; an encrypted PDF (even one that opens without a password) is
refused, because the platform must be able to read, stamp and check it; a file pypdf cannot
parse, or with no pages, is refused as broken.

OFD (GB/T 33190): a ZIP package with OFD.xml in the namespace http://www.ofdspec.org/2016 and
a DocRoot that exists. Text comes from the core's reader (``gbt9704.ofd_reader``), or, for
packages the reader does not accept (e.g. a declared resource file that is missing), from the
TextObjects of the pages the package lists. Zip bombs are refused by size and ratio limits.
"""

from __future__ import annotations

import io
import logging
import posixpath
import zipfile
from dataclasses import dataclass

from lxml import etree

__all__ = ["DEFAULT_MAX_BYTES", "InspectedFile", "UploadRejected", "extract_text",
           "inspect_file", "max_upload_bytes"]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
OFD_NS = "http://www.ofdspec.org/2016"
_NS = {"ofd": OFD_NS}
_MAX_MEMBERS = 20_000
_MAX_UNCOMPRESSED = 512 * 1024 * 1024
_MAX_RATIO = 200  # uncompressed/compressed, per member above 1 MB
_MAX_XML_MEMBER = 64 * 1024 * 1024
_MAX_PDF_PAGES_FOR_TEXT = 2000


class UploadRejected(ValueError):
    """An upload that cannot be accepted; ``message_zh`` is shown on the form."""

    def __init__(self, message_zh: str, reason: str = "") -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.reason = reason or message_zh


@dataclass(frozen=True)
class InspectedFile:
    file_format: str  # "pdf" | "ofd"
    pages: int
    text: str
    size: int


def max_upload_bytes() -> int:
    """settings.GONGWEN["UPLOAD_MAX_BYTES"] (default 50 MB)."""
    from django.conf import settings

    value = getattr(settings, "GONGWEN", {}).get("UPLOAD_MAX_BYTES")
    return int(value) if value else DEFAULT_MAX_BYTES


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n} 字节"


def sniff(data: bytes) -> str:
    """"pdf", "ofd" (a ZIP), or "" from the first bytes (magic numbers, not the file name)."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        return "ofd"
    return ""


def inspect_file(data: bytes, filename: str = "", *, max_bytes: int | None = None
                 ) -> InspectedFile:
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    name = filename or "上传文件"
    if not data:
        raise UploadRejected(f"文件“{name}”是空文件。", "empty")
    if len(data) > limit:
        raise UploadRejected(
            f"文件“{name}”大小为 {_mb(len(data))}，超过上限 {_mb(limit)}。", "too_large")
    kind = sniff(data)
    lower = filename.lower()
    if not kind:
        raise UploadRejected(
            f"文件“{name}”不是PDF或OFD格式的版式文件，只能上传PDF或OFD文件。", "format")
    if kind == "pdf" and lower.endswith(".ofd"):
        raise UploadRejected(f"文件“{name}”扩展名为.ofd，但内容是PDF，请核对后重新上传。",
                             "mismatch")
    if kind == "ofd" and lower.endswith(".pdf"):
        raise UploadRejected(f"文件“{name}”扩展名为.pdf，但内容不是PDF，请核对后重新上传。",
                             "mismatch")
    if kind == "pdf":
        return _inspect_pdf(data, name)
    return _inspect_ofd(data, name)


def extract_text(data: bytes, file_format: str) -> str:
    """Text of a stored file (used again at dispatch by the classification guard)."""
    if file_format == "pdf":
        return _inspect_pdf(data, "文件").text
    return _inspect_ofd(data, "文件").text


# -- PDF ---------------------------------------------------------------------------------------
def _inspect_pdf(data: bytes, name: str) -> InspectedFile:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    broken = f"文件“{name}”已损坏或不是有效的PDF文件，无法解析。"
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            AssertionError, RecursionError, OSError, NotImplementedError) as exc:
        log.info("PDF upload refused as broken: %s", exc)
        raise UploadRejected(broken, "broken") from exc
    if encrypted:
        raise UploadRejected(
            f"文件“{name}”是加密的PDF。平台须能读取、核验和加盖印章，"
            "请上传未加密的文件（取消打开密码和权限密码后再上传）。", "encrypted")
    try:
        pages = len(reader.pages)
        if pages == 0:
            raise UploadRejected(f"文件“{name}”没有任何页面。", "broken")
        texts = []
        for i, page in enumerate(reader.pages):
            if i >= _MAX_PDF_PAGES_FOR_TEXT:
                raise UploadRejected(
                    f"文件“{name}”超过 {_MAX_PDF_PAGES_FOR_TEXT} 页，无法逐页检查。", "too_large")
            texts.append(page.extract_text() or "")
    except UploadRejected:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged content streams
        log.info("PDF upload refused as broken while reading pages: %s", exc)
        raise UploadRejected(broken, "broken") from exc
    return InspectedFile("pdf", pages, "\n".join(texts), len(data))


# -- OFD ---------------------------------------------------------------------------------------
def _xml(zf: zipfile.ZipFile, member: str, name: str) -> etree._Element:
    info = zf.getinfo(member)
    if info.file_size > _MAX_XML_MEMBER:
        raise UploadRejected(f"文件“{name}”中的 {member} 过大，无法解析。", "broken")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False)
    try:
        return etree.fromstring(zf.read(member), parser)
    except etree.XMLSyntaxError as exc:
        raise UploadRejected(f"文件“{name}”中的 {member} 不是有效的XML，文件已损坏。",
                             "broken") from exc


def _resolve(loc: str, base_dir: str) -> str:
    loc = (loc or "").strip().replace("\\", "/")
    if loc.startswith("/"):
        return posixpath.normpath(loc.lstrip("/"))
    return posixpath.normpath(posixpath.join(base_dir, loc))


def _check_zip(zf: zipfile.ZipFile, name: str) -> None:
    infos = zf.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise UploadRejected(f"文件“{name}”包含的文件过多，不是正常的OFD。", "broken")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UploadRejected(f"文件“{name}”的内容已加密，请上传未加密的OFD文件。",
                                 "encrypted")
        total += info.file_size
        if info.file_size > 1024 * 1024 and info.compress_size \
                and info.file_size / info.compress_size > _MAX_RATIO:
            raise UploadRejected(f"文件“{name}”的压缩比异常，已拒绝。", "bomb")
    if total > _MAX_UNCOMPRESSED:
        raise UploadRejected(f"文件“{name}”解压后过大，已拒绝。", "bomb")


def _inspect_ofd(data: bytes, name: str) -> InspectedFile:
    not_ofd = f"文件“{name}”不是有效的OFD文件（GB/T 33190）"
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UploadRejected(f"{not_ofd}：压缩包已损坏。", "broken") from exc
    with zf:
        _check_zip(zf, name)
        names = set(zf.namelist())
        if "OFD.xml" not in names:
            raise UploadRejected(f"{not_ofd}：缺少 OFD.xml。", "format")
        try:
            root = _xml(zf, "OFD.xml", name)
        except zipfile.BadZipFile as exc:
            raise UploadRejected(f"{not_ofd}：压缩包已损坏。", "broken") from exc
        if root.tag != f"{{{OFD_NS}}}OFD":
            raise UploadRejected(
                f"{not_ofd}：OFD.xml 的根元素应为 ofd:OFD，命名空间应为 {OFD_NS}。", "format")
        doc_root = root.findtext("ofd:DocBody/ofd:DocRoot", namespaces=_NS)
        if not doc_root or _resolve(doc_root, "") not in names:
            raise UploadRejected(f"{not_ofd}：OFD.xml 指向的文档（DocRoot）不存在。", "broken")
        if root.find("ofd:DocBody/ofd:Encryptions", _NS) is not None:
            raise UploadRejected(f"文件“{name}”是加密的OFD，请上传未加密的文件。", "encrypted")
        try:
            pages, text = _ofd_text(data, zf, _resolve(doc_root, ""), name)
        except zipfile.BadZipFile as exc:
            raise UploadRejected(f"{not_ofd}：压缩包已损坏。", "broken") from exc
    if pages == 0:
        raise UploadRejected(f"文件“{name}”没有任何页面。", "broken")
    return InspectedFile("ofd", pages, text, len(data))


def _ofd_text(data: bytes, zf: zipfile.ZipFile, doc_path: str, name: str) -> tuple[int, str]:
    """Page count and text: the core's reader first, our page walk where it gives up."""
    from gongwen.documents.gbt9704.ofd_reader import OFDReader

    try:
        reader = OFDReader(data)
        return reader.page_count, reader.text()
    except (ValueError, KeyError, IndexError) as exc:  # OFDError is a ValueError
        log.info("core OFD reader gave up (%s); walking the pages ourselves", exc)
    return _walk_pages(zf, doc_path, name)


def _delta(value: str | None) -> list[float]:
    toks = (value or "").split()
    out: list[float] = []
    i = 0
    try:
        while i < len(toks):
            if toks[i] == "g":
                out.extend([float(toks[i + 2])] * int(toks[i + 1]))
                i += 3
            else:
                out.append(float(toks[i]))
                i += 1
    except (IndexError, ValueError):
        pass
    return out


def _floats(value: str | None, n: int) -> list[float]:
    try:
        vals = [float(v) for v in (value or "").split()[:n]]
    except ValueError:
        vals = []
    return vals + [0.0] * (n - len(vals))


def _walk_pages(zf: zipfile.ZipFile, doc_path: str, name: str) -> tuple[int, str]:
    names = set(zf.namelist())
    document = _xml(zf, doc_path, name)
    doc_dir = posixpath.dirname(doc_path)
    page_texts = []
    pages = document.findall("ofd:Pages/ofd:Page", _NS)
    for page in pages:
        path = _resolve(page.get("BaseLoc", ""), doc_dir)
        if path not in names:
            raise UploadRejected(f"文件“{name}”缺少页面文件 {path}，文件已损坏。", "broken")
        content = _xml(zf, path, name)
        glyphs: list[tuple[float, float, str]] = []
        for obj in content.iter(f"{{{OFD_NS}}}TextObject"):
            bx, by = _floats(obj.get("Boundary"), 2)
            x = y = 0.0
            for code in obj.iterfind("ofd:TextCode", _NS):
                text = code.text or ""
                x = _floats(code.get("X"), 1)[0] if code.get("X") is not None else x
                y = _floats(code.get("Y"), 1)[0] if code.get("Y") is not None else y
                dx, dy = _delta(code.get("DeltaX")), _delta(code.get("DeltaY"))
                for i, ch in enumerate(text):
                    glyphs.append((by + y, bx + x, ch))
                    if i < len(text) - 1:
                        x += dx[i] if i < len(dx) else (dx[-1] if dx else 0.0)
                        y += dy[i] if i < len(dy) else 0.0
        lines: list[list[tuple[float, float, str]]] = []
        last = None
        for g in sorted(glyphs):
            if last is None or g[0] - last > 0.5:
                lines.append([])
            lines[-1].append(g)
            last = g[0]
        page_texts.append("\n".join("".join(c for _, _, c in sorted(line, key=lambda g: g[1]))
                                    for line in lines))
    return len(pages), "\n".join(page_texts)
