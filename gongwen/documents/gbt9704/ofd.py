"""Render a :class:`~gongwen.documents.gbt9704.layout.Layout` to an OFD package (GB/T
33190-2016), the same pages the PDF writer draws.

Package (ofdrw naming; locations package-absolute, except page ``BaseLoc``s, which are
relative to Document.xml as ofdrw writes them)::

    OFD.xml
    Doc_0/Document.xml  Doc_0/PublicRes.xml  Doc_0/DocumentRes.xml
    Doc_0/Pages/Page_N/Content.xml
    Doc_0/Res/font_<ID>.ttf  Doc_0/Res/image_<ID>.png

Text: one ``TextObject`` per glyph run, ``TextCode`` X/Y at the first glyph's baseline origin
and an explicit ``DeltaX`` per glyph (``g N v`` for repeats), so positions equal the layout's.
Fonts are embedded as TrueType subsets (``FontFile``), synthetic bold as ``Stroke``; a
horizontally compressed run (the 发文机关标志) carries ``CTM="s 0 0 1 0 0"``, positions inside
it divided by s. Rules
are ``PathObject``s. All units are mm, origin top-left. The zip is deterministic: same layout,
same bytes (fixed timestamps and order; DocID derived from the content).

Carried files (R-FLOW-5, :mod:`.carried`) are GB/T 33190-2016 §7.7 attachments::

    Doc_0/Document.xml   <ofd:Attachments>/Doc_0/Attachs/Attachments.xml</ofd:Attachments>
    Doc_0/Attachs/Attachments.xml   one <ofd:Attachment> per file (ID "aNNN", xs:ID)
    Doc_0/Attachs/aNNN.<ext>        the file, byte for byte

Without carried files nothing of this is written and the package is what it always was.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

from .carried import CarriedFile, unique_names
from .layout import ASCENT, GlyphRun, ImageBox, Layout, Rule

__all__ = ["OFD_NS", "render_ofd"]

OFD_NS = "http://www.ofdspec.org/2016"
_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _n(v: float) -> str:
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def _rgb(c: tuple[int, int, int]) -> str:
    return f"{c[0]} {c[1]} {c[2]}"


def _delta_x(xs: tuple[float, ...]) -> str:
    """DeltaX from absolute glyph origins. Each delta is the true advance rounded to
    0.0001 mm unless the running sum would drift more than 0.001 mm from the true origin, in
    which case it is corrected against that sum: positions stay exact to 0.001 mm while
    equal advances stay equal, so they compress to ``g N v``."""
    origin = xs[0]
    written = 0.0
    deltas: list[str] = []
    prev = origin
    for x in xs[1:]:
        d = round(x - prev, 4)
        if abs(written + d - (x - origin)) > 0.001:
            d = round(x - origin - written, 4)
        written += d
        prev = x
        deltas.append(_n(d))
    out: list[str] = []
    i = 0
    while i < len(deltas):
        j = i
        while j + 1 < len(deltas) and deltas[j + 1] == deltas[i]:
            j += 1
        count = j - i + 1
        if count >= 3:
            out.append(f"g {count} {deltas[i]}")
        else:
            out.extend(deltas[i : j + 1])
        i = j + 1
    return " ".join(out)


class _IDs:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def _text_object(oid: int, run: GlyphRun, font_id: int) -> str:
    # Boundary: generous box around the glyphs (readers may clip to it); TextCode X/Y are
    # relative to its corner, so the first glyph's origin is at (xs[0], baseline).
    pad = run.size
    bx = run.xs[0] - pad
    by = run.baseline - ASCENT * run.size - pad
    bw = (run.end - run.xs[0]) + 2 * pad
    bh = run.size + 2 * pad
    attrs = (
        f'ID="{oid}" Boundary="{_n(bx)} {_n(by)} {_n(bw)} {_n(bh)}" '
        f'Font="{font_id}" Size="{_n(run.size)}"'
    )
    children = f'<ofd:FillColor Value="{_rgb(run.color)}"/>'
    if run.stroke > 0:
        attrs += f' Stroke="true" LineWidth="{_n(run.stroke)}"'
        children += f'<ofd:StrokeColor Value="{_rgb(run.color)}"/>'
    xs = run.xs
    if run.hscale != 1.0:
        # Horizontal compression: the CTM scales the object space (glyph shapes and the
        # TextCode positions) into the Boundary, so positions are written divided by it.
        # (8 decimals: over a 150 mm 标志 a 4-decimal scale would be 0.006 mm off.)
        scale = f"{run.hscale:.8f}".rstrip("0").rstrip(".")
        attrs += f' CTM="{scale} 0 0 1 0 0"'
        xs = tuple(bx + (x - bx) / run.hscale for x in xs)
    x = _n(xs[0] - bx)
    y = _n(run.baseline - by)
    delta = _delta_x(xs)
    dx = f' DeltaX="{delta}"' if delta else ""
    return (
        f"<ofd:TextObject {attrs}>{children}"
        f'<ofd:TextCode X="{x}" Y="{y}"{dx}>{escape(run.text)}</ofd:TextCode></ofd:TextObject>'
    )


def _path_object(oid: int, rule: Rule) -> str:
    pad = rule.width
    bx = min(rule.x1, rule.x2) - pad
    by = min(rule.y1, rule.y2) - pad
    bw = abs(rule.x2 - rule.x1) + 2 * pad
    bh = abs(rule.y2 - rule.y1) + 2 * pad
    path = f"M {_n(rule.x1 - bx)} {_n(rule.y1 - by)} L {_n(rule.x2 - bx)} {_n(rule.y2 - by)}"
    return (
        f'<ofd:PathObject ID="{oid}" Boundary="{_n(bx)} {_n(by)} {_n(bw)} {_n(bh)}" '
        f'LineWidth="{_n(rule.width)}"><ofd:StrokeColor Value="{_rgb(rule.color)}"/>'
        f"<ofd:AbbreviatedData>{path}</ofd:AbbreviatedData></ofd:PathObject>"
    )


def _image_object(oid: int, img: ImageBox, res_id: int) -> str:
    return (
        f'<ofd:ImageObject ID="{oid}" Boundary="{_n(img.x)} {_n(img.y)} {_n(img.w)} {_n(img.h)}" '
        f'CTM="{_n(img.w)} 0 0 {_n(img.h)} 0 0" ResourceID="{res_id}"/>'
    )


def _image_format(img: ImageBox) -> tuple[str, str]:
    if img.data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG", "png"
    if img.data[:3] == b"\xff\xd8\xff":
        return "JPEG", "jpg"
    return img.format.upper(), img.format.lower()


def _attachments(files: dict[str, bytes], carried: Sequence[CarriedFile]) -> str:
    """Write the carried files and Attachments.xml (GB/T 33190-2016 §7.7, CT_Attachment:
    ``Size`` in KB, ``Visible="false"``: they are not drawn on a page); return the
    ``<ofd:Attachments>`` element for Document.xml."""
    rows = []
    for n, (f, name) in enumerate(zip(carried, unique_names(carried), strict=True), start=1):
        aid = f"a{n:03d}"
        fmt = f.file_format or "bin"
        loc = f"/Doc_0/Attachs/{aid}.{fmt}"
        files[loc[1:]] = f.data
        created = f' CreationDate="{f.created.isoformat()}T00:00:00"' if f.created else ""
        usage = "body" if f.relationship == "Source" else "attachment"
        rows.append(
            f"<ofd:Attachment ID=\"{aid}\" Name={quoteattr(name)} Format=\"{fmt}\"{created} "
            f'Size="{_n(len(f.data) / 1024)}" Visible="false" Usage="{usage}">'
            f"<ofd:FileLoc>{loc}</ofd:FileLoc></ofd:Attachment>"
        )
    files["Doc_0/Attachs/Attachments.xml"] = (
        f'{_DECL}<ofd:Attachments xmlns:ofd="{OFD_NS}">{"".join(rows)}</ofd:Attachments>'
    ).encode()
    return "<ofd:Attachments>/Doc_0/Attachs/Attachments.xml</ofd:Attachments>"


def render_ofd(layout: Layout, carried: Sequence[CarriedFile] = ()) -> bytes:
    """The layout as an OFD package (zip bytes), GB/T 33190-2016, with the ``carried``
    files as attachments (§7.7)."""
    ids = _IDs()
    files: dict[str, bytes] = {}
    ns = f'xmlns:ofd="{OFD_NS}"'

    # Fonts: one subset per face, with the characters the layout uses.
    chars: dict[str, set[str]] = {}
    for page in layout.pages:
        for run in page.runs:
            chars.setdefault(run.face, set()).update(run.text)
    font_ids: dict[str, int] = {}
    font_xml = []
    for key in sorted(chars):
        face = layout.fonts[key]
        fid = ids.next()
        font_ids[key] = fid
        loc = f"/Doc_0/Res/font_{fid}.ttf"
        files[loc[1:]] = face.subset(chars[key])
        font_xml.append(
            f'<ofd:Font ID="{fid}" FontName={quoteattr(face.family)} '
            f"FamilyName={quoteattr(face.family)}><ofd:FontFile>{loc}</ofd:FontFile></ofd:Font>"
        )

    # Images (seal previews and the like), one MultiMedia per distinct image.
    media_ids: dict[bytes, int] = {}
    media_xml = []
    for page in layout.pages:
        for img in page.images:
            digest = hashlib.sha256(img.data).digest()
            if digest in media_ids:
                continue
            mid = ids.next()
            media_ids[digest] = mid
            fmt, ext = _image_format(img)
            loc = f"/Doc_0/Res/image_{mid}.{ext}"
            files[loc[1:]] = img.data
            media_xml.append(
                f'<ofd:MultiMedia ID="{mid}" Type="Image" Format="{fmt}">'
                f"<ofd:MediaFile>{loc}</ofd:MediaFile></ofd:MultiMedia>"
            )

    page_entries = []
    for page in layout.pages:
        pid = ids.next()
        lid = ids.next()
        objs: list[str] = []
        for rule in page.rules:
            objs.append(_path_object(ids.next(), rule))
        for run in page.runs:
            objs.append(_text_object(ids.next(), run, font_ids[run.face]))
        for img in page.images:
            objs.append(
                _image_object(ids.next(), img, media_ids[hashlib.sha256(img.data).digest()])
            )
        # Page locations are relative to Document.xml (as ofdrw writes them): some readers
        # (easyofd) take the page number from the first number in this path.
        loc = f"Pages/Page_{page.index}/Content.xml"
        path = f"Doc_0/{loc}"
        area = ""
        if (page.width, page.height) != (layout.pages[0].width, layout.pages[0].height):
            area = (
                f"<ofd:Area><ofd:PhysicalBox>0 0 {_n(page.width)} {_n(page.height)}"
                "</ofd:PhysicalBox></ofd:Area>"
            )
        files[path] = (
            f'{_DECL}<ofd:Page {ns}>{area}<ofd:Content><ofd:Layer ID="{lid}">'
            + "".join(objs)
            + "</ofd:Layer></ofd:Content></ofd:Page>"
        ).encode()
        page_entries.append(f'<ofd:Page ID="{pid}" BaseLoc="{loc}"/>')

    attachments = _attachments(files, carried) if carried else ""
    first = layout.pages[0] if layout.pages else None
    box = f"0 0 {_n(first.width)} {_n(first.height)}" if first else "0 0 210 297"
    files["Doc_0/PublicRes.xml"] = (
        f'{_DECL}<ofd:Res {ns} BaseLoc="/Doc_0/Res"><ofd:Fonts>{"".join(font_xml)}'
        "</ofd:Fonts></ofd:Res>"
    ).encode()
    media = f"<ofd:MultiMedias>{''.join(media_xml)}</ofd:MultiMedias>" if media_xml else ""
    files["Doc_0/DocumentRes.xml"] = (
        f'{_DECL}<ofd:Res {ns} BaseLoc="/Doc_0/Res">{media}</ofd:Res>'
    ).encode()
    files["Doc_0/Document.xml"] = (
        f"{_DECL}<ofd:Document {ns}><ofd:CommonData><ofd:MaxUnitID>{ids.n}</ofd:MaxUnitID>"
        f"<ofd:PageArea><ofd:PhysicalBox>{box}</ofd:PhysicalBox></ofd:PageArea>"
        "<ofd:PublicRes>/Doc_0/PublicRes.xml</ofd:PublicRes>"
        "<ofd:DocumentRes>/Doc_0/DocumentRes.xml</ofd:DocumentRes>"
        f"</ofd:CommonData><ofd:Pages>{''.join(page_entries)}</ofd:Pages>{attachments}"
        "</ofd:Document>"
    ).encode()

    # DocID: a content hash, so the same layout always gives the same package.
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    doc_id = h.hexdigest()[:32]
    info = [f"<ofd:DocID>{doc_id}</ofd:DocID>"]
    if layout.title:
        info.append(f"<ofd:Title>{escape(layout.title)}</ofd:Title>")
    if layout.author:
        info.append(f"<ofd:Author>{escape(layout.author)}</ofd:Author>")
    if layout.doc_number:
        info.append(f"<ofd:Subject>{escape(layout.doc_number)}</ofd:Subject>")
    if layout.date:
        info.append(f"<ofd:CreationDate>{layout.date}</ofd:CreationDate>")
    info.append("<ofd:Creator>gongwen</ofd:Creator><ofd:CreatorVersion>1.0</ofd:CreatorVersion>")
    files["OFD.xml"] = (
        f'{_DECL}<ofd:OFD {ns} Version="1.0" DocType="OFD"><ofd:DocBody>'
        f"<ofd:DocInfo>{''.join(info)}</ofd:DocInfo>"
        "<ofd:DocRoot>/Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    ).encode()
    return _zip(_ordered(files))


def _ordered(files: dict[str, bytes]) -> Iterable[tuple[str, bytes]]:
    head = ["OFD.xml", "Doc_0/Document.xml", "Doc_0/PublicRes.xml", "Doc_0/DocumentRes.xml"]
    for name in head:
        yield name, files[name]
    pages = sorted(
        (n for n in files if n.startswith("Doc_0/Pages/")),
        key=lambda n: int(n.split("/")[2].split("_")[1]),
    )
    for name in pages:
        yield name, files[name]
    for name in sorted(n for n in files if n not in head and n not in pages):
        yield name, files[name]


def _zip(entries: Iterable[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=6)
    return buf.getvalue()
