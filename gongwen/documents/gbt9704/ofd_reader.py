"""A minimal OFD (GB/T 33190-2016) reader: files, pages, text and glyph positions.

Enough for the classification guard (text of uploaded OFD files) and for tests that compare
an OFD with its PDF twin. It follows OFD.xml → DocRoot → Document.xml → Pages, resolves
ST_Loc paths (absolute "/…" or relative to the referencing file's folder), expands ``DeltaX``
/ ``DeltaY`` (including ``g N v``) and applies the TextObject's ``Boundary`` offset. ``CTM``
on text objects maps the glyph origins into the Boundary (our writer emits
``CTM="s 0 0 1 0 0"`` for a horizontally compressed 发文机关标志).

A resource file that Document.xml references but the package lacks (ofdrw writes
``<PublicRes>PublicRes.xml</PublicRes>`` and no file when a document has no fonts) is not an
error: the reader records it in ``warnings`` (and issues an :class:`OFDWarning`) and goes on;
the text is still read, only font names are unknown.
"""

from __future__ import annotations

import io
import posixpath
import warnings
import zipfile
from dataclasses import dataclass

from lxml import etree

__all__ = ["OFDError", "OFDGlyph", "OFDReader", "OFDWarning", "expand_delta"]

OFD_NS = "http://www.ofdspec.org/2016"
_NS = {"ofd": OFD_NS}
_MAX_XML = 64 * 1024 * 1024  # refuse absurd members (zip bombs)


class OFDError(ValueError):
    """A package that is not a readable OFD; ``message_zh`` is for users."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


class OFDWarning(UserWarning):
    """A tolerated defect of a package (e.g. a referenced resource file that is missing)."""


@dataclass(frozen=True)
class OFDGlyph:
    char: str
    x: float  # mm, page coordinates (origin top-left)
    y: float  # baseline, mm
    font: str  # font resource ID
    size: float  # mm


def expand_delta(value: str | None) -> list[float]:
    """Expand an ST_Array of deltas, where ``g N v`` stands for N copies of v."""
    if not value:
        return []
    toks = value.split()
    out: list[float] = []
    i = 0
    while i < len(toks):
        if toks[i] == "g":
            count, v = int(toks[i + 1]), float(toks[i + 2])
            out.extend([v] * count)
            i += 3
        else:
            out.append(float(toks[i]))
            i += 1
    return out


_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _ctm(value: str | None) -> tuple[float, ...]:
    """ST_Array "a b c d e f" (object space → Boundary space); identity if absent or bad."""
    if not value:
        return _IDENTITY
    try:
        vals = tuple(float(v) for v in value.split())
    except ValueError:
        return _IDENTITY
    return vals if len(vals) == 6 else _IDENTITY


def _cluster(items, y_of):
    """Group items into lines: sorted by y, a new line when y moves by more than 0.5 mm."""
    lines: list[list] = []
    last = None
    for it in sorted(items, key=y_of):
        y = y_of(it)
        if last is None or y - last > 0.5:
            lines.append([])
        lines[-1].append(it)
        last = y
    return lines


def _resolve(loc: str, base_dir: str) -> str:
    loc = loc.strip().replace("\\", "/")
    if loc.startswith("/"):
        return posixpath.normpath(loc.lstrip("/"))
    return posixpath.normpath(posixpath.join(base_dir, loc))


class OFDReader:
    """Read an OFD package from bytes."""

    def __init__(self, data: bytes) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise OFDError(f"not a zip package: {exc}", "文件不是有效的OFD（不是ZIP包）") from exc
        self._names = set(self._zip.namelist())
        if "OFD.xml" not in self._names:
            raise OFDError("OFD.xml missing", "文件不是有效的OFD（缺少OFD.xml）")
        ofd = self.xml("OFD.xml")
        if ofd.tag != f"{{{OFD_NS}}}OFD":
            raise OFDError(f"unexpected root {ofd.tag}", "OFD.xml 的根元素或命名空间不正确")
        root = ofd.findtext("ofd:DocBody/ofd:DocRoot", namespaces=_NS)
        if not root:
            raise OFDError("no DocRoot", "OFD.xml 缺少 DocRoot")
        self.doc_path = _resolve(root, "")
        self.document = self.xml(self.doc_path)
        doc_dir = posixpath.dirname(self.doc_path)
        self.page_paths: list[str] = []
        self.page_ids: list[str] = []
        for page in self.document.iterfind("ofd:Pages/ofd:Page", _NS):
            self.page_paths.append(_resolve(page.get("BaseLoc", ""), doc_dir))
            self.page_ids.append(page.get("ID", ""))
        self.fonts: dict[str, dict[str, str]] = {}
        self.warnings: list[str] = []
        for res in self.document.iterfind("ofd:CommonData/ofd:PublicRes", _NS):
            res_path = _resolve(res.text or "", doc_dir)
            if res_path not in self._names:
                self._warn(
                    f"{self.doc_path} references {res_path}, which the package lacks",
                )
                continue
            res_xml = self.xml(res_path)
            base = _resolve(res_xml.get("BaseLoc", ""), posixpath.dirname(res_path))
            for font in res_xml.iterfind("ofd:Fonts/ofd:Font", _NS):
                file_loc = font.findtext("ofd:FontFile", namespaces=_NS)
                self.fonts[font.get("ID", "")] = {
                    "name": font.get("FontName", ""),
                    "file": _resolve(file_loc, base) if file_loc else "",
                }

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        warnings.warn(message, OFDWarning, stacklevel=3)

    # -- files ------------------------------------------------------------------------------
    def files(self) -> list[str]:
        return sorted(self._names)

    def read(self, name: str) -> bytes:
        info = self._zip.getinfo(name)
        if info.file_size > _MAX_XML and name.endswith(".xml"):
            raise OFDError(f"{name} too large", f"OFD中的 {name} 过大")
        return self._zip.read(name)

    def xml(self, name: str) -> etree._Element:
        if name not in self._names:
            raise OFDError(f"{name} missing", f"OFD包中缺少文件：{name}")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            return etree.fromstring(self.read(name), parser)
        except etree.XMLSyntaxError as exc:
            raise OFDError(f"{name}: {exc}", f"OFD中的 {name} 不是有效的XML") from exc

    # -- pages ------------------------------------------------------------------------------
    @property
    def page_count(self) -> int:
        return len(self.page_paths)

    def glyphs(self, page: int) -> list[OFDGlyph]:
        """Every glyph of ``page`` (0-based) with its absolute origin, in document order."""
        content = self.xml(self.page_paths[page])
        out: list[OFDGlyph] = []
        for obj in content.iter(f"{{{OFD_NS}}}TextObject"):
            bx, by = (float(v) for v in obj.get("Boundary", "0 0 0 0").split()[:2])
            ctm = _ctm(obj.get("CTM"))
            font = obj.get("Font", "")
            size = float(obj.get("Size", "0"))
            x = y = 0.0
            for code in obj.iterfind("ofd:TextCode", _NS):
                text = code.text or ""
                if code.get("X") is not None:
                    x = float(code.get("X"))
                if code.get("Y") is not None:
                    y = float(code.get("Y"))
                dx = expand_delta(code.get("DeltaX"))
                dy = expand_delta(code.get("DeltaY"))
                for i, ch in enumerate(text):
                    px, py = ctm[0] * x + ctm[2] * y + ctm[4], ctm[1] * x + ctm[3] * y + ctm[5]
                    out.append(OFDGlyph(ch, bx + px, by + py, font, size))
                    if i < len(text) - 1:
                        x += dx[i] if i < len(dx) else (dx[-1] if dx else 0.0)
                        y += dy[i] if i < len(dy) else 0.0
        return out

    def page_text(self, page: int) -> str:
        """The page's text, one line per baseline, lines top to bottom, glyphs left to right."""
        return "\n".join(
            "".join(g.char for g in sorted(line, key=lambda g: g.x))
            for line in _cluster(self.glyphs(page), lambda g: g.y)
        )

    def text(self) -> str:
        return "\n".join(self.page_text(i) for i in range(self.page_count))
