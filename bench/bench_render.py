"""Benchmark: lay out and render a 2-page 通知 to PDF and to OFD.

A thin wrapper: the benchmark lives in ``gongwen/documents/gbt9704/bench.py`` so that the
installed CLI runs it as ``gongwen bench render``. ``python bench/bench_render.py [--seconds N]
[--seed]`` gives the same output. Under pytest-benchmark the ``test_*`` functions below are
picked up when the file is passed explicitly (bench/ is outside ``testpaths``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gongwen.documents.gbt9704 import FontSet, layout_document, render_ofd, render_pdf  # noqa: E402
from gongwen.documents.gbt9704.bench import main, sample_notice  # noqa: E402


# pytest-benchmark entry points (``pytest bench/bench_render.py``), if it is installed.
def test_layout_pdf(benchmark):
    fonts = FontSet.default()
    doc = sample_notice()
    benchmark(lambda: render_pdf(layout_document(doc, fonts)))


def test_layout_ofd(benchmark):
    fonts = FontSet.default()
    doc = sample_notice()
    benchmark(lambda: render_ofd(layout_document(doc, fonts)))


if __name__ == "__main__":
    sys.exit(main())
