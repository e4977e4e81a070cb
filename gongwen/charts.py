"""Charts for the statistics page (R-AUDIT-2), drawn on the server as inline SVG.

Government intranets are offline and the pages are server-rendered, so a chart is plain SVG
markup: no JavaScript library, no CDN, printable, readable by a screen reader (``<title>``
and a ``<desc>`` that lists every value). The text inherits the page's font.

* :func:`bar_chart`: grouped or stacked bars, one group per label (e.g. a month);
* :func:`line_chart`: one line per series, gaps where a value is missing (``None``);
* either may shade stretches of labels behind the marks (:class:`Band`, e.g. the months of
  a 纸电并行 period), named in the chart and in its description.

Each mark carries ``data-series``, ``data-label`` and ``data-value`` so that a test (or a
script) reads back what was drawn. Pure: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

__all__ = ["PALETTE", "Band", "Series", "bar_chart", "line_chart", "nice_ticks"]

# Distinguishable in print and for the common colour-vision deficiencies (Okabe-Ito order).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555")


@dataclass(frozen=True)
class Series:
    """One named row of values, one per label; ``None`` where there is no value."""

    name: str
    values: Sequence[float | None]
    color: str = ""


@dataclass(frozen=True)
class Band:
    """Labels ``first``..``last`` (indexes, inclusive) shaded behind the marks and named."""

    first: int
    last: int
    name: str


BAND_FILL = "#f1e4bf"  # a pale ochre: behind any palette colour, and visible in print
BAND_TEXT = "#7a5c00"


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int = 52
    right: int = 12
    top: int = 34
    bottom: int = 46

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Axis ticks from 0 to at least ``top`` in steps of 1, 2 or 5 × 10ⁿ (0 and 1 when
    ``top`` is 0 or less)."""
    if not top > 0 or math.isinf(top) or math.isnan(top):
        return [0.0, 1.0]
    raw = top / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def _fmt(value: float, unit: str = "") -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return text + unit


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _colors(series: Sequence[Series]) -> list[str]:
    return [s.color or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]


def _open(frame: _Frame, title: str, labels: Sequence[str], series: Sequence[Series],
          unit: str, kind: str, bands: Sequence[Band] = ()) -> list[str]:
    desc = "；".join(
        f"{s.name}：" + "，".join(
            f"{lab} {'无' if v is None else _fmt(v, unit)}" for lab, v in zip(labels, s.values, strict=True))
        for s in series)
    for band in _visible(bands, labels):
        desc += f"；阴影为{band.name}：{labels[band.first]} 至 {labels[band.last]}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'viewBox="0 0 {frame.width} {frame.height}" width="100%" '
        f'style="max-width:{frame.width}px" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        f'<text x="{frame.left}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]


def _visible(bands: Sequence[Band], labels: Sequence[str]) -> list[Band]:
    """The bands clipped to the labels drawn; a band wholly outside them is left out."""
    out = []
    for band in bands:
        first, last = max(band.first, 0), min(band.last, len(labels) - 1)
        if first <= last:
            out.append(Band(first, last, band.name))
    return out


def _bands(frame: _Frame, labels: Sequence[str], bands: Sequence[Band]) -> list[str]:
    out = []
    slot = frame.plot_w / max(len(labels), 1)
    for band in _visible(bands, labels):
        x = frame.left + slot * band.first
        w = slot * (band.last - band.first + 1)
        span = f"{labels[band.first]} 至 {labels[band.last]}"
        out.append(f'<rect x="{_n(x)}" y="{frame.top}" width="{_n(w)}" '
                   f'height="{_n(frame.plot_h)}" fill="{BAND_FILL}" '
                   f'data-band={quoteattr(band.name)} data-first={quoteattr(labels[band.first])} '
                   f'data-last={quoteattr(labels[band.last])}>'
                   f"<title>{escape(f'{band.name}：{span}')}</title></rect>")
        out.append(f'<text x="{_n(x + 3)}" y="{frame.top + 11}" font-size="10" '
                   f'fill="{BAND_TEXT}">{escape(band.name)}</text>')
    return out


def _axes(frame: _Frame, ticks: list[float], labels: Sequence[str], unit: str) -> list[str]:
    out = []
    top = ticks[-1]
    for t in ticks:
        y = frame.top + frame.plot_h * (1 - t / top)
        out.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{_n(y)}" '
                   f'y2="{_n(y)}" stroke="#ddd" stroke-width="1"/>')
        out.append(f'<text x="{frame.left - 6}" y="{_n(y + 4)}" font-size="11" '
                   f'text-anchor="end" fill="#555">{escape(_fmt(t, unit))}</text>')
    slot = frame.plot_w / max(len(labels), 1)
    every = max(1, math.ceil(len(labels) * 44 / frame.plot_w))  # ~44 px per label at least
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = frame.left + slot * (i + 0.5)
        out.append(f'<text x="{_n(x)}" y="{_n(frame.top + frame.plot_h + 16)}" font-size="11" '
                   f'text-anchor="middle" fill="#555">{escape(label)}</text>')
    base = frame.top + frame.plot_h
    out.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{_n(base)}" '
               f'y2="{_n(base)}" stroke="#888" stroke-width="1"/>')
    return out


def _legend(frame: _Frame, series: Sequence[Series], colors: list[str]) -> list[str]:
    out, x = [], frame.left
    y = frame.height - 12
    for s, color in zip(series, colors, strict=True):
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 14}" y="{y}" font-size="12">{escape(s.name)}</text>')
        x += 28 + 13 * len(s.name)
    return out


def _check(labels: Sequence[str], series: Sequence[Series]) -> None:
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for "
                             f"{len(labels)} labels")
        if any(v is not None and (v < 0 or math.isnan(v)) for v in s.values):
            raise ValueError(f"series {s.name!r}: values must be ≥ 0")


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], *,
              stacked: bool = False, unit: str = "", width: int = 640,
              height: int = 260, bands: Sequence[Band] = ()) -> str:
    """Bars per label, side by side (or ``stacked``). Values are counts or amounts ≥ 0;
    ``None`` draws nothing. ``bands`` are shaded behind the bars."""
    _check(labels, series)
    frame = _Frame(width, height)
    if stacked:
        top = max((sum(s.values[i] or 0 for s in series) for i in range(len(labels))),
                  default=0)
    else:
        top = max((v or 0 for s in series for v in s.values), default=0)
    ticks = nice_ticks(top)
    scale = frame.plot_h / ticks[-1]
    colors = _colors(series)
    out = (_open(frame, title, labels, series, unit, "bar", bands)
           + _bands(frame, labels, bands) + _axes(frame, ticks, labels, unit))
    slot = frame.plot_w / max(len(labels), 1)
    inner = slot * 0.7
    bar_w = inner if stacked else inner / max(len(series), 1)
    base = frame.top + frame.plot_h
    for i, label in enumerate(labels):
        x0 = frame.left + slot * i + (slot - inner) / 2
        height_so_far = 0.0
        for k, (s, color) in enumerate(zip(series, colors, strict=True)):
            v = s.values[i]
            if v is None:
                continue
            h = v * scale
            x = x0 if stacked else x0 + k * bar_w
            y = base - height_so_far - h
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(bar_w - 1, 1))}" '
                f'height="{_n(h)}" fill="{color}" data-series={quoteattr(s.name)} '
                f'data-label={quoteattr(label)} data-value="{_fmt(v)}">'
                f"<title>{escape(f'{label} {s.name}：{_fmt(v, unit)}')}</title></rect>")
            if stacked:
                height_so_far += h
    out += _legend(frame, series, colors)
    out.append("</svg>")
    return "".join(out)


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], *,
               unit: str = "", top: float | None = None, width: int = 640,
               height: int = 260, bands: Sequence[Band] = ()) -> str:
    """A line per series with a dot per value; a ``None`` breaks the line. ``top``: the
    axis maximum (e.g. 100 for a percentage), else from the data. ``bands`` are shaded
    behind the lines."""
    _check(labels, series)
    frame = _Frame(width, height)
    highest = max((v for s in series for v in s.values if v is not None), default=0)
    ticks = nice_ticks(top if top is not None and top >= highest else highest)
    scale = frame.plot_h / ticks[-1]
    colors = _colors(series)
    out = (_open(frame, title, labels, series, unit, "line", bands)
           + _bands(frame, labels, bands) + _axes(frame, ticks, labels, unit))
    slot = frame.plot_w / max(len(labels), 1)
    base = frame.top + frame.plot_h
    for s, color in zip(series, colors, strict=True):
        runs: list[list[tuple[float, float]]] = [[]]
        dots = []
        for i, (label, v) in enumerate(zip(labels, s.values, strict=True)):
            if v is None:
                runs.append([])
                continue
            x, y = frame.left + slot * (i + 0.5), base - v * scale
            runs[-1].append((x, y))
            dots.append(
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{color}" '
                f'data-series={quoteattr(s.name)} data-label={quoteattr(label)} '
                f'data-value="{_fmt(v)}"><title>{escape(f"{label} {s.name}：{_fmt(v, unit)}")}'
                f"</title></circle>")
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
                out.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                           f'stroke-width="2"/>')
        out += dots
    out += _legend(frame, series, colors)
    out.append("</svg>")
    return "".join(out)
