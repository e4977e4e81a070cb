"""Benchmark: lay out and render the seed notice (连政办发〔2006〕107号) to PDF and to OFD.

Run ``python bench/bench_render.py [--seconds 3]`` (plain script, no pytest-benchmark
needed); under pytest-benchmark the ``test_*`` functions below are picked up when the file
is passed explicitly (bench/ is outside ``testpaths``).

Reports documents per second and pages per second for layout alone, layout + PDF and
layout + OFD, single process. Issue 7 asks for ≥ 50 documents/s per core for a 2-page
通知 in each format; ``--two-page`` renders a 2-page cut of the notice.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gongwen.documents.gbt9704 import (  # noqa: E402
    FontSet,
    layout_document,
    render_ofd,
    render_pdf,
)
from tests.core.gbt9704.seed_notice import seed_notice  # noqa: E402


def _doc(two_page: bool):
    if two_page:
        # The notice up to its section 三 without the attachment: a 2-page 通知 with
        # 版头, body, seal block and 版记.
        full = seed_notice()
        return seed_notice(attachments=(), body=full.body[:10])
    return seed_notice()


def _measure(fn, seconds: float) -> tuple[int, float]:
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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    ap.add_argument("--two-page", action="store_true", help="the notice without its attachment")
    args = ap.parse_args(argv)
    fonts = FontSet.default()
    doc = _doc(args.two_page)
    pages = len(layout_document(doc, fonts).pages)
    cases = {
        "layout": lambda: layout_document(doc, fonts),
        "layout+pdf": lambda: render_pdf(layout_document(doc, fonts)),
        "layout+ofd": lambda: render_ofd(layout_document(doc, fonts)),
    }
    print(f"seed notice, {pages} pages, {args.seconds:g} s per case")
    for name, fn in cases.items():
        n, elapsed = _measure(fn, args.seconds)
        docs = n / elapsed
        print(
            f"{name:12s} {docs:8.1f} documents/s {docs * pages:8.1f} pages/s "
            f"{1000 * elapsed / n:7.2f} ms/document"
        )
    return 0


# pytest-benchmark entry points (``pytest bench/bench_render.py``), if it is installed.
def test_layout_pdf(benchmark):
    fonts = FontSet.default()
    doc = _doc(True)
    benchmark(lambda: render_pdf(layout_document(doc, fonts)))


def test_layout_ofd(benchmark):
    fonts = FontSet.default()
    doc = _doc(True)
    benchmark(lambda: render_ofd(layout_document(doc, fonts)))


if __name__ == "__main__":
    sys.exit(main())
