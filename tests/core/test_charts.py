"""The statistics charts (gongwen.charts): what is drawn is what was given, read back from
the SVG with an XML parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gongwen.charts import Band, Series, bar_chart, line_chart, nice_ticks

NS = {"s": "http://www.w3.org/2000/svg"}


def marks(svg: str, tag: str):
    root = ET.fromstring(svg)
    return root, [el for el in root.iter(f"{{{NS['s']}}}{tag}") if "data-value" in el.attrib]


@pytest.mark.parametrize(("top", "expected"), [
    (0, [0.0, 1.0]), (1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]), (7, [0, 2, 4, 6, 8]),
    (37, [0, 10, 20, 30, 40]), (100, [0, 20, 40, 60, 80, 100]), (0.3, [0, 0.1, 0.2, 0.3]),
    (1234, [0, 500, 1000, 1500]),
])
def test_ticks_are_round_and_reach_the_top(top, expected):
    ticks = nice_ticks(top)
    assert ticks == pytest.approx(expected)
    assert ticks[-1] >= top


def test_grouped_bars_are_proportional_and_labelled():
    labels = ["2026-09", "2026-10", "2026-11"]
    svg = bar_chart("发文与收文", labels, [Series("发文", [4, 0, 8]), Series("收文", [2, 6, None])])
    root, bars = marks(svg, "rect")
    assert root.find("s:title", NS).text == "发文与收文"
    got = {(b.get("data-series"), b.get("data-label")): b for b in bars}
    assert set(got) == {("发文", "2026-09"), ("发文", "2026-10"), ("发文", "2026-11"),
                        ("收文", "2026-09"), ("收文", "2026-10")}  # None draws nothing
    h = {k: float(b.get("height")) for k, b in got.items()}
    assert h[("发文", "2026-11")] == pytest.approx(2 * h[("发文", "2026-09")], rel=0.01)
    assert h[("收文", "2026-10")] == pytest.approx(3 * h[("收文", "2026-09")], rel=0.01)
    assert h[("发文", "2026-10")] == 0
    # side by side: the two bars of a month do not overlap
    a, b = got[("发文", "2026-09")], got[("收文", "2026-09")]
    assert float(a.get("x")) + float(a.get("width")) <= float(b.get("x"))
    # every bar stands on the same base line
    bases = {round(float(r.get("y")) + float(r.get("height")), 1) for r in bars}
    assert len(bases) == 1
    desc = root.find("s:desc", NS).text
    assert "发文：2026-09 4，2026-10 0，2026-11 8" in desc and "2026-11 无" in desc


def test_stacked_bars_sum_up():
    svg = bar_chart("纸质与电子", ["1月", "2月"], [Series("电子", [3, 9]), Series("纸质", [1, 0])],
                    stacked=True)
    _, bars = marks(svg, "rect")
    by = {(b.get("data-series"), b.get("data-label")): b for b in bars}
    e1, p1 = by[("电子", "1月")], by[("纸质", "1月")]
    assert float(p1.get("y")) + float(p1.get("height")) == pytest.approx(float(e1.get("y")), abs=0.11)
    assert float(e1.get("x")) == float(p1.get("x"))
    total1 = float(e1.get("height")) + float(p1.get("height"))
    assert float(by[("电子", "2月")].get("height")) == pytest.approx(total1 * 9 / 4, rel=0.01)


def test_lines_break_where_a_value_is_missing():
    labels = ["a", "b", "c", "d", "e"]
    svg = line_chart("签收时长", labels, [Series("中位数", [2, 4, None, 3, 1])], unit="小时")
    root, dots = marks(svg, "circle")
    assert [d.get("data-label") for d in dots] == ["a", "b", "d", "e"]
    lines = root.findall("s:polyline", NS)
    assert [len(p.get("points").split()) for p in lines] == [2, 2]
    ys = {d.get("data-label"): float(d.get("cy")) for d in dots}
    assert ys["b"] < ys["d"] < ys["a"] < ys["e"]  # higher value, higher on the page
    assert "4小时" in root.find("s:desc", NS).text


def test_a_percentage_axis_can_be_fixed():
    svg = line_chart("超时率", ["x"], [Series("超时率", [12.5])], unit="%", top=100)
    root, _ = marks(svg, "circle")
    tick_texts = [t.text for t in root.iter(f"{{{NS['s']}}}text")]
    assert "100%" in tick_texts and "12.5%" not in tick_texts


def test_text_is_escaped():
    svg = bar_chart("<b>&", ["<x>"], [Series('a"&<', [1])])
    root, bars = marks(svg, "rect")  # parses: nothing leaked as markup
    assert root.find("s:title", NS).text == "<b>&"
    assert bars[0].get("data-series") == 'a"&<' and bars[0].get("data-label") == "<x>"


def test_empty_data_still_draws_an_axis():
    root, bars = marks(bar_chart("无数据", [], [Series("发文", [])]), "rect")
    assert bars == [] and root.find("s:title", NS).text == "无数据"
    root, bars = marks(bar_chart("全零", ["a"], [Series("发文", [0])]), "rect")
    assert bars[0].get("height") == "0"


@pytest.mark.parametrize("series", [Series("x", [1, 2]), Series("x", [-1]),
                                    Series("x", [float("nan")])])
def test_bad_series_are_refused(series):
    with pytest.raises(ValueError):
        bar_chart("t", ["a"], [series])


@pytest.mark.parametrize("draw", [bar_chart, line_chart])
def test_bands_shade_their_labels_behind_the_marks_and_are_described(draw):
    labels = ["2006-06", "2006-07", "2006-08", "2006-09"]
    svg = draw("纸质与电子送达（份）", labels, [Series("纸质", [3, 2, 1, 0])],
               bands=[Band(1, 9, "纸电并行期"), Band(7, 9, "看不见")])
    root = ET.fromstring(svg)
    rects = [el for el in root.iter(f"{{{NS['s']}}}rect") if "data-band" in el.attrib]
    assert [(r.get("data-band"), r.get("data-first"), r.get("data-last")) for r in rects] == [
        ("纸电并行期", "2006-07", "2006-09")]  # clipped to the labels; the outside one is gone
    band = rects[0]
    slot = (640 - 52 - 12) / 4
    assert float(band.get("x")) == pytest.approx(52 + slot)
    assert float(band.get("width")) == pytest.approx(3 * slot)
    children = list(root)
    first_mark = next(i for i, el in enumerate(children) if "data-value" in el.attrib)
    assert children.index(band) < first_mark  # drawn behind
    desc = root.find("s:desc", NS).text
    assert "阴影为纸电并行期：2006-07 至 2006-09" in desc and "看不见" not in desc
