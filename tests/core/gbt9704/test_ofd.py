"""The OFD rendition (GB/T 33190-2016): a valid package with the PDF's text at the
layout's positions."""

import io
import posixpath
import re
import subprocess
import zipfile

import pytest
from fontTools.ttLib import TTFont
from lxml import etree

from gongwen.documents.gbt9704 import LayoutOptions, layout_document, render_ofd
from gongwen.documents.gbt9704.ofd import OFD_NS
from gongwen.documents.gbt9704.ofd_reader import OFDError, OFDReader, expand_delta

from .conftest import needs_tool
from .seed_notice import seed_notice

NS = {"ofd": OFD_NS}


def _xml(zf: zipfile.ZipFile, name: str):
    return etree.fromstring(zf.read(name))


def _loc(loc: str, base: str) -> str:
    return loc[1:] if loc.startswith("/") else posixpath.normpath(posixpath.join(base, loc))


def test_package_has_the_required_files(seed_ofd, seed_layout):
    zf = zipfile.ZipFile(io.BytesIO(seed_ofd))
    assert zf.testzip() is None
    names = zf.namelist()
    assert names[0] == "OFD.xml"
    for required in ("Doc_0/Document.xml", "Doc_0/PublicRes.xml", "Doc_0/DocumentRes.xml"):
        assert required in names
    pages = [n for n in names if re.fullmatch(r"Doc_0/Pages/Page_\d+/Content\.xml", n)]
    assert len(pages) == len(seed_layout.pages)


def test_every_xml_parses_in_the_ofd_namespace(seed_ofd):
    zf = zipfile.ZipFile(io.BytesIO(seed_ofd))
    xmls = [n for n in zf.namelist() if n.endswith(".xml")]
    for name in xmls:
        root = _xml(zf, name)
        for el in root.iter():
            assert etree.QName(el).namespace == OFD_NS, (name, el.tag)
            for attr in el.attrib:
                assert etree.QName(attr).namespace is None  # attributes unqualified
    assert etree.QName(_xml(zf, "OFD.xml")).localname == "OFD"
    ofd = _xml(zf, "OFD.xml")
    assert ofd.get("DocType") == "OFD" and ofd.get("Version") == "1.0"
    doc_id = ofd.findtext("ofd:DocBody/ofd:DocInfo/ofd:DocID", namespaces=NS)
    assert re.fullmatch(r"[0-9a-f]{32}", doc_id)
    assert ofd.findtext("ofd:DocBody/ofd:DocInfo/ofd:CreationDate", namespaces=NS) == "2006-07-18"


def test_every_referenced_resource_exists(seed_ofd):
    zf = zipfile.ZipFile(io.BytesIO(seed_ofd))
    names = set(zf.namelist())
    root = zf.namelist()[0]
    ofd = _xml(zf, root)
    doc_path = _loc(ofd.findtext("ofd:DocBody/ofd:DocRoot", namespaces=NS), "")
    assert doc_path in names
    doc = _xml(zf, doc_path)
    base = posixpath.dirname(doc_path)
    fonts, media = set(), set()
    for tag in ("PublicRes", "DocumentRes"):
        res_path = _loc(doc.findtext(f"ofd:CommonData/ofd:{tag}", namespaces=NS), base)
        assert res_path in names
        res = _xml(zf, res_path)
        res_base = _loc(res.get("BaseLoc"), posixpath.dirname(res_path))
        for font in res.iterfind("ofd:Fonts/ofd:Font", NS):
            assert _loc(font.findtext("ofd:FontFile", namespaces=NS), res_base) in names
            fonts.add(font.get("ID"))
        for mm in res.iterfind("ofd:MultiMedias/ofd:MultiMedia", NS):
            assert _loc(mm.findtext("ofd:MediaFile", namespaces=NS), res_base) in names
            media.add(mm.get("ID"))
    ids = []
    max_id = int(doc.findtext("ofd:CommonData/ofd:MaxUnitID", namespaces=NS))
    pages = doc.findall("ofd:Pages/ofd:Page", NS)
    for page in pages:
        ids.append(page.get("ID"))
        path = _loc(page.get("BaseLoc"), base)
        assert path in names
        content = _xml(zf, path)
        for el in content.iter():
            if el.get("ID"):
                ids.append(el.get("ID"))
        for t in content.iter(f"{{{OFD_NS}}}TextObject"):
            assert t.get("Font") in fonts
        for i in content.iter(f"{{{OFD_NS}}}ImageObject"):
            assert i.get("ResourceID") in media
    ids += list(fonts) + list(media)
    assert len(ids) == len(set(ids))  # one ID space for the document
    assert max(map(int, ids)) <= max_id


@needs_tool("pdftotext")
def test_ofd_text_equals_the_pdf_text(tmp_path, seed_ofd, seed_pdf, seed_layout):
    path = tmp_path / "doc.pdf"
    path.write_bytes(seed_pdf)
    pdf_text = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    reader = OFDReader(seed_ofd)
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    assert squash(reader.text()) == squash(pdf_text)
    assert reader.text() == seed_layout.text()
    assert reader.page_count == len(seed_layout.pages)


def test_glyph_positions_agree_with_the_layout(seed_ofd, seed_layout):
    reader = OFDReader(seed_ofd)
    n = 0
    for page in seed_layout.pages:
        glyphs = reader.glyphs(page.index)
        expected = [
            (ch, x, r.baseline, r.size)
            for r in page.runs
            for ch, x in zip(r.text, r.xs, strict=True)
        ]
        assert len(glyphs) == len(expected)
        for g, (ch, x, y, size) in zip(glyphs, expected, strict=True):
            assert g.char == ch
            assert g.x == pytest.approx(x, abs=0.01)
            assert g.y == pytest.approx(y, abs=0.01)
            assert g.size == pytest.approx(size, abs=0.001)
            n += 1
    assert n > 2000


def test_embedded_fonts_are_subsets_covering_their_text(seed_ofd):
    reader = OFDReader(seed_ofd)
    used: dict[str, set[str]] = {}
    for p in range(reader.page_count):
        for g in reader.glyphs(p):
            used.setdefault(g.font, set()).add(g.char)
    for fid, chars in used.items():
        data = reader.read(reader.fonts[fid]["file"])
        font = TTFont(io.BytesIO(data))
        assert "glyf" in font and "CFF " not in font
        cmap = font.getBestCmap()
        assert {ord(c) for c in chars} <= set(cmap)
        assert font["maxp"].numGlyphs < 2000  # a subset, not the whole CJK font


def test_rules_are_paths_with_their_colour(seed_ofd, seed_layout):
    zf = zipfile.ZipFile(io.BytesIO(seed_ofd))
    page0 = _xml(zf, "Doc_0/Pages/Page_0/Content.xml")
    paths = page0.findall(".//ofd:PathObject", NS)
    assert len(paths) == 1
    (rule,) = seed_layout.pages[0].rules
    p = paths[0]
    assert p.find("ofd:StrokeColor", NS).get("Value") == "255 0 0"
    assert float(p.get("LineWidth")) == pytest.approx(rule.width)
    bx, by, _, _ = map(float, p.get("Boundary").split())
    m = re.fullmatch(
        r"M (\S+) (\S+) L (\S+) (\S+)", p.findtext("ofd:AbbreviatedData", namespaces=NS)
    )
    x1, y1, x2, y2 = map(float, m.groups())
    assert (bx + x1, by + y1, bx + x2, by + y2) == pytest.approx(
        (rule.x1, rule.y1, rule.x2, rule.y2), abs=0.001
    )


def test_output_is_deterministic(seed_layout, seed_ofd):
    assert render_ofd(seed_layout) == seed_ofd
    for info in zipfile.ZipFile(io.BytesIO(seed_ofd)).infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_seal_preview_image_becomes_an_image_object(fonts):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", (64, 64), (255, 0, 0, 128)).save(buf, "PNG")
    doc = seed_notice(attachments=())
    lay = layout_document(
        doc, fonts, LayoutOptions(seal_images={doc.issuers[0].name: buf.getvalue()})
    )
    (seal,) = lay.seals
    data = render_ofd(lay)
    zf = zipfile.ZipFile(io.BytesIO(data))
    content = _xml(zf, f"Doc_0/Pages/Page_{seal.page}/Content.xml")
    (img,) = content.findall(".//ofd:ImageObject", NS)
    assert list(map(float, img.get("Boundary").split())) == pytest.approx(
        [seal.x, seal.y, seal.w, seal.h], abs=0.001
    )
    assert img.get("CTM") == f"{seal.w:g} 0 0 {seal.h:g} 0 0"
    res = _xml(zf, "Doc_0/DocumentRes.xml")
    (mm,) = res.findall(".//ofd:MultiMedia", NS)
    assert mm.get("Format") == "PNG" and mm.get("ID") == img.get("ResourceID")


def test_reader_expands_repeated_deltas():
    assert expand_delta("g 3 1.5 2 g 2 0.5") == [1.5, 1.5, 1.5, 2.0, 0.5, 0.5]
    assert expand_delta(None) == []


@pytest.mark.parametrize("data,msg", [(b"not a zip", "ZIP"), (None, "OFD.xml")])
def test_reader_refuses_broken_packages(data, msg):
    if data is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("hello.txt", "x")
        data = buf.getvalue()
    with pytest.raises(OFDError) as exc:
        OFDReader(data)
    assert msg in exc.value.message_zh


def test_reader_lists_files(seed_ofd):
    files = OFDReader(seed_ofd).files()
    assert "OFD.xml" in files and any(f.endswith(".ttf") for f in files)


def test_easyofd_reads_the_same_text(seed_ofd, seed_layout):
    """Cross-check with an independent reader when it is installed (easyofd is an optional
    test dependency: ``pip install easyofd`` pulls in PyMuPDF, numpy and onnxruntime)."""
    pytest.importorskip("easyofd", reason="the independent OFD reader easyofd is not installed "
                                          "(optional: pip install easyofd)")
    import base64

    from easyofd.parser_ofd.ofd_parser import OFDParser

    doc = OFDParser(base64.b64encode(seed_ofd).decode())()[0]
    pages = doc["page_info"]
    assert len(pages) == len(seed_layout.pages)
    text = "".join(t["text"] for p in sorted(pages) for t in pages[p]["text_list"])
    assert text == "".join(r.text for p in seed_layout.pages for r in p.runs)
    for p, page in enumerate(seed_layout.pages):  # the same text on each page, page by page
        assert "".join(t["text"] for t in pages[p]["text_list"]) == "".join(
            r.text for r in page.runs)
