import io

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont

from gongwen.documents.gbt9704 import layout_document
from gongwen.documents.gbt9704.fonts import (
    DEBIAN_SUBSTITUTES,
    FontError,
    FontRole,
    FontSet,
    FontSpec,
    load_face,
)

from .seed_notice import seed_notice


def _box_font(path, *, cff: bool, chars: str = "文A") -> str:
    """A tiny font whose glyphs are squares; TrueType or CFF outlines."""
    names = [".notdef"] + [f"g{ord(c):x}" for c in chars]
    fb = FontBuilder(1000, isTTF=not cff)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): f"g{ord(c):x}" for c in chars})
    if cff:
        glyphs = {}
        for n in names:
            pen = T2CharStringPen(1000, None)
            pen.moveTo((100, 0)), pen.lineTo((100, 800)), pen.lineTo((900, 800))
            pen.lineTo((900, 0)), pen.closePath()
            glyphs[n] = pen.getCharString()
        fb.setupCFF("Box-Regular", {"FullName": "Box"}, glyphs, {})
    else:
        glyphs = {}
        for n in names:
            pen = TTGlyphPen(None)
            pen.moveTo((100, 0)), pen.lineTo((100, 800)), pen.lineTo((900, 800))
            pen.lineTo((900, 0)), pen.closePath()
            glyphs[n] = pen.glyph()
        fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({n: (1000, 100) for n in names})
    fb.setupHorizontalHeader(ascent=880, descent=-120)
    fb.setupNameTable({"familyName": "Box", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))
    return str(path)


def test_default_fonts_are_the_debian_substitutes(fonts):
    assert set(fonts.substituted()) == set(FontRole)
    assert fonts.role(FontRole.FANGSONG).face.path == DEBIAN_SUBSTITUTES[FontRole.FANGSONG].path
    assert fonts.role(FontRole.HEITI).face.family == "WenQuanYi Zen Hei"


def test_a_configured_font_replaces_the_substitute(tmp_path):
    path = DEBIAN_SUBSTITUTES[FontRole.KAITI].path
    fs = FontSet.load({"仿宋": path})
    assert fs.role(FontRole.FANGSONG).face.path == path
    assert FontRole.FANGSONG not in fs.substituted()


def test_missing_font_file_raises_font_error_in_chinese(tmp_path):
    missing = str(tmp_path / "仿宋_GB2312.ttf")
    with pytest.raises(FontError) as exc:
        FontSet.load({FontRole.FANGSONG: missing})
    assert "找不到字体文件" in exc.value.message_zh
    assert missing in exc.value.message_zh


def test_cff_opentype_font_is_refused(tmp_path):
    path = _box_font(tmp_path / "box.otf", cff=True)
    with pytest.raises(FontError) as exc:
        FontSet.load({FontRole.FANGSONG: path})
    assert "CFF" in exc.value.message_zh


def test_font_without_chinese_is_refused(tmp_path):
    path = _box_font(tmp_path / "latin.ttf", cff=False, chars="AB")
    with pytest.raises(FontError) as exc:
        load_face(path)
    assert "不含汉字" in exc.value.message_zh


def test_a_file_that_is_no_font_is_refused(tmp_path):
    path = tmp_path / "fake.ttf"
    path.write_bytes(b"this is not a font at all")
    with pytest.raises(FontError) as exc:
        load_face(str(path))
    assert "不是有效的字体文件" in exc.value.message_zh


def test_bad_collection_index_is_refused():
    with pytest.raises(FontError) as exc:
        load_face(DEBIAN_SUBSTITUTES[FontRole.FANGSONG].path, 9)
    assert "字体集" in exc.value.message_zh


def test_without_substitutes_every_official_font_must_be_configured():
    with pytest.raises(FontError) as exc:
        FontSet.load({}, allow_substitutes=False)
    assert "仿宋_GB2312" in exc.value.message_zh


def test_character_missing_everywhere_gives_font_error(tmp_path):
    box = _box_font(tmp_path / "box.ttf", cff=False)
    fs = FontSet.load({r: FontSpec(box) for r in FontRole})
    fs.fallbacks = ()
    doc = seed_notice(attachments=(), title="文", body=seed_notice().body[:1])
    with pytest.raises(FontError) as exc:
        layout_document(doc, fs)
    assert "字体中没有字符" in exc.value.message_zh


def test_subset_is_a_valid_standalone_truetype_font_with_the_same_outlines(fonts):
    face = fonts.role(FontRole.FANGSONG).face  # a member of uming.ttc
    text = "关于推行公文无纸化传输的通知2006〔〕，。AB"
    sub = TTFont(io.BytesIO(face.subset(text)))
    orig = TTFont(face.path, fontNumber=face.index)
    cmap, ocmap = sub.getBestCmap(), orig.getBestCmap()
    assert set(cmap) == {ord(c) for c in text}
    assert sub["maxp"].numGlyphs == len(set(text)) + 1  # + .notdef
    gs, ogs = sub.getGlyphSet(), orig.getGlyphSet()
    for ch in text:
        a, b = RecordingPen(), RecordingPen()
        gs[cmap[ord(ch)]].draw(a)
        ogs[ocmap[ord(ch)]].draw(b)
        assert a.value == b.value, ch
        assert sub["hmtx"][cmap[ord(ch)]][0] == orig["hmtx"][ocmap[ord(ch)]][0]
    sub.save(io.BytesIO())  # fontTools can re-serialise it


def test_subset_pulls_in_composite_components(fonts):
    face = fonts.role(FontRole.HEITI).face
    orig = TTFont(face.path, fontNumber=face.index)
    glyf = orig["glyf"]
    cmap = orig.getBestCmap()
    composite = next(
        (cp for cp, name in sorted(cmap.items()) if cp > 0x4E00 and glyf[name].isComposite()),
        None,
    )
    if composite is None:
        pytest.skip("no composite CJK glyph in this font")
    sub = TTFont(io.BytesIO(face.subset(chr(composite))))
    g = sub["glyf"][sub.getBestCmap()[composite]]
    assert g.isComposite()
    assert all(c.glyphName in sub.getGlyphOrder() for c in g.components)


def test_subset_is_deterministic(fonts):
    face = fonts.role(FontRole.FANGSONG).face
    assert face.subset("公文") == face.subset("文公")


def test_can_draw_agrees_with_face_for(fonts):
    for ch in "关于通知〔〕①…—★ A1\u3000\u00a0":
        assert fonts.can_draw(ch), ch
        for role in FontRole:
            fonts.face_for(role, ch)  # no FontError
    for ch in "😀𠀀\u200b":
        assert not fonts.can_draw(ch), ch
        with pytest.raises(FontError):
            fonts.face_for(FontRole.FANGSONG, ch)


def test_can_draw_asks_every_role(tmp_path):
    """A character only the title's face has is refused: text may move between elements."""
    box = _box_font(tmp_path / "box.ttf", cff=False, chars="文A甲")
    plain = _box_font(tmp_path / "plain.ttf", cff=False, chars="文A")
    fs = FontSet.load({r: FontSpec(plain) for r in FontRole} | {FontRole.XIAOBIAOSONG: box})
    fs.fallbacks = ()
    assert fs.face_for(FontRole.XIAOBIAOSONG, "甲").path == box
    assert not fs.can_draw("甲") and fs.can_draw("A")
    assert fs.undrawable("A甲文甲B") == ["甲", "B"]
    assert fs.undrawable("A \n\t文") == []
