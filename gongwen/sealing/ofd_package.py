"""OFD package helpers shared by :mod:`.ofd_seal` and :mod:`.ofd_verify`.

* :func:`read_entries` keeps the zip's order and each member's raw (compressed) bytes, so a
  re-written package copies untouched members byte for byte instead of recompressing them;
* :func:`write_entries` writes a package from kept members and new contents;
* :func:`document_pages`: the page list of a document.

Package reading (limits, the refusal of duplicate names and of paths that leave the package),
ST_Loc resolution (:func:`resolve_loc`) and the XML lookups (:func:`parse_xml`,
:func:`children`, :func:`child`, :func:`text_of`, :func:`local_name`) are the seal core's
(:mod:`gongwen.seals.ses.ofd_xml`, one implementation), re-exported here.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gongwen.seals.ses.ofd_xml import (
    MAX_PACKAGE_BYTES,
    OFD_NS,
    child,
    children,
    local_name,
    parse_xml,
    read_package,
    resolve_loc,
    text_of,
)

__all__ = [
    "OFD_NS",
    "Entry",
    "PageRef",
    "child",
    "children",
    "document_pages",
    "load_package",
    "local_name",
    "parse_xml",
    "read_entries",
    "resolve_loc",
    "text_of",
    "write_entries",
]

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class Entry:
    """One file of a package: its content and, when it comes unchanged from a zip, the raw
    local record (header + compressed data) and central-directory fields to copy."""

    name: str
    data: bytes
    raw: bytes | None = None  # local file header + data (+ descriptor) as in the source
    info: zipfile.ZipInfo | None = None


def load_package(
    ofd: bytes | str | Path, *, max_bytes: int = MAX_PACKAGE_BYTES
) -> dict[str, bytes]:
    """:func:`gongwen.seals.ses.ofd_xml.read_package`: names, sizes, duplicates and
    damaged zip data all end in :class:`MalformedSES`."""
    return read_package(ofd, max_bytes=max_bytes)


def read_entries(ofd: bytes, *, max_bytes: int = MAX_PACKAGE_BYTES) -> list[Entry]:
    """The package's files in zip order. Raises :class:`MalformedSES` for anything that is
    not a sound OFD zip."""
    files = load_package(ofd, max_bytes=max_bytes)
    out: list[Entry] = []
    with zipfile.ZipFile(io.BytesIO(ofd)) as zf:
        infos = [zi for zi in zf.infolist() if not zi.is_dir()]
        ends = sorted({zi.header_offset for zi in infos} | {_central_start(ofd)})
        for zi in infos:
            name = zi.filename.replace("\\", "/").lstrip("/")
            name = posixpath.normpath(name)
            data = files[name]
            raw = None
            if name == zi.filename and not (zi.flag_bits & 0x1) and zi.file_size < 0xFFFFFFFF:
                start = zi.header_offset
                nxt = next((e for e in ends if e > start), None)
                if nxt is not None and ofd[start : start + 4] == b"PK\x03\x04":
                    raw = ofd[start:nxt]
            out.append(Entry(name, data, raw, zi if raw is not None else None))
    return out


def _central_start(data: bytes) -> int:
    pos = data.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(data):
        return len(data)
    (cd_offset,) = struct.unpack_from("<I", data, pos + 16)
    return cd_offset if cd_offset != 0xFFFFFFFF else len(data)


def write_entries(entries: list[Entry]) -> bytes:
    """Write a zip: unchanged members copied raw, others deflated (level 6), fixed dates."""
    buf = io.BytesIO()
    central: list[bytes] = []
    for e in entries:
        offset = buf.tell()
        if e.raw is not None and e.info is not None:
            buf.write(e.raw)
            central.append(_central_record(e.info, offset))
            continue
        name = e.name.encode("utf-8")
        method, body = _compress(e.data)
        crc = zlib.crc32(e.data)
        flags = 0x800 if not e.name.isascii() else 0
        dostime, dosdate = _dos(_ZIP_DATE)
        header = struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            20,
            flags,
            method,
            dostime,
            dosdate,
            crc,
            len(body),
            len(e.data),
            len(name),
            0,
        )
        buf.write(header + name + body)
        central.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                flags,
                method,
                dostime,
                dosdate,
                crc,
                len(body),
                len(e.data),
                len(name),
                0,
                0,
                0,
                0,
                0o644 << 16,
                offset,
            )
            + name
        )
    cd_start = buf.tell()
    cd = b"".join(central)
    buf.write(cd)
    buf.write(
        struct.pack(
            "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), len(cd), cd_start, 0
        )
    )
    if len(central) > 0xFFFF or cd_start > 0xFFFFFFFF:
        raise ValueError("package too large for a non-ZIP64 archive")
    return buf.getvalue()


def _compress(data: bytes) -> tuple[int, bytes]:
    """(method, bytes): deflate, except data that does not compress (the PNG inside Seal.esl
    and SignedValue.dat), which is stored — deflating it costs time and saves nothing."""
    if len(data) > 16384:
        mid = len(data) // 2
        probe = data[mid : mid + 8192]
        if len(zlib.compress(probe, 1)) > 0.9 * len(probe):
            return 0, data
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return 8, comp.compress(data) + comp.flush()


def _dos(dt: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    y, mo, d, h, mi, s = dt
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


def _central_record(zi: zipfile.ZipInfo, offset: int) -> bytes:
    name = zi.filename.encode("utf-8" if zi.flag_bits & 0x800 else "cp437")
    dostime, dosdate = _dos(zi.date_time)
    extra = _strip_zip64(zi.extra)
    return (
        struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            (zi.create_system << 8) | zi.create_version,
            zi.extract_version,
            zi.flag_bits,
            zi.compress_type,
            dostime,
            dosdate,
            zi.CRC,
            zi.compress_size,
            zi.file_size,
            len(name),
            len(extra),
            len(zi.comment),
            0,
            zi.internal_attr,
            zi.external_attr,
            offset,
        )
        + name
        + extra
        + zi.comment
    )


def _strip_zip64(extra: bytes) -> bytes:
    out = b""
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        if tag != 0x0001:
            out += extra[i : i + 4 + size]
        i += 4 + size
    return out


@dataclass(frozen=True)
class PageRef:
    index: int  # 0-based order in Document.xml
    id: str  # the page's ID (what StampAnnot@PageRef names)
    path: str | None
    width: float | None  # mm, from the page's Area or the document's PageArea
    height: float | None


def _box(text: str | None) -> tuple[float, float] | None:
    try:
        parts = [float(v) for v in (text or "").split()]
    except ValueError:
        return None
    return (parts[2], parts[3]) if len(parts) == 4 else None


def document_pages(files: dict[str, bytes], doc_path: str) -> list[PageRef]:
    """The pages of the document at ``doc_path``: ID, content path and size (mm)."""
    doc = parse_xml(files[doc_path])
    base = posixpath.dirname(doc_path)
    size = _box(text_of(child(child(child(doc, "CommonData"), "PageArea"), "PhysicalBox")))
    pages: list[PageRef] = []
    for i, p in enumerate(children(child(doc, "Pages"), "Page")):
        path = resolve_loc(base, p.get("BaseLoc"))
        w_h = size
        if path and path in files:
            try:
                content = parse_xml(files[path])
                own = _box(text_of(child(child(content, "Area"), "PhysicalBox")))
                w_h = own or size
            except etree.XMLSyntaxError:
                pass
        pages.append(
            PageRef(i, p.get("ID", ""), path, w_h[0] if w_h else None, w_h[1] if w_h else None)
        )
    return pages
