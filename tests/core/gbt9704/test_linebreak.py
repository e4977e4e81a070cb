import pytest

from gongwen.documents.gbt9704.linebreak import CLOSING, OPENING, break_lines, is_cjk_break_char

CELL = 156 / 28


def adv(text):
    return [CELL if is_cjk_break_char(c) else CELL / 2 for c in text]


def lines_of(text, width=28 * CELL, **kw):
    return [text[s.start : s.end] for s in break_lines(text, adv(text), width, **kw)]


def test_fills_28_characters_a_line():
    text = "字" * 60
    assert [len(x) for x in lines_of(text)] == [28, 28, 4]


@pytest.mark.parametrize("punct", ["，", "。", "、", "；", "：", "？", "！", "）", "》", "”", "〕"])
def test_closing_punctuation_never_starts_a_line(punct):
    text = "字" * 28 + punct + "字" * 5
    lines = lines_of(text)
    assert all(line[0] not in CLOSING for line in lines)
    # 推出: the last character travels with the punctuation.
    assert lines[0] == "字" * 27 and lines[1].startswith("字" + punct)


@pytest.mark.parametrize("punct", ["（", "《", "“", "〔", "【"])
def test_opening_punctuation_never_ends_a_line(punct):
    text = "字" * 27 + punct + "字" * 5
    lines = lines_of(text)
    assert all(line[-1] not in OPENING for line in lines)
    assert lines[1].startswith(punct)


def test_closing_pair_is_pushed_together():
    text = "字" * 27 + "。”" + "字"
    lines = lines_of(text)
    assert lines[0] == "字" * 26 and lines[1] == "字。”字"


def test_latin_words_and_numbers_stay_together():
    text = "字" * 27 + "2006年"
    lines = lines_of(text)
    assert lines == ["字" * 27, "2006年"]
    text = "字" * 27 + "SM2证书"
    assert lines_of(text) == ["字" * 27, "SM2证书"]


def test_dash_and_ellipsis_pairs_are_not_split():
    text = "字" * 27 + "——字"
    assert lines_of(text)[1].startswith("——")
    text = "字" * 27 + "……"
    assert lines_of(text) == ["字" * 26, "字……"]


def test_word_longer_than_the_line_is_split():
    text = "x" * 70
    lines = lines_of(text)
    assert [len(x) for x in lines] == [56, 14]


def test_lines_but_the_last_are_justified_to_the_measure():
    text = "字" * 27 + "2006年7月24日起，对全市"
    spans = break_lines(text, adv(text), 28 * CELL)
    first = spans[0]
    assert first.justified and not spans[-1].justified
    last_x = first.xs[-1] + adv(text)[first.end - 1]
    assert last_x == pytest.approx(28 * CELL)
    # Digits inside a number are not spread apart.
    s1 = spans[1]
    xs = dict(zip(range(s1.start, s1.end), s1.xs, strict=True))
    i = text.index("2006")
    assert xs[i + 1] - xs[i] == pytest.approx(CELL / 2)


def test_first_line_indent_and_spaces():
    text = "ab cd " + "字" * 30
    spans = break_lines(text, adv(text), lambda i: 26 * CELL if i == 0 else 28 * CELL)
    assert spans[0].xs[-1] + CELL <= 26 * CELL + 1e-6
    assert text[spans[1].start] != " "


def test_one_advance_per_character_is_required():
    with pytest.raises(ValueError):
        break_lines("abc", [1.0], 10)
