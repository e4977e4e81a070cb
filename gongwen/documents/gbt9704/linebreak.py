"""Chinese line breaking for the GB/T 9704 character grid (28 characters a line).

Rules (the 禁则 of Chinese typesetting, GB/T 15834 punctuation and common 公文 practice):

* 避头点: closing punctuation (，。、；：？！）》」』】〕 …) never starts a line. When it would,
  the last character of the line is pushed down with it (推出) and the short line is justified.
* 避尾点: opening punctuation (（《「『【〔 …) never ends a line; it moves to the next line.
* Runs of Latin letters and digits (2006, CA, 1.) stay together; ASCII spaces are break
  opportunities and vanish at a line end. —— and …… are never split; —— may start a
  line (GB/T 15834).
* Every line but a paragraph's last is justified to the full measure (两端对齐).

The input is a sequence of characters with their advances (mm); the output says which
characters go on each line and at what x offset, so the layout can place glyphs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["CLOSING", "OPENING", "LineSpan", "break_lines", "is_cjk_break_char"]

#: Characters that must not start a line (避头点).
CLOSING = frozenset(
    "，。、；：？！）》」』】〕〗〉］｝’”…～·・％‰°′″℃"
    ",.;:?!)]}%'\""
    "々ゝゞヽヾーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
#: Characters that must not end a line (避尾点).
OPENING = frozenset("（《「『【〔〖〈［｛‘“([{")
_PAIRS = ("——", "……")
_EPS = 1e-6


def is_cjk_break_char(ch: str) -> bool:
    """True for characters that form their own breakable unit (ideographs, full-width
    punctuation, symbols), False for Latin letters, digits and half-width punctuation,
    which cling to their neighbours."""
    o = ord(ch)
    if ch.isspace():
        return False
    return o >= 0x2E80 or 0x2000 <= o <= 0x206F or 0x2100 <= o <= 0x2BFF or 0x25A0 <= o <= 0x27BF


@dataclass(frozen=True)
class LineSpan:
    """One output line: characters ``start``..``end`` (exclusive) of the input, their x
    offsets from the line start in ``xs``, the natural ``width`` and whether it was
    justified."""

    start: int
    end: int
    xs: tuple[float, ...]
    width: float
    justified: bool


def _units(text: str) -> list[tuple[int, int, str]]:
    """Split into atomic units (start, end, kind); kind is 'sp' (space), 'w' (Latin word),
    'c' (a single CJK-like character or an unsplittable pair)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            j = i
            while j < n and text[j] == " ":
                j += 1
            out.append((i, j, "sp"))
            i = j
        elif text.startswith(_PAIRS, i):
            out.append((i, i + 2, "c"))
            i += 2
        elif is_cjk_break_char(ch) or ch.isspace():
            out.append((i, i + 1, "c"))
            i += 1
        else:
            j = i
            while j < n and not is_cjk_break_char(text[j]) and text[j] != " ":
                j += 1
            out.append((i, j, "w"))
            i = j
    return out


def break_lines(
    text: str,
    advances: Sequence[float],
    width: float | Callable[[int], float],
    *,
    justify: bool = True,
    solid: int = 0,
) -> list[LineSpan]:
    """Break ``text`` (one paragraph; ``advances[i]`` is the advance of ``text[i]`` in mm)
    into lines no wider than ``width`` (a number, or a function of the 0-based line index,
    e.g. for a first-line indent). Lines other than the last are justified if ``justify``;
    the first ``solid`` characters (a label such as 抄送：) are never spread, so that wrapped
    lines hanging under the text after the label stay aligned with it."""
    if len(advances) != len(text):
        raise ValueError("one advance per character is required")
    width_of = width if callable(width) else (lambda _i, _w=float(width): _w)
    units = _units(text)

    def uwidth(u: tuple[int, int, str]) -> float:
        return sum(advances[u[0] : u[1]])

    lines: list[list[tuple[int, int, str]]] = []
    cur: list[tuple[int, int, str]] = []
    cur_w = 0.0
    k = 0
    pending = list(units)
    while k < len(pending):
        u = pending[k]
        w = uwidth(u)
        limit = width_of(len(lines))
        if u[2] == "sp" and not cur:
            k += 1  # spaces vanish at a line start
            continue
        if cur_w + w <= limit + _EPS or u[2] == "sp":
            cur.append(u)
            cur_w += w
            k += 1
            continue
        # The unit does not fit.
        if u[2] == "w" and not cur and w > limit + _EPS:
            # A word longer than the line: split it by characters.
            s = u[0]
            acc = 0.0
            e = s
            while e < u[1] and acc + advances[e] <= limit + _EPS:
                acc += advances[e]
                e += 1
            e = max(e, s + 1)
            lines.append([(s, e, "w")])
            pending[k] = (e, u[1], "w")
            cur, cur_w = [], 0.0
            continue
        if not cur:
            lines.append([u])  # wider than the measure on its own: it gets a line
            k += 1
            continue
        carry: list[tuple[int, int, str]] = []
        if text[u[0]] in CLOSING:
            # 避头: push the last real unit down together with the punctuation.
            while cur and cur[-1][2] == "sp":
                cur.pop()
            if len(cur) > 1:
                carry.insert(0, cur.pop())
            else:
                # Nothing to push: let the punctuation hang rather than loop forever.
                cur.append(u)
                k += 1
        # 避尾: an opening mark never ends a line.
        while len(cur) > 1 and (cur[-1][2] == "sp" or text[cur[-1][1] - 1] in OPENING):
            popped = cur.pop()
            if popped[2] != "sp":
                carry.insert(0, popped)
        # A pushed unit might itself be closing punctuation (e.g. "。”"): keep pushing.
        while carry and text[carry[0][0]] in CLOSING and len(cur) > 1:
            carry.insert(0, cur.pop())
        lines.append(cur)
        cur, cur_w = [], 0.0
        pending[k:k] = carry
    if cur:
        lines.append(cur)

    out = []
    for li, line in enumerate(lines):
        while line and line[-1][2] == "sp":
            line.pop()
        if not line:
            continue
        start, end = line[0][0], line[-1][1]
        natural = sum(advances[start:end])
        limit = width_of(li)
        last = li == len(lines) - 1
        # Gaps that may stretch: between units, not inside a Latin word.
        boundaries = {u[0] for u in line[1:] if u[0] > solid}
        for u in line:
            if u[2] == "c" and u[1] - u[0] == 2:
                boundaries.discard(u[0] + 1)
        extra = limit - natural
        stretch = justify and not last and extra > _EPS and boundaries
        per_gap = extra / len(boundaries) if stretch else 0.0
        xs = []
        x = 0.0
        for i in range(start, end):
            if i in boundaries and stretch:
                x += per_gap
            xs.append(x)
            x += advances[i]
        out.append(LineSpan(start, end, tuple(xs), natural, bool(stretch)))
    return out
