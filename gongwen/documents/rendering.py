"""From the Django model to the GB/T 9704 core (``gbt9704``) and back out as PDF, OFD or an
SVG preview of the pages.

``to_core`` maps an :class:`~gongwen.documents.models.OfficialDocument` (saved, or unsaved
with its parts given, for the live preview) to the core's frozen dataclass model;
``rendition`` renders PDF/OFD once per content fingerprint and keeps the bytes in the blob
store (R-OPS-2); ``preview_pages`` turns a layout into SVG page data for the browser.

Uploaded files (R-FLOW-5, R-DOC-4): the body file and file attachments are carried inside
both renditions byte for byte (``carried_manifest`` names them from the rows, ``carried``
reads their bytes, the core writers embed them); the page prints a placeholder line naming
the file and its SM3 digest prefix. The content fingerprint covers the carried files'
digests, so another upload renders anew; a document without uploads renders as before.

Fonts: ``settings.GONGWEN["FONTS"]`` may map a role (仿宋, 小标宋, 黑体, 楷体, 宋体) to the
path of the official font; unconfigured roles use the open substitutes of the core.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from gongwen.pki.suites import sm3

from . import blobs
from .gbt9704 import carried as core_carried
from .gbt9704 import fonts as core_fonts
from .gbt9704 import model as core
from .models import (
    BodySource,
    DocType,
    FileFormat,
    OfficialDocument,
    Recipient,
    Rendition,
    Variant,
    local_today,
)

__all__ = ["RenderError", "carried", "carried_manifest", "font_set", "preview_pages",
           "render_bytes", "rendition", "renditions_for_sealing", "seal_box", "sm3_prefix",
           "to_core"]

_VARIANTS = {Variant.FILE: core.FormatVariant.FILE, Variant.LETTER: core.FormatVariant.LETTER,
             Variant.MINUTES: core.FormatVariant.MINUTES}
_FONTS_LOCK = threading.Lock()
_FONTS: dict[tuple, core_fonts.FontSet] = {}


class RenderError(Exception):
    """The document cannot be laid out yet (missing elements) or a font is unusable;
    ``message_zh`` is for the user."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


def font_set() -> core_fonts.FontSet:
    configured = dict(getattr(settings, "GONGWEN", {}).get("FONTS") or {})
    key = tuple(sorted((str(k), str(v)) for k, v in configured.items()))
    with _FONTS_LOCK:
        cached = _FONTS.get(key)
    if cached is not None:
        return cached
    try:
        fonts = core_fonts.FontSet.load(configured)
    except core_fonts.FontError as exc:
        raise RenderError(exc.message_zh) from exc
    with _FONTS_LOCK:
        _FONTS[key] = fonts
    return fonts


@dataclass(frozen=True)
class Parts:
    """What ``to_core`` needs beyond the document row (relations and attachments)."""

    issuers: Sequence[str]  # full names, lead first
    main_recipients: str
    copy_to: Sequence[str]
    attachments: Sequence[core.Attachment]


SM3_PREFIX = 16  # hex digits of the SM3 digest printed in a placeholder line


def sm3_prefix(digest: str) -> str:
    """The first hex digits of the SM3 digest of blob ``digest`` (named by it on the GM
    suite; read and hashed otherwise)."""
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm == "sm3" and len(hexdigest) == 64:
        return hexdigest[:SM3_PREFIX]
    try:
        return sm3(blobs.read(digest)).hex()[:SM3_PREFIX]
    except (blobs.BlobError, OSError) as exc:
        raise RenderError("上传的文件在文件库中缺失，请重新上传。") from exc


def parts_of(doc: OfficialDocument) -> Parts:
    atts = []
    for att in doc.ordered_attachments():
        if att.body:
            body = _paragraphs(att.body)
        elif att.blob:
            pages = f"，共{att.pages}页" if att.pages else ""
            body = (core.Paragraph(text=f"（本附件为{att.get_file_format_display()}文件"
                                        f"“{att.filename}”{pages}，原件封装于本文件内随文传输，"
                                        f"SM3摘要{sm3_prefix(att.blob)}…。）"),)
        else:
            body = ()
        atts.append(core.Attachment(title=att.title, body=body))
    copy_rows = [r.display_name for r in doc.recipients_of(Recipient.Role.COPY)]
    if doc.copy_to_text:
        copy_rows.append(doc.copy_to_text)
    return Parts(issuers=doc.issuer_names() or [doc.unit.name],
                 main_recipients=doc.main_recipients_display(), copy_to=copy_rows,
                 attachments=atts)


def _paragraphs(body) -> tuple[core.Paragraph, ...]:
    return tuple(core.Paragraph(text=p.get("text", ""), heading=p.get("heading", ""),
                                level=core.Level(int(p.get("level", 0))))
                 for p in body or [] if (p.get("text") or p.get("heading")))


def to_core(doc: OfficialDocument, parts: Parts | None = None) -> core.OfficialDocument:
    """The core's model of ``doc``. Raises RenderError (Chinese) when the core refuses it."""
    parts = parts or parts_of(doc)
    names = list(parts.issuers)
    issuers = []
    for n, name in enumerate(names):
        # 发文机关标志 and 署名 overrides apply to the lead unit (the only one when not joint).
        mark = doc.mark_text if n == 0 and doc.mark_text else ""
        sign = doc.signature_text if n == 0 and doc.signature_text and len(names) == 1 \
            else name
        issuers.append(core.Issuer(name=sign, mark=mark or name))
    number = None
    if doc.number_serial and doc.number_year and doc.number_code:
        number = core.DocNumber(doc.number_code, doc.number_year, doc.number_serial)
    body = _paragraphs(doc.body)
    if doc.body_source == BodySource.FILE:
        body = (core.Paragraph(text=f"（正文见{doc.get_body_format_display()}文件"
                                    f"“{doc.body_filename}”，原件封装于本文件内，"
                                    f"SM3摘要{sm3_prefix(doc.body_blob)}…。）"),) \
            if doc.body_blob else (core.Paragraph(text="（正文见所附文件。）"),)
    try:
        return core.OfficialDocument(
            doc_type=core.DocType(DocType(doc.doc_type).label),
            issuers=tuple(issuers),
            title=doc.title,
            body=body,
            date=doc.date or local_today(),
            doc_number=number,
            variant=_VARIANTS[Variant(doc.variant)],
            copy_number=doc.copy_number,
            urgency=core.Urgency(doc.urgency or ""),
            signers=tuple(doc.signers or ()),
            main_recipients=parts.main_recipients,
            attachments=tuple(parts.attachments),
            note=doc.note,
            copy_to=tuple(parts.copy_to),
            printer=doc.printer,
            print_date=doc.print_date,
        )
    except core.ModelError as exc:
        raise RenderError(exc.message_zh) from exc
    except ValueError as exc:
        raise RenderError(f"公文要素不完整或不正确：{exc}") from exc


def layout(doc: OfficialDocument, parts: Parts | None = None):
    return _layout_core(to_core(doc, parts))


def _layout_core(core_doc: core.OfficialDocument):
    from .gbt9704.layout import layout_document

    try:
        lay = layout_document(core_doc, font_set())
    except core_fonts.FontError as exc:
        raise RenderError(exc.message_zh) from exc
    _remember_boxes(fingerprint(core_doc, "layout"), lay)
    return lay


# The GB/T 9704 seal boxes of a layout, by content fingerprint (bounded LRU): sealing the
# stored renditions needs the box of the k-th seal, not a new layout. SealBox is frozen.
_BOXES_LOCK = threading.Lock()
_BOXES: OrderedDict[str, tuple] = OrderedDict()
_BOXES_MAX = 512


def _remember_boxes(fp: str, lay) -> None:
    with _BOXES_LOCK:
        _BOXES[fp] = tuple(lay.seals)
        _BOXES.move_to_end(fp)
        while len(_BOXES) > _BOXES_MAX:
            _BOXES.popitem(last=False)


def _boxes(core_doc: core.OfficialDocument) -> tuple:
    fp = fingerprint(core_doc, "layout")
    with _BOXES_LOCK:
        found = _BOXES.get(fp)
        if found is not None:
            _BOXES.move_to_end(fp)
            return found
    return tuple(_layout_core(core_doc).seals)


def seal_box(doc: OfficialDocument, k: int, parts: Parts | None = None):
    """The GB/T 9704 box of the k-th seal of ``doc`` (None if the layout has no such box)."""
    boxes = _boxes(to_core(doc, parts))
    return boxes[k] if k < len(boxes) else None


def fingerprint(core_doc: core.OfficialDocument, file_format: str,
                carried: Sequence[tuple] = ()) -> str:
    """Content fingerprint of a rendition: the core model (its repr is deterministic), the
    configured fonts and the carried files (``carried_manifest``: names and digests). A
    change of any renders anew; without carried files the fingerprint is what it was."""
    fonts = sorted((str(k), str(v)) for k, v in
                   (getattr(settings, "GONGWEN", {}).get("FONTS") or {}).items())
    text = f"{file_format}\n{fonts!r}\n{core_doc!r}"
    if carried:
        text += f"\ncarried {tuple(carried)!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def carried_manifest(doc: OfficialDocument) -> tuple[tuple[str, str, str, str, str], ...]:
    """The uploaded files ``doc`` carries, from its rows (no file is read): (name,
    description, relationship, creation date, blob digest) — the body file first, then the
    file attachments in order (R-FLOW-5)."""
    from django.utils import timezone

    rows = []
    if doc.body_source == BodySource.FILE and doc.body_blob:
        rows.append((doc.body_filename or f"正文.{doc.body_format or 'pdf'}", "正文",
                     core_carried.BODY, doc.date.isoformat() if doc.date else "",
                     doc.body_blob))
    if doc.pk is not None:
        for att in doc.ordered_attachments():
            if att.blob:
                created = timezone.localdate(att.created_at).isoformat() \
                    if att.created_at else ""
                rows.append((att.filename or att.title, att.title, core_carried.ATTACHMENT,
                             created, att.blob))
    return tuple(rows)


def carried(manifest: Sequence[tuple[str, str, str, str, str]]
            ) -> tuple[core_carried.CarriedFile, ...]:
    """The carried files of a manifest with their bytes, read from the blob store."""
    import datetime as dt

    out = []
    for name, description, relationship, created, digest in manifest:
        try:
            data = blobs.read(digest)
        except (blobs.BlobError, OSError) as exc:
            raise RenderError(f"上传的文件“{name}”在文件库中缺失，无法生成版式文件。") from exc
        out.append(core_carried.CarriedFile(
            name=name, data=data, description=description, relationship=relationship,
            created=dt.date.fromisoformat(created) if created else None))
    return tuple(out)


def render_bytes(doc: OfficialDocument, file_format: str, parts: Parts | None = None) -> bytes:
    return _render_layout(layout(doc, parts), file_format, carried(carried_manifest(doc)))


def _render_layout(lay, file_format: str, files: Sequence[core_carried.CarriedFile] = ()
                   ) -> bytes:
    from .gbt9704.ofd import render_ofd
    from .gbt9704.pdf import render_pdf

    try:
        return render_pdf(lay, files) if file_format == FileFormat.PDF \
            else render_ofd(lay, files)
    except core_fonts.FontError as exc:
        raise RenderError(exc.message_zh) from exc


def _store(doc: OfficialDocument, file_format: str, fp: str, data: bytes) -> Rendition:
    ref = blobs.put(data)
    try:
        with transaction.atomic():
            found, _ = Rendition.objects.get_or_create(
                document=doc, file_format=file_format, fingerprint=fp,
                defaults={"revision": doc.revision, "blob": ref.digest, "size": ref.size})
    except IntegrityError:  # a parallel request stored it first
        found = Rendition.objects.get(document=doc, file_format=file_format, fingerprint=fp)
    return found


def rendition(doc: OfficialDocument, file_format: str) -> tuple[bytes, Rendition]:
    """The PDF or OFD of the document as it is now, rendered once per content and kept."""
    if file_format not in FileFormat.values:
        raise ValueError(file_format)
    core_doc = to_core(doc)
    manifest = carried_manifest(doc)
    fp = fingerprint(core_doc, file_format, manifest)
    found = Rendition.objects.filter(document=doc, file_format=file_format,
                                     fingerprint=fp).first()
    if found is not None and blobs.exists(found.blob):
        return blobs.read(found.blob), found
    data = _render_layout(_layout_core(core_doc), file_format, carried(manifest))
    return data, _store(doc, file_format, fp, data)


SEALED_FORMATS = (FileFormat.PDF, FileFormat.OFD)


def renditions_for_sealing(doc: OfficialDocument, k: int = 0) -> tuple[dict[str, bytes], Any]:
    """The unsealed PDF and OFD of ``doc`` as it is now and the box of its k-th seal, for
    用印: the stored renditions when their content fingerprint matches (sealing then only
    signs), else both rendered from **one** layout and stored. The document's relations are
    read once (``parts_of``). The bytes are those :func:`rendition` gives."""
    core_doc = to_core(doc, parts_of(doc))
    manifest = carried_manifest(doc)
    fps = {fmt: fingerprint(core_doc, fmt, manifest) for fmt in SEALED_FORMATS}
    stored = doc._prefetched("renditions")
    if stored is None:
        stored = Rendition.objects.filter(document=doc, fingerprint__in=list(fps.values()))
    rows = {(r.file_format, r.fingerprint): r for r in stored}
    files: dict[str, bytes] = {}
    lay = None
    payload = None
    for fmt, fp in fps.items():
        row = rows.get((fmt, fp))
        if row is not None and blobs.exists(row.blob):
            files[fmt] = blobs.read(row.blob)
            continue
        if lay is None:
            lay = _layout_core(core_doc)
            payload = carried(manifest)
        files[fmt] = _render_layout(lay, fmt, payload or ())
        _store(doc, fmt, fp, files[fmt])
    boxes = tuple(lay.seals) if lay is not None else _boxes(core_doc)
    return files, (boxes[k] if k < len(boxes) else None)


# -- SVG preview ------------------------------------------------------------------------------
_ROLE_CSS = {
    core_fonts.FontRole.FANGSONG: "FangSong, 仿宋, 仿宋_GB2312, 'AR PL UMing CN', serif",
    core_fonts.FontRole.XIAOBIAOSONG: "'FZXiaoBiaoSong-B05S', 方正小标宋简体, "
                                      "'AR PL SungtiL GB', SimSun, serif",
    core_fonts.FontRole.HEITI: "SimHei, 黑体, 'WenQuanYi Zen Hei', sans-serif",
    core_fonts.FontRole.KAITI: "KaiTi, 楷体, 楷体_GB2312, 'AR PL KaitiM GB', serif",
    core_fonts.FontRole.SONGTI: "SimSun, 宋体, 'AR PL SungtiL GB', serif",
}


@dataclass(frozen=True)
class SVGText:
    x: str  # space-separated glyph origins (SVG allows one x per character)
    y: float
    size: float
    fill: str
    family: str
    stroke: float
    text: str
    hscale: float = 1.0  # a compressed 发文机关标志: glyph shapes squeezed horizontally


@dataclass(frozen=True)
class SVGPage:
    number: int
    texts: list[SVGText]
    rules: list[tuple[float, float, float, float, float, str]]
    images: list[tuple[float, float, float, float, str]]
    seals: list[tuple[float, float, float]]  # cx, cy, r


def _rgb(c) -> str:
    return f"rgb({c[0]},{c[1]},{c[2]})"


def preview_pages(lay) -> list[SVGPage]:
    """Page data for ``documents/_pages.html``: glyphs at the layout's positions (mm)."""
    fonts = font_set()
    family_of: dict[str, str] = {}
    for role, rf in fonts.roles.items():
        family_of.setdefault(rf.face.key, _ROLE_CSS[role])
    pages = []
    for page in lay.pages:
        # A compressed run is drawn in a coordinate system scaled by hscale on x, so its
        # glyph origins are divided by the same factor to land where the layout put them.
        texts = [SVGText(x=" ".join(f"{x / run.hscale:.2f}" for x in run.xs),
                         y=round(run.baseline, 2), size=round(run.size, 3),
                         fill=_rgb(run.color), family=family_of.get(run.face, "serif"),
                         stroke=run.stroke, text=run.text, hscale=run.hscale)
                 for run in page.runs]
        rules = [(r.x1, r.y1, r.x2, r.y2, r.width, _rgb(r.color)) for r in page.rules]
        images = [(i.x, i.y, i.w, i.h, f"data:image/{i.format.lower()};base64,"
                   + base64.b64encode(i.data).decode()) for i in page.images]
        seals = [(s.center[0], s.center[1], s.w / 2) for s in lay.seals if s.page == page.index]
        pages.append(SVGPage(page.index + 1, texts, rules, images, seals))
    return pages

