"""Reading an OFD package (GB/T 33190-2016): the zip's files, ST_Loc paths, XML lookups.

One implementation for the seal core (:mod:`.ofd_signatures`) and the sealing core
(:mod:`gongwen.sealing.ofd_package`, which adds zip writing on top):

* :func:`read_package` — every file of the zip as ``{path: bytes}``, refusing duplicate
  names, paths that leave the package and zip bombs (:data:`MAX_PACKAGE_BYTES`);
* :func:`resolve_loc` — ST_Loc (§7.4: "/…" is package-absolute, anything else is relative to
  the folder of the XML file that holds it) to a package path;
* :func:`parse_xml` (no entities, no network, no DTD), :func:`local_name`, :func:`children`,
  :func:`child`, :func:`text_of` — namespace-agnostic element lookups.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from pathlib import Path

from lxml import etree

from .errors import MalformedSES

__all__ = [
    "MAX_PACKAGE_BYTES",
    "OFD_NS",
    "child",
    "children",
    "local_name",
    "parse_xml",
    "read_package",
    "resolve_loc",
    "text_of",
]

OFD_NS = "http://www.ofdspec.org/2016"
MAX_PACKAGE_BYTES = 512 * 1024 * 1024  # uncompressed; refuses zip bombs


def read_package(
    ofd: bytes | str | Path, *, max_bytes: int = MAX_PACKAGE_BYTES
) -> dict[str, bytes]:
    """All files of an OFD zip as ``{path: bytes}`` (paths without a leading "/").

    Raises :class:`MalformedSES` for a broken zip, duplicate names, paths leaving the
    package or more than ``max_bytes`` uncompressed.
    """
    data = Path(ofd).read_bytes() if isinstance(ofd, (str, Path)) else bytes(ofd)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, struct.error, OSError) as exc:
        raise MalformedSES(
            f"not a zip package: {exc}", message_zh="OFD 文件不是有效的 ZIP 包"
        ) from exc
    files: dict[str, bytes] = {}
    total = 0
    with zf:
        for zi in zf.infolist():
            if zi.is_dir():
                continue
            name = _normalise(zi.filename)
            if name is None:
                raise MalformedSES(
                    f"zip member {zi.filename!r} leaves the package", message_zh="OFD 包内路径非法"
                )
            if name in files:
                raise MalformedSES(
                    f"zip member {name!r} appears twice", message_zh=f"OFD 包内文件重复：{name}"
                )
            total += zi.file_size
            if total > max_bytes:
                raise MalformedSES("package too large", message_zh="OFD 包解压后过大")
            try:
                files[name] = zf.read(zi)
            # A corrupt deflate stream raises zlib.error, a truncated one EOFError.
            except (
                zipfile.BadZipFile,
                OSError,
                NotImplementedError,
                zlib.error,
                EOFError,
                ValueError,
                struct.error,
            ) as exc:
                raise MalformedSES(
                    f"cannot read {name}: {exc}", message_zh=f"无法读取 OFD 包内文件 {name}"
                ) from exc
    return files


def _normalise(path: str) -> str | None:
    p = path.replace("\\", "/").lstrip("/")
    p = posixpath.normpath(p) if p else p
    if not p or p == "." or p.startswith("../") or p == "..":
        return None
    return p


def resolve_loc(base_dir: str, loc: str | None) -> str | None:
    """Package path (no leading "/") of an ST_Loc written in a file in ``base_dir``; None
    for an empty one or one that leaves the package."""
    if not loc or not loc.strip():
        return None
    loc = loc.strip().replace("\\", "/")
    joined = loc if loc.startswith("/") else posixpath.join("/" + base_dir, loc)
    p = posixpath.normpath(joined).lstrip("/")
    if not p or p == "." or p.startswith("../") or p == "..":
        return None
    return p


def parse_xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    return etree.fromstring(data, parser)


def local_name(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def children(el: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if el is None else [c for c in el if local_name(c) == name]


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    found = children(el, name)
    return found[0] if found else None


def text_of(el: etree._Element | None) -> str | None:
    """The stripped text of ``el``; None when it is absent or only white space."""
    return el.text.strip() if el is not None and el.text and el.text.strip() else None
