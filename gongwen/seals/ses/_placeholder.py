"""Regenerate the placeholder national-emblem artwork shipped in ``assets/``.

The files are gongwen's own drawing — a ring with the words "国徽占位图" and "PLACEHOLDER" —
and are deliberately *not* the national emblem. Deployments configure the official artwork
(see docs/seals.md). Run: ``python -m gongwen.seals.ses._placeholder``.
"""

from __future__ import annotations

import io

from fontTools.misc.transform import Transform
from PIL import Image, ImageDraw, ImageFont

from .image import (
    PLACEHOLDER_EMBLEM_PNG,
    PLACEHOLDER_EMBLEM_SVG,
    SEAL_RED,
    _fmt,
    _Glyph,
    _glyph_path,
    _load_font,
    resolve_font,
)

SIZE = 100.0  # viewBox units
LINES = [("国徽", 30.0, 40.0), ("占位图", 20.0, 64.0), ("PLACEHOLDER", 7.0, 79.0)]


def _line_glyphs(font, text: str, em: float, cy: float) -> list[_Glyph]:
    s = em / font.upm
    gs = font.glyph_set()
    advances = [gs[font.cmap[ord(c)]].width * s for c in text]
    x = SIZE / 2 - sum(advances) / 2
    _rx, ry = font.ref_center
    out = []
    for c, adv in zip(text, advances, strict=True):
        # centre every glyph vertically on cy like an ideograph, horizontally in its advance
        t = Transform().translate(x, cy).scale(s, -s).translate(0, -ry)
        out.append(_Glyph(c, t))
        x += adv
    return out


def make_svg() -> str:
    font = _load_font(*resolve_font())
    glyphs = [g for text, em, cy in LINES for g in _line_glyphs(font, text, em, cy)]
    d = "".join(_glyph_path(font, g) for g in glyphs)
    c = SIZE / 2
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- gongwen placeholder, NOT the national emblem: 国徽占位图. Configure the official "
        "artwork for production (docs/seals.md). -->\n"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_fmt(SIZE)}" height="{_fmt(SIZE)}" '
        f'viewBox="0 0 {_fmt(SIZE)} {_fmt(SIZE)}">'
        "<title>国徽占位图 (placeholder, not the national emblem)</title>"
        f'<circle cx="{_fmt(c)}" cy="{_fmt(c)}" r="47" fill="none" stroke="{SEAL_RED}" '
        'stroke-width="4"/>'
        f'<circle cx="{_fmt(c)}" cy="{_fmt(c)}" r="40" fill="none" stroke="{SEAL_RED}" '
        'stroke-width="1.5" stroke-dasharray="4 3"/>'
        f'<path fill="{SEAL_RED}" d="{d}"/>'
        "</svg>\n"
    )


def make_png(px: int = 1000) -> bytes:
    path, index = resolve_font()
    k = px / SIZE
    img = Image.new("RGBA", (px, px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    red = tuple(int(SEAL_RED[i : i + 2], 16) for i in (1, 3, 5))
    c = SIZE / 2 * k
    for r, w, dash in ((47, 4, False), (40, 1.5, True)):
        rr = r * k
        bbox = (c - rr - w * k / 2, c - rr - w * k / 2, c + rr + w * k / 2, c + rr + w * k / 2)
        if not dash:
            draw.ellipse(bbox, outline=(*red, 255), width=round(w * k))
        else:
            for a in range(0, 360, 12):
                draw.arc(bbox, a, a + 7, fill=(*red, 255), width=round(w * k))
    for text, em, cy in LINES:
        f = ImageFont.truetype(path, size=em * k, index=index)
        draw.text((c, cy * k), text, font=f, fill=(*red, 255), anchor="mm")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def main() -> None:
    PLACEHOLDER_EMBLEM_SVG.write_text(make_svg(), encoding="utf-8")
    PLACEHOLDER_EMBLEM_PNG.write_bytes(make_png())
    print(f"wrote {PLACEHOLDER_EMBLEM_SVG} and {PLACEHOLDER_EMBLEM_PNG}")


if __name__ == "__main__":
    main()
