"""Render a :class:`~gongwen.documents.gbt9704.layout.Layout` to PDF with reportlab.

Every glyph lands exactly where the layout put it: each run is one ``TJ`` whose kerning
numbers turn the font's natural advances into the layout's x positions. Fonts are embedded as
TrueType subsets with ToUnicode maps, so ``pdftotext`` gives the text back and ``pdffonts``
lists every font as embedded. A horizontally compressed run (``GlyphRun.hscale``) is set with
``Tz`` (horizontal scaling). The output is deterministic (reportlab ``invariant`` mode).

Uploaded files (R-FLOW-5) are carried as embedded files in the same single revision, before
any signature (see :mod:`.carried`); without them the output is what it always was.
"""

from __future__ import annotations

import hashlib
import io
import threading
import types
import zlib
from collections.abc import Sequence

from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .carried import CarriedFile, media_type, unique_names
from .fonts import FontError, FontFace
from .layout import PT, GlyphRun, Layout

__all__ = ["render_pdf"]

_MM = 1 / PT  # points per mm
_REGISTER_LOCK = threading.Lock()
_REGISTERED: dict[str, TTFont] = {}
_RENDER_LOCK = threading.Lock()


class _GlyfSlicer:
    """The glyf table as slices on demand: reportlab's subsetter otherwise copies the whole
    table (megabytes for a CJK font) for every subset of every document."""

    def __init__(self, data: bytes, pos: int, length: int) -> None:
        self._view = memoryview(data)[pos : pos + length]

    def __getitem__(self, item: slice) -> bytes:
        return self._view[item].tobytes()

    def __len__(self) -> int:
        return len(self._view)


def _get_table(self, tag: str):
    pos, length = self.get_table_pos(tag)
    if tag == "glyf":
        return _GlyfSlicer(self._ttf_data, pos, length)
    return self._ttf_data[pos : pos + length]


def _rl_font(face: FontFace) -> TTFont:
    font = _REGISTERED.get(face.key)
    if font is not None:
        return font
    with _REGISTER_LOCK:
        font = _REGISTERED.get(face.key)
        if font is None:
            try:
                font = TTFont(face.key, face.path, subfontIndex=face.index, asciiReadable=False)
            except Exception as exc:  # reportlab raises TTFError and plain errors alike
                raise FontError(
                    f"reportlab cannot use {face.path}: {exc}",
                    f"PDF生成无法使用字体文件 {face.path}：{exc}",
                    face.path,
                ) from exc
            if isinstance(font.face._ttf_data, bytes):
                font.face.get_table = types.MethodType(_get_table, font.face)
            pdfmetrics.registerFont(font)
            _REGISTERED[face.key] = font
    return font


def _num(v: float) -> str:
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def _color(rgb: tuple[int, int, int]) -> str:
    return " ".join(_num(c / 255) for c in rgb)


def _draw_run(c: canvas.Canvas, run: GlyphRun, face: FontFace, page_h: float) -> None:
    font = _rl_font(face)
    size = run.size * _MM
    doc = c._doc
    code = c._code
    col = _color(run.color)
    ops = ["q", "BT", f"{col} rg"]
    if run.stroke > 0:
        ops += ["2 Tr", f"{_num(run.stroke * _MM)} w", f"{col} RG"]
    if run.hscale != 1.0:
        # Horizontal scaling (Th): glyph shapes and advances compressed; the TJ numbers
        # below are in unscaled text space, hence the division by hscale.
        ops.append(f"{_num(run.hscale * 100)} Tz")
    ops.append(f"1 0 0 1 {_num(run.xs[0] * _MM)} {_num((page_h - run.baseline) * _MM)} Tm")
    text = run.text
    widths = font.face.charWidths
    default = font.face.defaultWidth
    i = 0
    for subset, data in font.splitString(text, doc):
        ops.append(f"{font.getSubsetInternalName(subset, doc)} {_num(size)} Tf")
        parts = []
        for b in data:
            parts.append(f"<{b:02x}>")
            if i + 1 < len(text):
                natural = widths.get(ord(text[i]), default)  # 1/1000 em
                wanted = (run.xs[i + 1] - run.xs[i]) / (run.size * run.hscale) * 1000
                adj = natural - wanted
                if abs(adj) > 1e-4:
                    parts.append(_num(adj))
            i += 1
        ops.append(f"[{''.join(parts)}] TJ")
    ops += ["ET", "Q"]
    code.append("\n".join(ops))


def render_pdf(layout: Layout, carried: Sequence[CarriedFile] = ()) -> bytes:
    """The layout as PDF bytes (A4 pages, fonts embedded as subsets, text extractable), with
    the ``carried`` files embedded byte for byte (ISO 32000-2 §7.11.4, §14.13)."""
    # Binary (Flate only) streams: ASCII85 on top costs time and a quarter of the size.
    # reportlab reads this global while building the document, hence the lock (and the
    # output stays the same bytes for the same layout under concurrency).
    with _RENDER_LOCK:
        saved = rl_config.useA85
        rl_config.useA85 = 0
        try:
            return _render(layout, tuple(carried))
        finally:
            rl_config.useA85 = saved


class _FileStream(pdfdoc.PDFObject):
    """An embedded file stream, FlateDecode-compressed: a carried PDF then does not show its
    own ``obj``/``xref``/``%%EOF`` markers (or a signature's ``/ByteRange``) to a reader
    that scans the outer file's bytes. Decoded, it is byte for byte what was uploaded."""

    __RefOnly__ = 1

    def __init__(self, dictionary: dict, content: bytes) -> None:
        self.dictionary = dictionary
        self.content = content

    def format(self, document) -> bytes:
        packed = zlib.compress(self.content, 6)
        d = pdfdoc.PDFDictionary({**self.dictionary, "Filter": pdfdoc.PDFName("FlateDecode"),
                                  "Length": len(packed)})
        return pdfdoc.format(d, document) + b"\nstream\n" + packed + b"\nendstream\n"


class _HexString(pdfdoc.PDFObject):
    def __init__(self, value: bytes) -> None:
        self.value = value

    def format(self, document) -> bytes:
        return b"<" + self.value.hex().encode("ascii") + b">"


def _pdf_date(f: CarriedFile) -> pdfdoc.PDFString | None:
    return pdfdoc.PDFString(f"D:{f.created:%Y%m%d}000000Z") if f.created else None


def _embed(c: canvas.Canvas, files: tuple[CarriedFile, ...]) -> None:
    """Embedded files: one /EmbeddedFile stream and /Filespec per file, the catalog's
    /Names /EmbeddedFiles name tree (keys sorted as the tree requires) and /AF array, and
    /PageMode /UseAttachments so a viewer opens its attachment panel."""
    doc = c._doc
    entries = []
    specs = []
    for f, name in zip(files, unique_names(files), strict=True):
        params = {"Size": len(f.data),
                  "CheckSum": _HexString(hashlib.md5(f.data, usedforsecurity=False).digest())}
        date = _pdf_date(f)
        if date is not None:
            params["CreationDate"] = params["ModDate"] = date
        stream = doc.Reference(_FileStream(
            {"Type": pdfdoc.PDFName("EmbeddedFile"), "Subtype": _mime_name(media_type(f)),
             "Params": pdfdoc.PDFDictionary(params)}, f.data))
        spec = {"Type": pdfdoc.PDFName("Filespec"), "F": pdfdoc.PDFString(name),
                "UF": pdfdoc.PDFString(name),
                "AFRelationship": pdfdoc.PDFName(f.relationship),
                "EF": pdfdoc.PDFDictionary({"F": stream, "UF": stream})}
        if f.description:
            spec["Desc"] = pdfdoc.PDFString(f.description)
        ref = doc.Reference(pdfdoc.PDFDictionary(spec))
        specs.append(ref)
        entries.append((_tree_key(name), name, ref))
    names = []
    for _key, name, ref in sorted(entries, key=lambda e: e[0]):
        names += [pdfdoc.PDFString(name), ref]
    catalog = doc.Catalog
    catalog.Names = pdfdoc.PDFDictionary(
        {"EmbeddedFiles": pdfdoc.PDFDictionary({"Names": pdfdoc.PDFArray(names)})})
    # /AF is not among the catalog keys reportlab writes: name it for this catalog only.
    catalog.__NoDefault__ = [*pdfdoc.PDFCatalog.__NoDefault__, "AF"]
    catalog.AF = pdfdoc.PDFArray(specs)
    catalog.PageMode = pdfdoc.PDFName("UseAttachments")


def _mime_name(mime: str) -> str:
    # A MIME type as a PDF name: "/" is a delimiter and written #2F (ISO 32000-1 §7.3.5).
    return "/" + mime.replace("/", "#2F")


def _tree_key(name: str) -> bytes:
    """The key's bytes as written (PDFDocEncoding, else UTF-16BE with BOM): name tree keys
    are sorted by these bytes (ISO 32000-1 §7.9.6)."""
    try:
        return name.encode("pdfdoc")
    except UnicodeEncodeError:
        return b"\xfe\xff" + name.encode("utf-16-be")


def _render(layout: Layout, carried: tuple[CarriedFile, ...] = ()) -> bytes:
    buf = io.BytesIO()
    first = layout.pages[0] if layout.pages else None
    size = (first.width * _MM, first.height * _MM) if first else (210 * _MM, 297 * _MM)
    # A TrueType initial font keeps reportlab from referencing (unembedded) Helvetica.
    initial = _rl_font(next(iter(layout.fonts.values()))).fontName if layout.fonts else None
    c = canvas.Canvas(
        buf,
        pagesize=size,
        invariant=1,
        pageCompression=1,
        pdfVersion=(1, 7),
        initialFontName=initial,
    )
    c.setTitle(layout.title)
    c.setAuthor(layout.author)
    c.setSubject(layout.doc_number)
    c.setCreator("gongwen")
    c.setProducer("gongwen gbt9704")
    for page in layout.pages:
        c.setPageSize((page.width * _MM, page.height * _MM))
        h = page.height
        for rule in page.rules:
            c.setStrokeColorRGB(*(v / 255 for v in rule.color))
            c.setLineWidth(rule.width * _MM)
            c.setLineCap(0)
            c.line(rule.x1 * _MM, (h - rule.y1) * _MM, rule.x2 * _MM, (h - rule.y2) * _MM)
        for run in page.runs:
            _draw_run(c, run, layout.fonts[run.face], h)
        for img in page.images:
            c.drawImage(
                ImageReader(io.BytesIO(img.data)),
                img.x * _MM,
                (h - img.y - img.h) * _MM,
                img.w * _MM,
                img.h * _MM,
                mask="auto",
            )
        c.showPage()
    if carried:
        _embed(c, carried)
    c.save()
    return buf.getvalue()
