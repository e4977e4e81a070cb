"""GB/T 9704-2012 page layout: one :class:`Layout` (pages of positioned glyph runs, rules,
images and seal boxes, all in mm from the top-left corner of an A4 page) that ``pdf.py`` and
``ofd.py`` both draw, so the two renditions agree glyph for glyph.

The grid (GB/T 9704-2012 clause 5): A4 paper, 版心 156 mm × 225 mm with 天头 37 mm and 订口
28 mm; 22 lines of 28 characters of 3号 (16 pt) 仿宋. A line box is 225/22 mm tall and a
character cell 156/28 mm wide; a glyph's em box is centred in its line box.

Entry point: :func:`layout_document`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .fonts import FontFace, FontRole, FontSet
from .linebreak import break_lines
from .model import (
    FormatVariant,
    Level,
    OfficialDocument,
    Paragraph,
    Urgency,
    format_date,
)

__all__ = [
    "CHARS_PER_LINE",
    "CHAR_PITCH",
    "LINES_PER_PAGE",
    "LINE_PITCH",
    "PAGE_HEIGHT",
    "PAGE_WIDTH",
    "TEXT_BOTTOM",
    "TEXT_HEIGHT",
    "TEXT_LEFT",
    "TEXT_RIGHT",
    "TEXT_TOP",
    "TEXT_WIDTH",
    "GlyphRun",
    "ImageBox",
    "Layout",
    "LayoutOptions",
    "Page",
    "Rule",
    "SealBox",
    "layout_document",
    "mark_geometry",
]

RGB = tuple[int, int, int]
BLACK: RGB = (0, 0, 0)
RED: RGB = (255, 0, 0)

PT = 25.4 / 72  # mm per point
# -- GB/T 9704-2012 5.2: paper and 版心 -----------------------------------------------------
PAGE_WIDTH = 210.0
PAGE_HEIGHT = 297.0
TEXT_TOP = 37.0  # 天头 37 mm ± 1 mm
TEXT_LEFT = 28.0  # 订口 28 mm ± 1 mm
TEXT_WIDTH = 156.0
TEXT_HEIGHT = 225.0
TEXT_RIGHT = TEXT_LEFT + TEXT_WIDTH  # 184
TEXT_BOTTOM = TEXT_TOP + TEXT_HEIGHT  # 262
# -- 5.2.2 / 6: 22 lines × 28 characters of 3号 仿宋 ------------------------------------------
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
LINE_PITCH = TEXT_HEIGHT / LINES_PER_PAGE  # 10.227 mm (≈ 29 pt)
CHAR_PITCH = TEXT_WIDTH / CHARS_PER_LINE  # 5.571 mm
SIZE_2 = 22 * PT  # 2号, 标题
SIZE_3 = 16 * PT  # 3号, body
SIZE_4 = 14 * PT  # 4号, 版记 and 页码
ASCENT = 0.88  # baseline below the em-box top, in em (ideographic em box)
# -- 7.2 版头 -------------------------------------------------------------------------------
MARK_OFFSET = 35.0  # 7.2.4: 标志 top edge 35 mm below the 版心 top
MARK_MAX_SIZE = 18.0  # largest 标志 character (mm) when the caller sets none
MARK_MIN_SIZE = 15.0  # a long 标志 keeps this height and is compressed horizontally
MARK_MIN_HSCALE = 0.6  # at most compressed to 60 % width; beyond that it gets smaller
MARK_MAX_WIDTH = 150.0  # the 标志 stays inside the 版心 with a little air
RED_RULE_GAP = 4.0  # 7.2.5: red separator 4 mm below 发文字号
RED_RULE_WIDTH = 0.75  # thickness not fixed by the standard
# -- 7.4 版记 -------------------------------------------------------------------------------
IMPRINT_THICK = 0.35  # 7.4.1: first and last rule
IMPRINT_THIN = 0.25  # 7.4.1: rules in between
# -- 7.5 页码 -------------------------------------------------------------------------------
PAGE_NUMBER_GAP = 7.0  # dash 7 mm below the 版心 bottom
# -- 10.1 信函格式 --------------------------------------------------------------------------
LETTER_MARK_TOP = 30.0  # 标志 top 30 mm from the paper top
LETTER_RULE_LENGTH = 170.0
LETTER_BOTTOM_RULE = 20.0  # second double rule 20 mm above the paper bottom
LETTER_THICK = 0.8
LETTER_THIN = 0.3
LETTER_RULE_GAP = 0.6  # between the two strokes of a double rule
# -- 10.2 命令（令）格式 -------------------------------------------------------------------------
ORDER_MARK_OFFSET = 20.0  # 标志 (…令) top edge 20 mm below the 版心 top
# -- 7.3.5 印章 -----------------------------------------------------------------------------
SEAL_GAP = 3.0  # joint seals neither touch nor cut each other
SIGNATURE_SEAL_HEIGHT = 15.0  # 签名章 box (7.3.5.3; the standard sets no size)
SIGNATURE_SEAL_MIN_WIDTH = 30.0
SIGNATURE_ROW_LINES = 2  # 联合行文: one 签发人 a row, rows two grid lines apart
NO_BODY_NOTE = "（此页无正文）"

_EPS = 1e-6


@dataclass(frozen=True)
class GlyphRun:
    """Glyphs of one face, size and colour on one baseline. ``xs`` are the glyph origins
    (mm from the page's left edge), one per character of ``text``; ``end`` is the right edge
    of the last glyph. ``stroke`` > 0 outlines the glyphs (synthetic bold), width in mm."""

    kind: str
    face: str  # key of Layout.fonts
    size: float  # em size, mm
    baseline: float  # mm from the page top
    text: str
    xs: tuple[float, ...]
    end: float
    color: RGB = BLACK
    stroke: float = 0.0
    hscale: float = 1.0  # horizontal scale of the glyph shapes (a compressed 发文机关标志)


@dataclass(frozen=True)
class Rule:
    """A straight line from (x1, y1) to (x2, y2), ``width`` mm thick."""

    kind: str
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    color: RGB = BLACK


@dataclass(frozen=True)
class ImageBox:
    """A raster image (PNG or JPEG bytes) drawn into the box (x, y, w, h)."""

    kind: str
    x: float
    y: float
    w: float
    h: float
    data: bytes
    format: str = "PNG"


@dataclass(frozen=True)
class SealBox:
    """Where a seal goes (7.3.5.1): the square around the seal circle on ``page``
    (0-based). The sealing code draws the stamp (or the OFD StampAnnot) into it."""

    page: int
    x: float
    y: float
    w: float
    h: float
    issuer: str
    index: int  # order among the issuers
    kind: str = "seal"  # "seal" (印章, round) or "signature" (签发人签名章, 7.3.5.3)
    signer: str = ""  # the 签发人 of a signature box

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)


@dataclass
class Page:
    index: int
    width: float = PAGE_WIDTH
    height: float = PAGE_HEIGHT
    runs: list[GlyphRun] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    images: list[ImageBox] = field(default_factory=list)
    number: str = ""  # the printed page number text, "" if none

    def text(self) -> str:
        """The page's text in reading order, one line per baseline."""
        return _text_of(self.runs)


@dataclass
class Layout:
    pages: list[Page]
    fonts: dict[str, FontFace]
    seals: list[SealBox]
    title: str = ""
    doc_number: str = ""
    date: str = ""  # ISO date of 成文日期
    author: str = ""
    signature_seals: list[SealBox] = field(default_factory=list)  # 签发人签名章 (7.3.5.3)

    def text(self) -> str:
        return "\n".join(p.text() for p in self.pages)

    def runs(self, kind: str | None = None) -> list[tuple[int, GlyphRun]]:
        """(page index, run) pairs, optionally of one kind."""
        return [(p.index, r) for p in self.pages for r in p.runs if kind is None or r.kind == kind]


def _text_of(runs: Iterable[GlyphRun]) -> str:
    lines: list[list[GlyphRun]] = []
    last = None
    for r in sorted(runs, key=lambda r: r.baseline):
        if last is None or r.baseline - last > 0.5:
            lines.append([])
        lines[-1].append(r)
        last = r.baseline
    return "\n".join("".join(r.text for r in sorted(rs, key=lambda r: r.xs[0])) for rs in lines)


@dataclass(frozen=True)
class LayoutOptions:
    """Choices the standard leaves open.

    ``no_body_note``: when the signature block does not fit under the body, put it on a new
    page headed 此页无正文 instead of moving the last body lines over (the default, as GB/T
    9704-2012 7.3.5.5 asks: 印章 and body share a page). ``seal_images`` maps an issuer name
    to PNG bytes drawn into its seal box (previews; the real stamp is applied when sealing).
    """

    no_body_note: bool = False
    seal_images: Mapping[str, bytes] = field(default_factory=dict)
    signature_images: Mapping[str, bytes] = field(default_factory=dict)  # by 签发人 name


# ------------------------------------------------------------------------------------------
# Composition: lines of glyphs with x positions, waiting for a vertical position.


@dataclass
class _G:
    ch: str
    face: FontFace
    size: float
    x: float
    color: RGB
    stroke: float
    adv: float  # the advance the layout gave this glyph (grid cell or natural width)
    hscale: float = 1.0


@dataclass
class _Line:
    kind: str
    glyphs: list[_G]
    size: float = SIZE_3
    keep_with_next: bool = False
    movable: bool = False  # a line of body text (may move to the seal page)

    @property
    def blank(self) -> bool:
        return not self.glyphs


@dataclass(frozen=True)
class _Style:
    role: FontRole
    size: float = SIZE_3
    color: RGB = BLACK
    grid: bool = True  # advance on the 28-character grid (3号 body text)
    hscale: float = 1.0  # horizontal compression (natural-width styles only)


_BODY = _Style(FontRole.FANGSONG)
_LEVEL_ROLE = {
    Level.BODY: FontRole.FANGSONG,
    Level.H1: FontRole.HEITI,
    Level.H2: FontRole.KAITI,
    Level.H3: FontRole.FANGSONG,
    Level.H4: FontRole.FANGSONG,
}
_ROLE_NAMES = {r.value: r for r in FontRole}


def _blank(kind: str = "blank") -> _Line:
    return _Line(kind, [])


class _Engine:
    def __init__(self, doc: OfficialDocument, fonts: FontSet, options: LayoutOptions) -> None:
        self.doc = doc
        self.fonts = fonts
        self.options = options
        self.pages: list[Page] = []
        self.grids: list[tuple[float, int]] = []  # per page: top of line 0, number of lines
        self.placed: list[list[tuple[int, _Line]]] = []  # per page: (line index, line)
        self.seals: list[SealBox] = []
        self.signature_seals: list[SealBox] = []
        self.seal_bottom: dict[int, float] = {}  # page -> lowest seal edge
        self.used_faces: dict[str, FontFace] = {}
        self.cur = 0  # next free line index on the last page

    # -- pages and grid ---------------------------------------------------------------------
    def new_page(self, top: float = TEXT_TOP, lines: int = LINES_PER_PAGE) -> int:
        self.pages.append(Page(len(self.pages)))
        self.grids.append((top, lines))
        self.placed.append([])
        self.cur = 0
        return len(self.pages) - 1

    def box_top(self, page: int, idx: int) -> float:
        return self.grids[page][0] + idx * LINE_PITCH

    def baseline(self, page: int, idx: int, size: float) -> float:
        return self.box_top(page, idx) + (LINE_PITCH - size) / 2 + ASCENT * size

    def line_after(self, page: int, y: float, blank_lines: int) -> int:
        """Index of the first grid line leaving ``blank_lines`` lines of space below ``y``
        (the partly used line holding ``y`` counts as half a line)."""
        top = self.grids[page][0]
        return max(0, math.ceil((y + (blank_lines - 0.5) * LINE_PITCH - top) / LINE_PITCH - _EPS))

    # -- composing --------------------------------------------------------------------------
    def compose(
        self,
        segments: Sequence[tuple[str, _Style]],
        *,
        kind: str,
        first_x: float = TEXT_LEFT,
        cont_x: float = TEXT_LEFT,
        right: float = TEXT_RIGHT,
        justify: bool = True,
        align: str = "left",
        movable: bool = False,
        solid: int = 0,
    ) -> list[_Line]:
        chars: list[str] = []
        styles: list[_Style] = []
        for text, style in segments:
            for ch in text:
                if ch in "\r\n\t":
                    ch = " "
                chars.append(ch)
                styles.append(style)
        if not chars:
            return []
        text = "".join(chars)
        faces = [self.fonts.face_for(s.role, c) for c, s in zip(chars, styles, strict=True)]
        adv = [
            f.advance(c) * (CHAR_PITCH if s.grid else s.size * s.hscale)
            for c, f, s in zip(chars, faces, styles, strict=True)
        ]
        spans = break_lines(
            text,
            adv,
            lambda i: right - (first_x if i == 0 else cont_x),
            justify=justify and align == "left",
            solid=solid,
        )
        out = []
        for li, sp in enumerate(spans):
            if align == "center":
                x0 = (TEXT_LEFT + TEXT_RIGHT) / 2 - sp.width / 2
            elif align == "right":
                x0 = right - sp.width
            else:
                x0 = first_x if li == 0 else cont_x
            glyphs = []
            for i in range(sp.start, sp.end):
                if chars[i].isspace():
                    continue
                st = styles[i]
                glyphs.append(
                    _G(
                        chars[i],
                        faces[i],
                        st.size,
                        x0 + sp.xs[i - sp.start],
                        st.color,
                        self.stroke(st.role, st.size, faces[i]),
                        adv[i],
                        st.hscale,
                    )
                )
            size = max((st.size for st in styles[sp.start : sp.end]), default=SIZE_3)
            out.append(_Line(kind, glyphs, size=size, movable=movable))
        return out

    def stroke(self, role: FontRole, size: float, face: FontFace) -> float:
        rf = self.fonts.role(role)
        return rf.synthetic_bold * size if face is rf.face and rf.synthetic_bold else 0.0

    def width(self, text: str, style: _Style) -> float:
        return sum(
            self.fonts.face_for(style.role, c).advance(c)
            * (CHAR_PITCH if style.grid else style.size * style.hscale)
            for c in text
        )

    def paragraph(self, par: Paragraph, kind: str = "body") -> list[_Line]:
        role = _LEVEL_ROLE[par.level]
        if par.heading_font:
            role = _ROLE_NAMES.get(par.heading_font, role)
        segs = []
        if par.heading:
            segs.append((par.heading, _Style(role)))
        if par.text:
            segs.append((par.text, _BODY))
        lines = self.compose(
            segs,
            kind=kind if par.level is Level.BODY else f"heading{int(par.level)}",
            first_x=TEXT_LEFT + 2 * CHAR_PITCH,
            movable=True,
        )
        if lines and par.heading and not par.text:
            lines[-1].keep_with_next = True  # a heading line never ends a page
        return lines

    def title_lines(self, title: str, kind: str = "title") -> list[_Line]:
        style = _Style(FontRole.XIAOBIAOSONG, SIZE_2, grid=False)
        out: list[_Line] = []
        for part in title.split("\n"):
            part = part.strip()
            if not part:
                continue
            natural = self.width(part, style)
            n = max(1, math.ceil(natural / TEXT_WIDTH - _EPS))
            limit = natural / n + _EPS
            while True:
                lines = self.compose(
                    [(part, style)],
                    kind=kind,
                    right=TEXT_LEFT + min(limit, TEXT_WIDTH),
                    align="center",
                    justify=False,
                )
                if len(lines) <= n or limit >= TEXT_WIDTH:
                    break
                limit += SIZE_2 / 2
            out.extend(lines)
        return out

    # -- placing ----------------------------------------------------------------------------
    def put(self, line: _Line, page: int, idx: int) -> None:
        self.placed[page].append((idx, line))

    def flow(self, lines: Iterable[_Line]) -> None:
        """Place lines one after the other, breaking pages on the 22-line grid."""
        for line in lines:
            page = len(self.pages) - 1
            n = self.grids[page][1]
            if line.blank and (self.cur == 0 or self.cur >= n):
                continue  # no blank line at a page top
            if self.cur >= n or (line.keep_with_next and self.cur >= n - 1):
                page = self.new_page()
            self.put(line, page, self.cur)
            self.cur += 1

    def last_content(self) -> tuple[int, int]:
        """(page, line index) of the last non-blank placed line; index -1 if the page is empty."""
        page = len(self.pages) - 1
        idxs = [i for i, ln in self.placed[page] if not ln.blank]
        return page, max(idxs, default=-1)

    def used_bottom(self, page: int) -> float:
        """Lowest y used by flowing text or seals on ``page``."""
        idxs = [i for i, ln in self.placed[page] if not ln.blank]
        y = self.box_top(page, max(idxs) + 1) if idxs else self.grids[page][0]
        return max(y, self.seal_bottom.get(page, 0.0))

    def add_run(self, page: int, kind: str, glyphs: Sequence[_G], baseline: float) -> None:
        """Group glyphs into runs of one face/size/colour/stroke without wide gaps."""
        i = 0
        while i < len(glyphs):
            g = glyphs[i]
            j = i + 1
            while (
                j < len(glyphs)
                and glyphs[j].x - (glyphs[j - 1].x + glyphs[j - 1].adv) < g.size
                and glyphs[j].face is g.face
                and glyphs[j].size == g.size
                and glyphs[j].color == g.color
                and glyphs[j].stroke == g.stroke
                and glyphs[j].hscale == g.hscale
            ):
                j += 1
            chunk = glyphs[i:j]
            last = chunk[-1]
            self.used_faces[g.face.key] = g.face
            self.pages[page].runs.append(
                GlyphRun(
                    kind=kind,
                    face=g.face.key,
                    size=g.size,
                    baseline=baseline,
                    text="".join(c.ch for c in chunk),
                    xs=tuple(c.x for c in chunk),
                    end=last.x + last.adv,
                    color=g.color,
                    stroke=g.stroke,
                    hscale=g.hscale,
                )
            )
            i = j

    def glyphs_at(
        self, text: str, style: _Style, x: float, *, spacing: float | None = None
    ) -> list[_G]:
        """Glyphs of ``text`` set from ``x`` at natural (or ``spacing``) advances."""
        out = []
        for ch in text:
            face = self.fonts.face_for(style.role, ch)
            adv = face.advance(ch) * (CHAR_PITCH if style.grid else style.size * style.hscale)
            if not ch.isspace():
                out.append(
                    _G(
                        ch,
                        face,
                        style.size,
                        x,
                        style.color,
                        self.stroke(style.role, style.size, face),
                        adv,
                        style.hscale,
                    )
                )
            x += spacing if spacing is not None else adv
        return out

    # -- the document -----------------------------------------------------------------------
    def run(self) -> Layout:
        doc = self.doc
        variant = doc.variant
        if variant is FormatVariant.LETTER:
            title_idx = self.letter_head()
        elif variant is FormatVariant.MINUTES:
            title_idx = self.minutes_head()
        elif doc.order_format:
            title_idx = self.order_head()
        else:
            title_idx = self.file_head()
        self.cur = title_idx
        if doc.order_format:
            pass  # 10.2: 令号, then the body; the title is not printed
        else:
            self.flow(self.title_lines(doc.title))
        if doc.order_format:
            if doc.main_recipients:
                recipients = doc.main_recipients.strip().rstrip(":：") + "："
                self.flow(self.compose([(recipients, _BODY)], kind="recipients"))
        elif doc.main_recipients and variant is not FormatVariant.MINUTES:
            recipients = doc.main_recipients.strip()
            if not recipients.endswith("："):
                recipients = recipients.rstrip(":：") + "："
            self.flow([_blank()])
            self.flow(self.compose([(recipients, _BODY)], kind="recipients"))
        else:
            self.flow([_blank()])
        for par in doc.body:
            self.flow(self.paragraph(par))
        if doc.attachments:
            self.flow([_blank()])
            self.flow(self.attachment_note())
        if variant is FormatVariant.MINUTES:
            self.attendance()
            if doc.note:
                self.flow(
                    self.compose(
                        [(f"（{doc.note}）", _BODY)],
                        kind="note",
                        first_x=TEXT_LEFT + 2 * CHAR_PITCH,
                    )
                )
        else:
            self.signature_block()
        for label, att in zip(doc.attachment_labels(), doc.attachments, strict=True):
            self.attachment(label, att)
        self.imprint()
        self.page_numbers()
        self.emit()
        return Layout(
            pages=self.pages,
            fonts=dict(sorted(self.used_faces.items())),
            seals=self.seals,
            title=doc.title.replace("\n", ""),
            doc_number=str(doc.doc_number) if doc.doc_number else "",
            date=doc.date.isoformat(),
            author=doc.issuers[0].name,
            signature_seals=self.signature_seals,
        )

    def emit(self) -> None:
        for page, placed in enumerate(self.placed):
            for idx, line in placed:
                if line.glyphs:
                    self.add_run(page, line.kind, line.glyphs, self.baseline(page, idx, line.size))

    # -- 版头 ---------------------------------------------------------------------------------
    def mark_style(self, size: float, hscale: float = 1.0) -> _Style:
        return _Style(FontRole.XIAOBIAOSONG, size, RED, grid=False, hscale=hscale)

    def mark(self, page: int, top: float, suffix: str) -> float:
        """Draw the red 发文机关标志 with its top edge at ``top``; return its bottom edge."""
        names = [i.mark_name for i in self.doc.issuers]
        unit = self.mark_style(1.0)
        name_em = max(self.width(n, unit) for n in names)
        suffix_em = self.width(suffix, unit) if suffix else 0.0
        joint = len(names) > 1
        gap_em = 0.5 if joint and suffix else 0.0
        size, hscale = mark_geometry(name_em + suffix_em + gap_em, self.doc.mark_size_mm)
        style = self.mark_style(size, hscale)
        if not joint:
            text = names[0] + suffix
            w = self.width(text, style)
            x = (TEXT_LEFT + TEXT_RIGHT) / 2 - w / 2
            self.add_run(page, "mark", self.glyphs_at(text, style, x), top + ASCENT * size)
            return top + size
        # 联合行文 (7.2.4): names stacked, the lead unit first, justified to one width;
        # 文件 on their right, centred vertically on the names.
        pitch = size * 1.25
        block_w = (name_em + gap_em + suffix_em) * size * hscale
        x0 = (TEXT_LEFT + TEXT_RIGHT) / 2 - block_w / 2
        name_w = name_em * size * hscale
        for k, name in enumerate(names):
            base = top + k * pitch + ASCENT * size
            if len(name) > 1:
                natural = self.width(name, style)
                extra = (name_w - natural) / (len(name) - 1)
                glyphs = []
                x = x0
                for ch in name:
                    glyphs.extend(self.glyphs_at(ch, style, x))
                    x += self.width(ch, style) + extra
            else:
                glyphs = self.glyphs_at(name, style, x0 + (name_w - self.width(name, style)) / 2)
            self.add_run(page, "mark", glyphs, base)
        bottom = top + (len(names) - 1) * pitch + size
        if suffix:
            mid = (top + bottom) / 2
            self.add_run(
                page,
                "mark",
                self.glyphs_at(suffix, style, x0 + name_w + gap_em * size * hscale),
                mid - size / 2 + ASCENT * size,
            )
        return bottom

    def left_block(self, page: int, start: int) -> int:
        """份号, 密级和保密期限, 紧急程度 (7.2.1-7.2.3), flush left from line ``start``;
        returns the next free line."""
        doc = self.doc
        idx = start
        items = []
        if doc.copy_number:
            items.append(("copy_number", doc.copy_number, FontRole.FANGSONG))
        if doc.secrecy_text:
            items.append(("secrecy", doc.secrecy_text, FontRole.HEITI))
        if doc.urgency is not Urgency.NONE:
            items.append(("urgency", doc.urgency.value, FontRole.HEITI))
        for kind, text, role in items:
            self.put(_Line(kind, self.glyphs_at(text, _Style(role), TEXT_LEFT)), page, idx)
            idx += 1
        return idx

    def red_rule(self, page: int, y: float) -> None:
        self.pages[page].rules.append(
            Rule("separator", TEXT_LEFT, y, TEXT_RIGHT, y, RED_RULE_WIDTH, RED)
        )

    def file_head(self) -> int:
        """文件格式 (7.2); returns the title's line index."""
        doc = self.doc
        page = self.new_page()
        self.left_block(page, 0)
        mark_bottom = self.mark(page, TEXT_TOP + MARK_OFFSET, doc.mark_suffix)
        idx = self.line_after(page, mark_bottom, 2)
        number = str(doc.doc_number) if doc.doc_number else ""
        if doc.signers:
            # 上行文 (7.2.4): 发文字号 left-indented one character on the line of the last
            # 签发人; 签发人 block right-indented one character, two names a line.
            label = "签发人："
            rows = [doc.signers[i : i + 2] for i in range(0, len(doc.signers), 2)]
            label_w = self.width(label, _BODY)
            names_w = max(self.width("　".join(r), _Style(FontRole.KAITI)) for r in rows)
            x_label = TEXT_RIGHT - CHAR_PITCH - label_w - names_w
            for k, row in enumerate(rows):
                glyphs = []
                if k == 0:
                    glyphs += self.glyphs_at(label, _BODY, x_label)
                glyphs += self.glyphs_at("　".join(row), _Style(FontRole.KAITI), x_label + label_w)
                self.put(_Line("signer", glyphs), page, idx + k)
            idx += len(rows) - 1
            if number:
                self.put(
                    _Line("doc_number", self.glyphs_at(number, _BODY, TEXT_LEFT + CHAR_PITCH)),
                    page,
                    idx,
                )
        elif number:
            w = self.width(number, _BODY)
            self.put(
                _Line(
                    "doc_number", self.glyphs_at(number, _BODY, (TEXT_LEFT + TEXT_RIGHT - w) / 2)
                ),
                page,
                idx,
            )
        rule_y = self.baseline(page, idx, SIZE_3) + (1 - ASCENT) * SIZE_3 + RED_RULE_GAP
        self.red_rule(page, rule_y)
        return self.line_after(page, rule_y, 2)

    def order_head(self) -> int:
        """命令（令）格式 (10.2): red 发文机关全称 + 令 20 mm below the 版心 top; 令号 centred
        two blank lines under it; the body two blank lines under the 令号. Returns the
        body's first line (the same before and after the number is assigned)."""
        doc = self.doc
        page = self.new_page()
        self.left_block(page, 0)
        mark_bottom = self.mark(page, TEXT_TOP + ORDER_MARK_OFFSET, "令")
        idx = self.line_after(page, mark_bottom, 2)
        number = doc.order_number_text
        if number:
            w = self.width(number, _BODY)
            x = (TEXT_LEFT + TEXT_RIGHT) / 2 - w / 2
            self.put(_Line("order_number", self.glyphs_at(number, _BODY, x)), page, idx)
        return idx + 3

    def letter_head(self) -> int:
        """信函格式 (10.1); returns the title's line index on page 1."""
        doc = self.doc
        page = self.new_page()
        mark_bottom = self.mark(page, LETTER_MARK_TOP, "")
        x1 = (PAGE_WIDTH - LETTER_RULE_LENGTH) / 2
        x2 = x1 + LETTER_RULE_LENGTH
        y_thick = mark_bottom + 4.0 + LETTER_THICK / 2
        y_thin = y_thick + LETTER_THICK / 2 + LETTER_RULE_GAP + LETTER_THIN / 2
        rules = self.pages[page].rules
        rules.append(Rule("letter_rule", x1, y_thick, x2, y_thick, LETTER_THICK, RED))
        rules.append(Rule("letter_rule", x1, y_thin, x2, y_thin, LETTER_THIN, RED))
        yb_thick = PAGE_HEIGHT - LETTER_BOTTOM_RULE - LETTER_THICK / 2
        yb_thin = yb_thick - LETTER_THICK / 2 - LETTER_RULE_GAP - LETTER_THIN / 2
        rules.append(Rule("letter_rule", x1, yb_thin, x2, yb_thin, LETTER_THIN, RED))
        rules.append(Rule("letter_rule", x1, yb_thick, x2, yb_thick, LETTER_THICK, RED))
        # The first element's top is 7/8 of a 3号 character below the rule: page 1's grid
        # starts there.
        glyph_top = y_thin + LETTER_THIN / 2 + SIZE_3 * 7 / 8
        top = glyph_top - (LINE_PITCH - SIZE_3) / 2
        self.grids[page] = (top, int((TEXT_BOTTOM - top) / LINE_PITCH + _EPS))
        last = self.left_block(page, 0)
        if doc.doc_number:
            number = str(doc.doc_number)
            w = self.width(number, _BODY)
            self.put(_Line("doc_number", self.glyphs_at(number, _BODY, TEXT_RIGHT - w)), page, 0)
            last = max(last, 1)
        return last + 2 if last else 2

    def minutes_head(self) -> int:
        """纪要格式 (10.3): red 纪要标志 35 mm below the 版心 top; then the number, the
        issuing office and the date above a red rule (the standard lets units choose)."""
        doc = self.doc
        page = self.new_page()
        self.left_block(page, 0)
        name = doc.issuers[0].mark_name
        suffix = "" if name.endswith("纪要") else "纪要"
        mark_bottom = self.mark(page, TEXT_TOP + MARK_OFFSET, suffix)
        idx = self.line_after(page, mark_bottom, 2)
        if doc.doc_number:
            number = str(doc.doc_number)
            w = self.width(number, _BODY)
            self.put(
                _Line(
                    "doc_number", self.glyphs_at(number, _BODY, (TEXT_LEFT + TEXT_RIGHT - w) / 2)
                ),
                page,
                idx,
            )
            idx += 1
        date = format_date(doc.date)
        glyphs = self.glyphs_at(doc.issuers[0].name, _BODY, TEXT_LEFT + CHAR_PITCH)
        glyphs += self.glyphs_at(date, _BODY, TEXT_RIGHT - CHAR_PITCH - self.width(date, _BODY))
        self.put(_Line("minutes_issuer", glyphs), page, idx)
        rule_y = self.baseline(page, idx, SIZE_3) + (1 - ASCENT) * SIZE_3 + RED_RULE_GAP
        self.red_rule(page, rule_y)
        return self.line_after(page, rule_y, 2)

    # -- 主体 ---------------------------------------------------------------------------------
    def attachment_note(self) -> list[_Line]:
        """附件说明 (7.3.4): 附件： + names; wrapped lines align with the name."""
        titles = [a.title.replace("\n", "") for a in self.doc.attachments]
        label = "附件："
        x_label = TEXT_LEFT + 2 * CHAR_PITCH
        x_name = x_label + self.width(label, _BODY)
        out: list[_Line] = []
        for k, title in enumerate(titles):
            prefix = f"{k + 1}." if len(titles) > 1 else ""
            first_x = x_label if k == 0 else x_name
            segs = [(label, _BODY)] if k == 0 else []
            segs.append((prefix + title, _BODY))
            cont = x_name + self.width(prefix, _BODY)
            lines = self.compose(
                segs,
                kind="attachment_note",
                first_x=first_x,
                cont_x=cont,
                movable=True,
                solid=len(label) if k == 0 else 0,
            )
            out.extend(lines)
        return out

    def attendance(self) -> None:
        """纪要 出席/请假/列席 (10.3): one line below the body, label 黑体 left-indented two
        characters, names 仿宋 aligned after the colon."""
        if not self.doc.attendance:
            return
        self.flow([_blank()])
        for item in self.doc.attendance:
            label = item.label.rstrip(":：") + "："
            x = TEXT_LEFT + 2 * CHAR_PITCH
            self.flow(
                self.compose(
                    [(label, _Style(FontRole.HEITI)), (item.names, _BODY)],
                    kind="attendance",
                    first_x=x,
                    cont_x=x + self.width(label, _Style(FontRole.HEITI)),
                    movable=True,
                    solid=len(label),
                )
            )

    # -- 署名, 成文日期, 印章 (7.3.5) -------------------------------------------------------------
    def signature_block(self) -> None:
        page, last = self.last_content()
        plan = self.plan_signature(page, last)
        if plan is None:
            page, last = self.make_room()
            plan = self.plan_signature(page, last)
            if plan is None:  # does not fit an empty page either: place it anyway
                plan = self.plan_signature(page, last, force=True)
        assert plan is not None
        lines, seals, signature_boxes = plan
        for idx, line in lines:
            self.put(line, page, idx)
        for k, (issuer, signer, x, y, w, h) in enumerate(signature_boxes):
            box = SealBox(page, x, y, w, h, issuer, k, kind="signature", signer=signer)
            self.signature_seals.append(box)
            self.seal_bottom[page] = max(self.seal_bottom.get(page, 0.0), y + h)
            img = self.options.signature_images.get(signer)
            if img:
                self.pages[page].images.append(ImageBox("signature_seal", x, y, w, h, img))
        for k, (issuer, cx, cy, d) in enumerate(seals):
            box = SealBox(page, cx - d / 2, cy - d / 2, d, d, issuer, k)
            self.seals.append(box)
            self.seal_bottom[page] = max(self.seal_bottom.get(page, 0.0), cy + d / 2)
            img = self.options.seal_images.get(issuer)
            if img:
                self.pages[page].images.append(ImageBox("seal", box.x, box.y, d, d, img))
        self.cur = max(i for i, _ in lines) + 1

    def make_room(self) -> tuple[int, int]:
        """The signature block does not fit under the body: move the last body lines to a
        new page (so the seal page carries body text, 7.3.5.5) or, if none can move or the
        caller asked for it, start a new page headed （此页无正文）."""
        page, _ = self.last_content()
        placed = self.placed[page]
        movable = [k for k, (_, ln) in enumerate(placed) if ln.movable]
        n_move = 2 if len(movable) >= 3 else (1 if len(movable) == 2 else 0)
        if self.options.no_body_note or n_move == 0:
            new = self.new_page()
            self.put(
                _Line(
                    "no_body_note", self.glyphs_at(NO_BODY_NOTE, _BODY, TEXT_LEFT + 2 * CHAR_PITCH)
                ),
                new,
                0,
            )
            return new, 0
        cut = movable[-n_move]
        tail = placed[cut:]
        del placed[cut:]
        new = self.new_page()
        base = tail[0][0]
        for idx, ln in tail:
            self.put(ln, new, idx - base)
        return new, tail[-1][0] - base

    def plan_signature(self, page: int, last: int, force: bool = False):
        """(lines, round seals, signature boxes) of the signature block under line ``last``
        of ``page``, or None if it does not fit there."""
        doc = self.doc
        n_lines = self.grids[page][1]
        bottom_limit = self.grids[page][0] + n_lines * LINE_PITCH
        date = format_date(doc.date)
        date_w = self.width(date, _BODY)
        issuers = doc.issuers
        sealed = [i for i in issuers if i.sealed]
        lines: list[tuple[int, _Line]] = []
        seals: list[tuple[str, float, float, float]] = []
        boxes: list[tuple[str, str, float, float, float, float]] = []
        body_bottom = self.box_top(page, last + 1)
        if doc.uses_signature_seal:
            lines, boxes, low = self.plan_signature_seals(page, last, date, date_w)
        elif sealed:
            # 7.3.5.1: date right-indented 4 characters; each 署名 centred under its seal;
            # the last seal presses on 署名 and date, whose lines sit just below its centre;
            # seal top within one line of the body.
            d = max(i.seal_diameter_mm for i in sealed)
            date_x = TEXT_RIGHT - 4 * CHAR_PITCH - date_w
            cx_last = date_x + date_w / 2
            name_ws = [self.width(i.name, _BODY) for i in issuers]
            spacing = max(d + SEAL_GAP, max(name_ws) + CHAR_PITCH)
            half = max(d, max(name_ws)) / 2
            per_row = max(
                1, min(len(issuers), int((cx_last - half - TEXT_LEFT) / spacing + _EPS) + 1)
            )
            rows = [issuers[i : i + per_row] for i in range(0, len(issuers), per_row)]
            row_lines = math.ceil((d + SEAL_GAP) / LINE_PITCH - _EPS)
            skip = 1
            while True:
                first = last + 1 + skip
                centre = self.box_top(page, first) + LINE_PITCH / 2
                if centre - d / 2 >= body_bottom - _EPS:
                    break
                skip += 1
            for r, row in enumerate(rows):
                idx = first + r * row_lines
                cy = self.box_top(page, idx) + LINE_PITCH / 2
                glyphs: list[_G] = []
                for j, issuer in enumerate(row):
                    cx = cx_last - (len(row) - 1 - j) * spacing
                    w = self.width(issuer.name, _BODY)
                    x = min(cx - w / 2, TEXT_RIGHT - w)
                    glyphs += self.glyphs_at(issuer.name, _BODY, max(TEXT_LEFT, x))
                    if issuer.sealed:
                        seals.append((issuer.name, cx, cy, issuer.seal_diameter_mm))
                lines.append((idx, _Line("signature", glyphs)))
            date_idx = lines[-1][0] + 1
            lines.append((date_idx, _Line("date", self.glyphs_at(date, _BODY, date_x))))
            low = max(cy + dd / 2 for _, _, cy, dd in seals)
        else:
            # 7.3.5.2: 署名 one line below the body, right-indented 2 characters; the date
            # on the next line starts 2 characters right of the 署名.
            name_ws = [self.width(i.name, _BODY) for i in issuers]
            name_x = TEXT_RIGHT - 2 * CHAR_PITCH - max(name_ws)
            date_x = name_x + 2 * CHAR_PITCH
            overflow = date_x + date_w - (TEXT_RIGHT - 2 * CHAR_PITCH)
            if overflow > 0:
                name_x -= overflow
                date_x -= overflow
            idx = last + 2
            for issuer, w in zip(issuers, name_ws, strict=True):
                x = name_x + (max(name_ws) - w) if len(issuers) > 1 else name_x
                lines.append((idx, _Line("signature", self.glyphs_at(issuer.name, _BODY, x))))
                idx += 1
            lines.append((idx, _Line("date", self.glyphs_at(date, _BODY, date_x))))
            low = 0.0
        if doc.note:
            # 7.3.6 附注: in parentheses, left-indented 2 characters, the line below the date.
            note_lines = self.compose(
                [(f"（{doc.note}）", _BODY)], kind="note", first_x=TEXT_LEFT + 2 * CHAR_PITCH
            )
            nidx = lines[-1][0] + 1
            for k, ln in enumerate(note_lines):
                lines.append((nidx + k, ln))
        last_idx = max(i for i, _ in lines)
        if not force and (last_idx >= n_lines or low > bottom_limit + _EPS):
            return None
        return lines, seals, boxes

    def plan_signature_seals(self, page: int, last: int, date: str, date_w: float):
        """7.3.5.3 加盖签发人签名章: two blank lines under the body, the 签名章 right-indented
        four characters with the 签发人职务 two characters to its left, centred on it; one
        签发人 a row (联合行文: the lead unit first, boxes and 职务 aligned); the 成文日期 one
        blank line under the last 签名章, right-indented four characters. Without a 签名章
        image the box holds the name (楷体, 2号), so the text reads 职务 + 姓名."""
        doc = self.doc
        signers = doc.signature_signers()
        name_style = _Style(FontRole.KAITI, SIZE_2, grid=False)
        h = SIGNATURE_SEAL_HEIGHT
        w = max(
            [SIGNATURE_SEAL_MIN_WIDTH]
            + [self.width(name, name_style) + SIZE_3 for _, name in signers]
        )
        x = TEXT_RIGHT - 4 * CHAR_PITCH - w
        lines: list[tuple[int, _Line]] = []
        boxes = []
        first = last + 3  # 正文下空二行
        for k, (issuer, (title, name)) in enumerate(zip(doc.issuers, signers, strict=True)):
            idx = first + k * SIGNATURE_ROW_LINES
            cy = self.box_top(page, idx) + LINE_PITCH / 2
            boxes.append((issuer.name, name, x, cy - h / 2, w, h))
            if title:
                tx = x - 2 * CHAR_PITCH - self.width(title, _BODY)
                lines.append((idx, _Line("signer_title", self.glyphs_at(title, _BODY, tx))))
            if name and name not in self.options.signature_images:
                nx = x + w / 2 - self.width(name, name_style) / 2
                # On the 职务's baseline (one text line when extracted); the larger name
                # sits 0.8 mm below the box centre.
                glyphs = self.glyphs_at(name, name_style, nx)
                lines.append((idx, _Line("signer_name", glyphs, size=SIZE_3)))
        last_row = first + (len(signers) - 1) * SIGNATURE_ROW_LINES
        low = self.box_top(page, last_row) + LINE_PITCH / 2 + h / 2
        date_idx = self.line_after(page, low, 1)  # 签名章下空一行
        date_x = TEXT_RIGHT - 4 * CHAR_PITCH - date_w
        lines.append((date_idx, _Line("date", self.glyphs_at(date, _BODY, date_x))))
        return lines, boxes, low

    # -- 附件 (7.3.7) ----------------------------------------------------------------------------
    def attachment(self, label: str, att) -> None:
        page = self.new_page()
        self.put(
            _Line("attachment_label", self.glyphs_at(label, _Style(FontRole.HEITI), TEXT_LEFT)),
            page,
            0,
        )
        self.cur = 2  # the title on the third line of the 版心
        self.flow(self.title_lines(att.title, kind="attachment_title"))
        self.flow([_blank()])
        for par in att.body:
            self.flow(self.paragraph(par, kind="attachment_body"))

    # -- 版记 (7.4) -----------------------------------------------------------------------------
    def imprint(self) -> None:
        doc = self.doc
        letter = doc.variant is FormatVariant.LETTER
        style = _Style(FontRole.FANGSONG, SIZE_4, grid=False)
        rows: list[_Line] = []
        indent = SIZE_4  # 左右各空一字 of 4号
        if doc.copy_to:
            label = "抄送："
            text = "，".join(doc.copy_to).rstrip("。") + "。"
            x = TEXT_LEFT + indent
            rows += self.compose(
                [(label, style), (text, style)],
                kind="copy_to",
                first_x=x,
                cont_x=x + self.width(label, style),
                right=TEXT_RIGHT - indent,
                solid=len(label),
            )
        n_cc = len(rows)
        if doc.printer and not letter:
            pd = doc.print_date or doc.date
            right_text = format_date(pd) + "印发"
            glyphs = self.glyphs_at(doc.printer, style, TEXT_LEFT + indent)
            glyphs += self.glyphs_at(
                right_text, style, TEXT_RIGHT - indent - self.width(right_text, style)
            )
            rows.append(_Line("printer", glyphs, size=SIZE_4))
        if not rows:
            return
        for r in rows:
            r.size = SIZE_4
        height = len(rows) * LINE_PITCH
        top = TEXT_BOTTOM - height
        page = len(self.pages) - 1
        if self.used_bottom(page) > top + _EPS:
            page = self.new_page()
        for k, row in enumerate(rows):
            y0 = top + k * LINE_PITCH
            self.add_run(
                page, row.kind, row.glyphs, y0 + (LINE_PITCH - SIZE_4) / 2 + ASCENT * SIZE_4
            )
        if letter:
            return
        rules = self.pages[page].rules
        rules.append(Rule("imprint", TEXT_LEFT, top, TEXT_RIGHT, top, IMPRINT_THICK))
        if n_cc and len(rows) > n_cc:
            y = top + n_cc * LINE_PITCH
            rules.append(Rule("imprint", TEXT_LEFT, y, TEXT_RIGHT, y, IMPRINT_THIN))
        rules.append(
            Rule("imprint", TEXT_LEFT, TEXT_BOTTOM, TEXT_RIGHT, TEXT_BOTTOM, IMPRINT_THICK)
        )

    # -- 页码 (7.5) -----------------------------------------------------------------------------
    def page_numbers(self) -> None:
        style = _Style(FontRole.SONGTI, SIZE_4, grid=False)
        # The dash (一字线) is drawn at mid-em: put that 7 mm below the 版心.
        baseline = TEXT_BOTTOM + PAGE_NUMBER_GAP + (ASCENT - 0.5) * SIZE_4
        for page in self.pages:
            if page.index == 0 and self.doc.variant is FormatVariant.LETTER:
                continue  # 10.1: 首页不显示页码
            text = f"— {page.index + 1} —"
            w = self.width(text, style)
            odd = (page.index + 1) % 2 == 1
            x = TEXT_RIGHT - SIZE_4 - w if odd else TEXT_LEFT + SIZE_4
            page.number = text
            self.add_run(page.index, "page_number", self.glyphs_at(text, style, x), baseline)


def mark_geometry(width_em: float, size: float = 0.0) -> tuple[float, float]:
    """(character height in mm, horizontal scale) of a 发文机关标志 ``width_em`` ems wide.

    GB/T 9704 7.2.4 leaves the size to the unit (酌定) but keeps the 标志 inside the 版心.
    Short names are set at :data:`MARK_MAX_SIZE` or as large as fits. A long name keeps
    :data:`MARK_MIN_SIZE` of height and is compressed horizontally (变形, as 红头 are set in
    practice) down to :data:`MARK_MIN_HSCALE`; only a still longer one gets smaller. A size
    the caller fixes is kept and compressed as far as needed to fit :data:`MARK_MAX_WIDTH`.
    """
    if width_em <= 0:
        return size or MARK_MAX_SIZE, 1.0
    if size:
        return size, min(1.0, MARK_MAX_WIDTH / (width_em * size))
    fit = MARK_MAX_WIDTH / width_em
    if fit >= MARK_MIN_SIZE:
        return min(MARK_MAX_SIZE, fit), 1.0
    if fit >= MARK_MIN_SIZE * MARK_MIN_HSCALE:
        return MARK_MIN_SIZE, fit / MARK_MIN_SIZE
    return fit / MARK_MIN_HSCALE, MARK_MIN_HSCALE


def layout_document(
    doc: OfficialDocument, fonts: FontSet, options: LayoutOptions | None = None
) -> Layout:
    """Lay ``doc`` out on GB/T 9704-2012 pages (文件格式, 信函格式 or 纪要格式 as
    ``doc.variant`` says). Raises :class:`~gongwen.documents.gbt9704.fonts.FontError` when a
    character has no glyph in any configured font."""
    engine = _Engine(doc, fonts, options or LayoutOptions())
    layout = engine.run()
    for page in layout.pages:
        page.runs.sort(key=lambda r: (round(r.baseline, 3), r.xs[0]))
    return layout
