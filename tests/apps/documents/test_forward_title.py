"""转发 titles (R-FLOW-5): the original is cited once, nested 转发 notices are not wrapped
again, and the title fits the 200-character column."""

from __future__ import annotations

import pytest

from gongwen.documents.forwarding import forward_body, forward_title


@pytest.mark.parametrize(("original", "expected"), [
    ("关于做好防汛工作的通知", "关于转发《关于做好防汛工作的通知》的通知"),
    ("关于转发《关于做好防汛工作的通知》的通知", "关于转发《关于做好防汛工作的通知》的通知"),
    ("关于转发《关于转发《国务院关于X的通知》的通知》的通知", "关于转发《国务院关于X的通知》的通知"),
    ("关于转发国务院办公厅关于X的意见的通知", "关于转发《国务院办公厅关于X的意见》的通知"),
    ("关于转发《A》与《B》的通知", "关于转发《《A》与《B》》的通知"),
    ("  江苏省防汛抗旱指挥部文件 ", "关于转发《江苏省防汛抗旱指挥部文件》的通知"),
])
def test_forward_title(original, expected):
    assert forward_title(original) == expected


def test_forward_title_fits_the_column():
    title = forward_title("关于" + "很长" * 150 + "的通知")
    assert len(title) <= 200 and title.endswith("…》的通知")


def test_forward_body_names_issuer_title_and_number():
    assert forward_body("江苏省人民政府办公厅", "关于做好防汛工作的通知", "苏政办发〔2006〕12号") == (
        "现将江苏省人民政府办公厅《关于做好防汛工作的通知》（苏政办发〔2006〕12号）"
        "转发给你们，请结合实际认真贯彻执行。")
    assert "（" not in forward_body("某单位", "标题", "")
