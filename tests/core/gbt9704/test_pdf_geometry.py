"""Read the PDF's own drawing operations (pypdf) and check them against GB/T 9704-2012,
independently of the layout objects: the red rule, the first body baseline, the line
pitch and the characters per line (±0.5 mm)."""

import io
import itertools

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

PT = 25.4 / 72
TOL = 0.5  # mm


def _ops(pdf: bytes, page: int):
    reader = PdfReader(io.BytesIO(pdf))
    p = reader.pages[page]
    return ContentStream(p.get_contents(), reader).operations


def _raw(item) -> bytes:
    return item if isinstance(item, bytes) else item.original_bytes


def _texts(pdf: bytes, page: int):
    """(x mm, baseline mm from top, size pt, glyph count, fill colour) per BT block."""
    out = []
    size = fill = None
    x = y = 0.0
    for operands, op in _ops(pdf, page):
        if op == b"rg":
            fill = tuple(float(v) for v in operands)
        elif op == b"Tm":
            x, y = float(operands[4]) * PT, 297 - float(operands[5]) * PT
        elif op == b"Tf":
            size = float(operands[1])
        elif op == b"TJ":
            n = sum(len(_raw(item)) for item in operands[0] if isinstance(item, (str, bytes)))
            if out and out[-1][:3] == (x, y, size):
                out[-1] = (x, y, size, out[-1][3] + n, fill)
            else:
                out.append((x, y, size, n, fill))
    return out


def _red_lines(pdf: bytes, page: int):
    lines = []
    stroke = None
    start = None
    for operands, op in _ops(pdf, page):
        if op == b"RG":
            stroke = tuple(float(v) for v in operands)
        elif op == b"m":
            start = (float(operands[0]) * PT, 297 - float(operands[1]) * PT)
        elif op == b"l" and stroke == (1, 0, 0):
            lines.append((start, (float(operands[0]) * PT, 297 - float(operands[1]) * PT)))
    return lines


def test_red_rule_spans_the_text_width_under_the_number(seed_pdf):
    (((x1, y1), (x2, y2)),) = _red_lines(seed_pdf, 0)
    assert y1 == pytest.approx(y2)
    assert x1 == pytest.approx(28, abs=TOL) and x2 == pytest.approx(184, abs=TOL)
    texts = _texts(seed_pdf, 0)
    number = next(t for t in texts if t[2] == 16 and t[4] == (0, 0, 0))  # 发文字号, first 3号 run
    glyph_bottom = number[1] + 0.12 * 16 * PT
    assert y1 - glyph_bottom == pytest.approx(4, abs=TOL)
    mark = next(t for t in texts if t[4] == (1, 0, 0))
    assert mark[1] - 0.88 * mark[2] * PT == pytest.approx(37 + 35, abs=TOL)  # mark top


def test_body_baselines_pitch_and_characters_per_line(seed_pdf):
    texts = [t for t in _texts(seed_pdf, 1) if t[2] == 16]
    baselines = sorted({round(t[1], 2) for t in texts if t[1] < 262})
    assert len(baselines) == 22
    # First line: em box centred in the first 225/22 mm line of the 版心 (top 37 mm).
    pitch = 225 / 22
    assert baselines[0] == pytest.approx(37 + (pitch - 16 * PT) / 2 + 0.88 * 16 * PT, abs=TOL)
    for a, b in itertools.pairwise(baselines):
        assert b - a == pytest.approx(pitch, abs=TOL)
    full = [t for t in texts if t[3] == 28]
    assert len(full) >= 5
    for x, *_ in full:
        assert x == pytest.approx(28, abs=TOL)
    assert all(t[0] >= 28 - TOL for t in texts)
