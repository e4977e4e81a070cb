"""The PDF rendition: text extractable, fonts embedded as subsets, A4, glyphs in place."""

import re
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from gongwen.documents.gbt9704 import render_pdf
from gongwen.documents.gbt9704.layout import PT

from .conftest import needs_tool

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "gbt9704"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _run(tmp_path, tool, pdf: bytes, *args) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [tool, *args, str(path), "-"] if tool == "pdftotext" else [tool, *args, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@needs_tool("pdftotext")
def test_pdftotext_gives_back_the_text_in_reading_order(tmp_path, seed_pdf, seed_layout):
    out = _run(tmp_path, "pdftotext", seed_pdf, "-raw", "-enc", "UTF-8")
    assert _squash(out) == _squash(seed_layout.text())
    first = out.splitlines()
    assert first[0] == "连云港市人民政府办公室文件"
    assert first[1] == "连政办发〔2006〕107号"
    assert "为加快我市电子政务应用步伐" in out


@needs_tool("pdffonts")
def test_every_font_is_embedded_as_a_subset(tmp_path, seed_pdf):
    out = _run(tmp_path, "pdffonts", seed_pdf)
    rows = out.splitlines()[2:]
    assert len(rows) >= 4
    for row in rows:
        cols = row.split()
        # name type [type2] encoding emb sub uni object gen
        emb, sub, uni = cols[-5], cols[-4], cols[-3]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row
        assert "TrueType" in row


@needs_tool("pdfinfo")
def test_pages_are_a4(tmp_path, seed_pdf, seed_layout):
    out = _run(tmp_path, "pdfinfo", seed_pdf)
    assert re.search(r"Page size:\s+595\.2\d* x 841\.8\d* pts \(A4\)", out)
    assert re.search(rf"Pages:\s+{len(seed_layout.pages)}\b", out)
    assert "Title:" in out and "市政府办公室关于推行公文无纸化传输工作的通知" in out


@needs_tool("pdftotext")
def test_glyph_positions_in_the_pdf_match_the_layout(tmp_path, seed_pdf, seed_layout):
    """poppler's word boxes start where the layout put the first glyph of each run."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(seed_pdf)
    html = tmp_path / "bbox.html"
    subprocess.run(["pdftotext", "-bbox", str(path), str(html)], check=True)
    tree = etree.parse(str(html))
    ns = "{http://www.w3.org/1999/xhtml}"
    checked = 0
    for pno, page in enumerate(tree.iter(f"{ns}page")):
        runs = seed_layout.pages[pno].runs
        for word in page.iter(f"{ns}word"):
            text = word.text or ""
            x = float(word.get("xMin")) * PT
            cands = [r for r in runs if r.text.startswith(text) and len(text) >= 4]
            if len(cands) == 1:
                assert x == pytest.approx(cands[0].xs[0], abs=0.02), text
                checked += 1
    assert checked > 50


def test_rendering_is_deterministic(seed_layout, seed_pdf):
    assert render_pdf(seed_layout) == seed_pdf


@needs_tool("pdftoppm")
def test_first_page_looks_like_a_red_header_document(tmp_path, seed_pdf, fonts):
    """Render to PNG (kept under test-artifacts/ for people to look at) and check the red
    mark and red rule are where a 红头文件 has them."""
    from PIL import Image

    path = tmp_path / "seed.pdf"
    path.write_bytes(seed_pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == 6
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for png in pngs:
        (ARTIFACTS / f"seed-{png.name}").write_bytes(png.read_bytes())
    im = Image.open(pngs[0]).convert("RGB")
    scale = im.width / 210

    def red_rows(y0, y1):
        rows = []
        for y in range(int(y0 * scale), int(y1 * scale)):
            n = sum(
                1
                for x in range(im.width)
                if (p := im.getpixel((x, y)))[0] > 200 and p[1] < 90 and p[2] < 90
            )
            rows.append(n)
        return rows

    assert max(red_rows(72, 90)) > 40  # the red mark
    assert max(red_rows(115, 125)) > 0.6 * 156 * scale  # the red separator
    assert max(red_rows(125, 297)) == 0  # nothing else is red (no seal image given)


def test_concurrent_renders_give_identical_bytes(seed_layout, seed_pdf):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: render_pdf(seed_layout), range(8)))
    assert all(o == seed_pdf for o in outs)
