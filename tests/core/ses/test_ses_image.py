"""Seal images per 国发〔1999〕25号 (STANDARDS.md §4): size, colour, transparency, emblem."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

import pytest
from lxml import etree
from PIL import Image

from gongwen.seals.ses.image import (
    PLACEHOLDER_EMBLEM_PNG,
    PLACEHOLDER_EMBLEM_SVG,
    SEAL_RULES,
    Emblem,
    SealImageError,
    SealImageSpec,
    SealLevel,
    _layout,
    _one_colour_png,
    render_png,
    render_svg,
    resolve_font,
    seal_picture,
)

DEPT = SealImageSpec("连云港市人力资源和社会保障局", SealLevel.DEPARTMENT)
COUNTY = SealImageSpec("灌南县人民政府", SealLevel.LOCAL_GOVERNMENT)
SVG_NS = "{http://www.w3.org/2000/svg}"


def _png(spec: SealImageSpec, dpi: int = 600) -> Image.Image:
    """The seal's pixels as RGBA, whatever PNG colour type the file uses."""
    img = Image.open(io.BytesIO(render_png(spec, dpi)))
    rgba = img.convert("RGBA")
    rgba.info.update(img.info)
    return rgba


@pytest.fixture(scope="module")
def dept_png() -> Image.Image:
    return _png(DEPT)


@pytest.fixture(scope="module")
def county_png() -> Image.Image:
    return _png(COUNTY)


def test_rules_follow_standards_md():
    assert SEAL_RULES[SealLevel.STATE_COUNCIL].diameter_mm == 60
    assert SEAL_RULES[SealLevel.PROVINCIAL].diameter_mm == 50
    assert SEAL_RULES[SealLevel.LOCAL_GOVERNMENT].diameter_mm == 45
    assert SEAL_RULES[SealLevel.TOWNSHIP_GOVERNMENT].diameter_mm == 42
    assert SEAL_RULES[SealLevel.DEPARTMENT].max_diameter_mm == 45
    # governments (county level and up) carry the national emblem, departments a star
    assert SEAL_RULES[SealLevel.LOCAL_GOVERNMENT].emblem is Emblem.NATIONAL_EMBLEM
    assert SEAL_RULES[SealLevel.PROVINCIAL].emblem is Emblem.NATIONAL_EMBLEM
    assert SEAL_RULES[SealLevel.DEPARTMENT].emblem is Emblem.STAR
    assert SEAL_RULES[SealLevel.ENTERPRISE_OR_INSTITUTION].emblem is Emblem.STAR
    assert SEAL_RULES[SealLevel.PREFECTURE_OFFICE].emblem is Emblem.STAR


@pytest.mark.parametrize(
    ("level", "pixels"),
    [
        (SealLevel.DEPARTMENT, 992),  # 42 mm at 600 dpi
        (SealLevel.LOCAL_GOVERNMENT, 1063),  # 45 mm
        (SealLevel.PROVINCIAL, 1181),  # 50 mm
        (SealLevel.STATE_COUNCIL, 1417),  # 60 mm
    ],
)
def test_png_size_is_the_diameter_at_the_resolution(level, pixels):
    img = _png(SealImageSpec("某某单位", level))
    assert img.size == (pixels, pixels)
    d = SEAL_RULES[level].diameter_mm
    assert pixels == round(d / 25.4 * 600)
    assert img.mode == "RGBA"
    assert tuple(round(v) for v in img.info["dpi"]) == (600, 600)


def test_png_is_indexed_one_colour_with_sixteen_alpha_levels():
    """The file is a 4-bit indexed PNG whose palette is the seal colour at 16 alpha levels
    (tRNS), clear and full ink included."""
    data = render_png(DEPT)
    img = Image.open(io.BytesIO(data))
    assert img.mode == "P"
    assert img.info["transparency"] == bytes(17 * i for i in range(16))
    palette = img.getpalette()
    assert {tuple(palette[i:i + 3]) for i in range(0, len(palette), 3)} == {(0xE6, 0x00, 0x12)}
    assert set(img.tobytes()) <= set(range(16))
    alpha = img.convert("RGBA").getchannel("A")
    assert alpha.getextrema() == (0, 255)
    redone = Image.new("RGBA", img.size, (0xE6, 0x00, 0x12, 0))
    redone.putalpha(alpha)
    plain = io.BytesIO()
    redone.save(plain, format="PNG", optimize=True)
    assert len(data) < 0.75 * len(plain.getvalue())


def test_alpha_is_rounded_to_the_nearest_level():
    """Every alpha value 0…255 comes back within 8 of itself; 0 and 255 exactly."""
    mask = Image.frombytes("L", (256, 4), bytes(range(256)) * 4)
    data = _one_colour_png(mask, (0xE6, 0x00, 0x12), 600)
    alpha = Image.open(io.BytesIO(data)).convert("RGBA").getchannel("A").tobytes()[:256]
    assert max(abs(a - v) for v, a in enumerate(alpha)) <= 8
    assert alpha[0] == 0 and alpha[255] == 255
    assert sorted(set(alpha)) == [17 * i for i in range(16)]


def test_higher_resolution():
    img = _png(DEPT, dpi=1200)
    assert img.size == (1984, 1984)


def test_below_print_resolution_is_refused():
    with pytest.raises(SealImageError):
        render_png(DEPT, dpi=300)


def test_transparent_background_and_red_ink(dept_png):
    img = dept_png
    alpha = img.getchannel("A")
    w = img.size[0]
    for corner in [(0, 0), (w - 1, 0), (0, w - 1), (w - 1, w - 1)]:
        assert alpha.getpixel(corner) == 0
    # every pixel that shows is seal red
    raw = img.tobytes()
    colours = {raw[i : i + 3] for i in range(0, len(raw), 4) if raw[i + 3] > 0}
    assert colours == {bytes((0xE6, 0x00, 0x12))}
    opaque = sum(1 for a in alpha.tobytes() if a > 128)
    assert 0.08 * w * w < opaque < 0.5 * w * w  # ink, not a filled disc


def test_ring_is_round_and_proportional(dept_png):
    alpha = dept_png.getchannel("A")
    w = dept_png.size[0]
    c = (w - 1) / 2
    border_px = 0.03 * 42 / 25.4 * 600
    r = w / 2 - border_px / 2
    for k in range(72):
        ang = math.radians(k * 5)
        x, y = round(c + r * math.cos(ang)), round(c + r * math.sin(ang))
        assert alpha.getpixel((x, y)) > 200, k
    # inside the ring, just below it, there is no ink at the bottom (no name down there)
    assert alpha.getpixel((round(c), round(c + r - border_px * 2))) == 0


def test_star_in_the_centre_for_departments(dept_png):
    alpha = dept_png.getchannel("A")
    c = dept_png.size[0] // 2
    assert alpha.getpixel((c, c)) == 255
    # the star's top point is inked, the notch beside it is not
    ro = 0.17 * 42 / 25.4 * 600
    assert alpha.getpixel((c, round(c - ro * 0.9))) > 200
    assert alpha.getpixel((round(c - ro * 0.35), round(c - ro * 0.75))) == 0


def test_centre_emblem_differs_by_level(dept_png):
    county_42 = _png(SealImageSpec("灌南县人民政府", SealLevel.TOWNSHIP_GOVERNMENT))
    assert county_42.size == dept_png.size  # both 42 mm
    c = dept_png.size[0] // 2
    box = (c - 150, c - 150, c + 150, c + 150)
    a = dept_png.getchannel("A").crop(box).tobytes()
    b = county_42.getchannel("A").crop(box).tobytes()
    differing = sum(1 for x, y in zip(a, b, strict=True) if abs(x - y) > 128)
    assert differing > 0.1 * len(a)


def test_configured_emblem_artwork_is_used(tmp_path, county_png):
    art = tmp_path / "emblem.png"
    Image.new("RGBA", (100, 100), (0, 0, 0, 255)).save(art)  # a filled square
    img = _png(SealImageSpec("灌南县人民政府", SealLevel.LOCAL_GOVERNMENT, emblem_path=art))
    alpha = img.getchannel("A")
    c = img.size[0] // 2
    half = 0.38 * 45 / 25.4 * 600 / 2
    # a corner of the square box is inked; the placeholder (a ring) leaves it empty
    corner = (round(c - half + 5), round(c - half + 5))
    assert alpha.getpixel(corner) == 255
    assert county_png.getchannel("A").getpixel(corner) == 0
    svg = render_svg(SealImageSpec("灌南县人民政府", SealLevel.LOCAL_GOVERNMENT, emblem_path=art))
    assert "data:image/png;base64," in svg


def test_missing_emblem_artwork_is_a_clear_error(tmp_path):
    with pytest.raises(SealImageError) as e:
        render_png(COUNTY.__class__(COUNTY.name, COUNTY.level, emblem_path=tmp_path / "no.png"))
    assert "国徽图案文件不存在" in e.value.message_zh


def test_name_reads_left_to_right_over_the_top():
    lay = _layout(DEPT)
    r = lay.diameter / 2
    centres = [g.transform.transformPoint(lay.font.ref_center) for g in lay.glyphs]
    assert [g.char for g in lay.glyphs] == list(DEPT.name)
    # math angle of each character around the centre (y up): decreasing = clockwise,
    # i.e. from the left over the top to the right
    angles = [math.degrees(math.atan2(r - y, x - r)) for x, y in centres]
    angles = [a + 360 if a < -90 else a for a in angles]  # continuous over the top
    assert angles == sorted(angles, reverse=True)
    assert angles[0] - 90 == pytest.approx(90 - angles[-1])  # centred on the top
    mid = len(centres) // 2
    assert centres[mid][1] == min(y for _, y in centres)  # the middle character at the top
    assert centres[0][0] < r < centres[-1][0]
    assert abs(centres[0][0] - (2 * r - centres[-1][0])) < 1e-6  # symmetric
    # every character sits at the same distance from the centre
    dists = {round(math.hypot(x - r, y - r), 6) for x, y in centres}
    assert len(dists) == 1


def test_long_names_are_condensed_within_the_arc():
    long = SealImageSpec("连云港市人民政府办公室电子政务中心信息化建设管理处", SealLevel.DEPARTMENT)
    lay = _layout(long)
    assert len(lay.glyphs) == len(long.name)
    img = Image.open(io.BytesIO(render_png(long)))
    assert img.size == (992, 992)


def test_diameter_override_within_the_maximum():
    assert SealImageSpec("某局", SealLevel.DEPARTMENT, diameter_mm=45).diameter == 45
    with pytest.raises(SealImageError):
        SealImageSpec("某局", SealLevel.DEPARTMENT, diameter_mm=50).diameter  # noqa: B018
    with pytest.raises(SealImageError):
        SealImageSpec("某县人民政府", SealLevel.LOCAL_GOVERNMENT, diameter_mm=42).diameter  # noqa: B018


def test_svg_is_xml_with_the_right_viewbox_and_outlined_text():
    svg = render_svg(DEPT)
    root = etree.fromstring(svg.encode())
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox") == "0 0 42 42"
    assert (root.get("width"), root.get("height")) == ("42mm", "42mm")
    assert root.find(f"{SVG_NS}text") is None  # glyph outlines, no font needed
    paths = root.findall(f"{SVG_NS}path")
    assert paths and len(paths[-1].get("d")) > 1000
    assert root.find(f"{SVG_NS}polygon") is not None  # the star
    circle = root.find(f"{SVG_NS}circle")
    assert float(circle.get("r")) + float(circle.get("stroke-width")) / 2 == pytest.approx(21)


def test_svg_of_a_government_seal_embeds_the_emblem_artwork():
    root = etree.fromstring(render_svg(COUNTY).encode())
    assert root.get("viewBox") == "0 0 45 45"
    assert root.find(f"{SVG_NS}polygon") is None
    nested = root.find(f"{SVG_NS}g/{SVG_NS}svg")
    assert nested is not None and float(nested.get("width")) == pytest.approx(0.38 * 45)


def test_placeholder_artwork_is_clearly_marked():
    svg = PLACEHOLDER_EMBLEM_SVG.read_text(encoding="utf-8")
    assert "国徽占位图" in svg and "NOT the national emblem" in svg
    img = Image.open(PLACEHOLDER_EMBLEM_PNG)
    assert img.mode == "RGBA" and img.size == (1000, 1000)


def test_font_errors_are_clear(tmp_path):
    with pytest.raises(SealImageError) as e:
        render_png(SealImageSpec("某局", SealLevel.DEPARTMENT, font_path=tmp_path / "none.ttf"))
    assert "印章字体文件不存在" in e.value.message_zh
    latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    import os

    if os.path.exists(latin):
        with pytest.raises(SealImageError) as e:
            render_svg(SealImageSpec("某局", SealLevel.DEPARTMENT, font_path=latin))
        assert "缺少" in e.value.message_zh


def test_default_font_is_an_installed_cjk_font():
    path, _ = resolve_font()
    assert path.endswith((".ttc", ".ttf"))


def test_seal_picture_goes_into_a_seal(gm_pki):
    from gongwen.seals.ses.seal import build_seal, parse_seal, signer_from_key

    pic = seal_picture(DEPT)
    assert (pic.type, pic.width_mm, pic.height_mm) == ("png", 42, 42)
    der = build_seal(
        es_id="3207000001",
        name=DEPT.name,
        holder_certs=[gm_pki.holder_cert],
        valid_start=datetime(2025, 3, 1, tzinfo=UTC),
        valid_end=datetime(2027, 3, 1, tzinfo=UTC),
        picture_type=pic.type,
        picture_data=pic.data,
        picture_width_mm=pic.width_mm,
        picture_height_mm=pic.height_mm,
        maker_cert=gm_pki.maker_cert,
        sign=signer_from_key(gm_pki.maker_key),
    )
    info = parse_seal(der)
    assert Image.open(io.BytesIO(info.picture.data)).size == (992, 992)
