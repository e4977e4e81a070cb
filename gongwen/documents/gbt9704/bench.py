"""Benchmark: lay out a 2-page 通知 and render it to PDF and to OFD (``gongwen bench render``).

Reports documents/s and pages/s, single process, for layout alone, layout + PDF and
layout + OFD, and a reference measured in the same run: reportlab drawing the same text
(same font file, embedded as a TrueType subset, 28 characters a line, 22 lines a page)
without our layout — line breaking, grid, heading fonts, 版头/版记 — so the ratio shows what
the GB/T 9704 layout costs over plain text output. Issue 7 asks for ≥ 50 documents/s per core
in each format.

``--seed`` measures the seed notice 连政办发〔2006〕107号 with its attachment instead (from the
repository's tests, when they are importable); ``--fonts 仿宋=/path.ttf`` measures other fonts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import time
from collections.abc import Callable

from .fonts import FontRole, FontSet
from .layout import layout_document
from .model import DocNumber, DocType, Issuer, OfficialDocument, body_from_text
from .ofd import render_ofd
from .pdf import render_pdf

__all__ = ["main", "measure", "sample_notice"]

_BODY = """\
为加快我市电子政务应用步伐，加强节约型机关建设，提高政府行政效能，缩短公文运转周期，经研究，决定从2006年7月24日起，对全市已联网单位实行公文无纸化传输。现将有关事项通知如下：
一、目标任务
公文无纸化传输工作分为两个实施阶段。
第一阶段，传输范围为全市联入电子政务内网的单位。传输内容为以市政府、市政府办公室名义的发文；国家、省相关文件；各联网单位上报市政府的请示性文件。
第二阶段，传输范围扩大至所有市政府发文单位。传输内容从普发性文件扩大至所有文件。
所有密级文件不得通过无纸化传输。
二、时间安排
2006年7月24日至12月31日，市政府办公室下发文件采用电子发文与纸质发文同时运行，视运行情况逐步减少纸质发文数量。在此期间，各联网单位上报的请示性文件，需采用纸质文件和电子文件同时上报的方式，如只上报纸质文件，市政府办公室原则上不再受理。
2007年1月1日起，市政府办公室将实现与所有政府发文单位的计算机联网，全面推行公文无纸化传输，基本取消各类纸质发文。
"""


def sample_notice() -> OfficialDocument:
    """A 2-page 通知 (文件格式): 版头, title, 主送, body with headings, seal block, 版记."""
    issuer = "连云港市人民政府办公室"
    return OfficialDocument(
        doc_type=DocType.NOTICE,
        issuers=(Issuer(issuer),),
        title="市政府办公室关于推行\n公文无纸化传输工作的通知",
        doc_number=DocNumber("连政办发", 2006, 107),
        main_recipients="各县、区人民政府，市各委、办、局，市各直属单位：",
        body=body_from_text(_BODY),
        date=dt.date(2006, 7, 18),
        copy_to=("市委各部门", "市人大常委会办公室", "市政协办公室", "市法院", "市检察院"),
        printer=issuer,
        print_date=dt.date(2006, 7, 18),
    )


def _seed_notice() -> OfficialDocument:
    from tests.core.gbt9704.seed_notice import seed_notice  # a repository checkout only

    return seed_notice()


def reference_pdf(doc: OfficialDocument, fonts: FontSet, pages: int) -> Callable[[], bytes]:
    """reportlab drawing the document's text as plain lines: the same body font, subset
    embedded, 28 characters a line, 22 lines a page, ``pages`` pages at most."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    face = fonts.role(FontRole.FANGSONG).face
    name = "bench-ref-" + face.key
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, face.path, subfontIndex=face.index))
    text = "".join(
        [doc.title.replace("\n", ""), str(doc.doc_number or ""), doc.main_recipients]
        + [p.full_text for p in doc.body]
    )
    lines = [text[i : i + 28] for i in range(0, len(text), 28)]
    mm = 72 / 25.4

    def run() -> bytes:
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=(210 * mm, 297 * mm), invariant=1, initialFontName=name)
        for start in range(0, min(len(lines), 22 * pages), 22):
            c.setFont(name, 16)
            y = (297 - 45) * mm
            for line in lines[start : start + 22]:
                c.drawString(28 * mm, y, line)
                y -= 225 / 22 * mm
            c.showPage()
        c.save()
        return buf.getvalue()

    return run


def measure(fn: Callable[[], object], seconds: float) -> tuple[int, float]:
    """(calls, elapsed seconds) of calling ``fn`` for at least ``seconds`` after a warm-up."""
    fn()  # warm up: font loading, reportlab registration
    n = 0
    start = time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n, elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="gongwen bench render", description=(__doc__ or "").splitlines()[0]
    )
    ap.add_argument("--seconds", type=float, default=2.0, help="time per case (default 2)")
    ap.add_argument(
        "--seed", action="store_true", help="the seed notice with its attachment instead"
    )
    ap.add_argument(
        "--fonts", action="append", default=[], metavar="ROLE=PATH", help="e.g. 仿宋=/x.ttf"
    )
    args = ap.parse_args(argv)
    fonts = FontSet.load(dict(f.split("=", 1) for f in args.fonts))
    doc = _seed_notice() if args.seed else sample_notice()
    pages = len(layout_document(doc, fonts).pages)
    ref = reference_pdf(doc, fonts, pages)
    cases: dict[str, Callable[[], object]] = {
        "layout": lambda: layout_document(doc, fonts),
        "layout+pdf": lambda: render_pdf(layout_document(doc, fonts)),
        "layout+ofd": lambda: render_ofd(layout_document(doc, fonts)),
        "reference": ref,
    }
    kind = "seed notice" if args.seed else "通知"
    print(f"{kind}, {pages} pages, {args.seconds:g} s per case, one process")
    rates: dict[str, float] = {}
    for name, fn in cases.items():
        n, elapsed = measure(fn, args.seconds)
        rates[name] = docs = n / elapsed
        print(
            f"{name:12s} {docs:8.1f} documents/s {docs * pages:8.1f} pages/s "
            f"{1000 * elapsed / n:7.2f} ms/document"
        )
    print(
        "reference = reportlab drawing the same text in plain lines (same font, subset "
        "embedded), measured above"
    )
    for name in ("layout+pdf", "layout+ofd"):
        ok = "ok" if rates[name] >= 50 else "BELOW GOAL"
        print(
            f"{name:12s} {rates[name] / rates['reference']:6.2f} × reference   "
            f"goal ≥ 50 documents/s: {ok}"
        )
    return 0
