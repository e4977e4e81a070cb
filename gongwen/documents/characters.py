"""Which characters the text of a document may hold (R-DOC-1). No Django: the services pass
the elements and the fonts.

First ``tidy``: text pasted from web pages, chat tools and word processors often carries
invisible characters that mean nothing in print — zero-width spaces and joiners, a byte
order mark, soft hyphens, Unicode line separators. They are removed (line separators become
line breaks where the element may hold them) when a draft is saved, so the user is not
refused for a character nobody can see nor find. A bidirectional control is not among them:
it changes what the screen shows, so it is refused by name (below), never dropped silently.

Then two rules, applied when a draft is saved and again at submission and 核批:

* No invisible control or format character (Unicode categories Cc, Cf, Cs, Zl, Zp). A
  bidirectional override (U+202E …) shows a title reversed on screen — in the approval and
  sealing queues the head and the seal keeper would read another title than the one printed
  — zero-width characters hide text from search and comparison, and none of them is
  printed. Multi-line text (正文, 附件正文) may hold line breaks and tabs, which the layout
  sets as paragraph breaks and spaces, and so may 标题 (a line break there is the user's own
  break of a long title); every other element is one line.
* Every character must be drawable by the GB/T 9704 fonts: ``FontSet.can_draw``, the test
  the layout applies (``FontSet.face_for``). A character no font has (an emoji, a rare
  ideograph outside the fonts) would otherwise pass 核批, consume a 发文字号 and leave a
  document that can never be rendered nor sealed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from .gbt9704.fonts import FontSet

__all__ = ["Element", "problems", "tidy"]

# Cc controls, Cf format characters (bidi controls U+202A–U+202E, U+2066–U+2069,
# U+200E/U+200F, U+061C; tags; the paste litter below only in text saved before ``tidy``),
# Cs lone surrogates (a JSON "\\ud800" gets this far; no database or encoder accepts it),
# Zl/Zp line and paragraph separators.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# What a multi-line element may hold besides printable text: a textarea sends CRLF.
LINE_CONTROLS = frozenset("\n\r\t")
# Paste litter: U+200B zero-width space, U+200C/U+200D zero-width (non-)joiner, U+2060 word
# joiner, U+FEFF byte order mark, U+00AD soft hyphen. None is printed by the layout.
PASTE_LITTER = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
# U+2028 line and U+2029 paragraph separator, U+0085 next line: a line break in disguise.
LINE_SEPARATORS = "\u2028\u2029\u0085"
_TIDY_MULTILINE = str.maketrans({**dict.fromkeys(PASTE_LITTER, None),
                                 **dict.fromkeys(LINE_SEPARATORS, "\n")})
_TIDY_ONE_LINE = str.maketrans({**dict.fromkeys(PASTE_LITTER, None),
                                **dict.fromkeys(LINE_SEPARATORS, " ")})
# A message names at most this many characters of one element.
NAMED_MAX = 5
# Characters before the first invisible one that a message quotes, to help find it.
CONTEXT_CHARS = 10


class Element(NamedTuple):
    """A text element of a document as the user entered it."""

    label: str  # for the message: 标题, 正文, 附件2名称 …
    text: str
    multiline: bool = False


def tidy(text: str, multiline: bool = False) -> str:
    """``text`` without paste litter; a line separator becomes a line break in a multi-line
    element and a space in a one-line one. Idempotent."""
    return text.translate(_TIDY_MULTILINE if multiline else _TIDY_ONE_LINE)


def _code(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _invisible(ch: str, multiline: bool) -> bool:
    if multiline and ch in LINE_CONTROLS:
        return False
    return unicodedata.category(ch) in INVISIBLE_CATEGORIES


def _listed(items: list[str]) -> str:
    shown = "、".join(items[:NAMED_MAX])
    return shown + (f"等{len(items)}个" if len(items) > NAMED_MAX else "")


def _before(text: str, index: int, multiline: bool) -> str:
    """The visible characters just before ``index`` on its line, to say where it is."""
    line = text[:index].rsplit("\n", 1)[-1]
    visible = "".join(ch for ch in line if not _invisible(ch, multiline) and not ch.isspace())
    return visible[-CONTEXT_CHARS:]


def _element_problems(element: Element, fonts: FontSet | None) -> list[str]:
    label, text, multiline = element
    distinct = dict.fromkeys(text or "")
    out = []
    hidden = [ch for ch in distinct if _invisible(ch, multiline)]
    if hidden:
        # Only the code point: the character itself would act on the message (a U+202E
        # reverses what follows it) or cannot be encoded at all (a lone surrogate).
        where = _before(text, text.index(hidden[0]), multiline)
        codes = _listed([_code(ch) for ch in hidden])
        place = f"，位于“{where}”之后" if where else ""
        out.append(f"{label}中含有不可见的控制字符（{codes}{place}），请删除后重试。")
    if fonts is not None:
        missing = [ch for ch in distinct if ch not in hidden and not fonts.can_draw(ch)]
        if missing:
            named = _listed([f"「{ch}」（{_code(ch)}）" for ch in missing])
            out.append(f"{label}中含有无法排版的字符{named}，请删除或改用其他字符。")
    return out


def problems(elements: Iterable[Element], fonts: FontSet | None) -> list[str]:
    """A Chinese message for each element and rule broken, in the order of ``elements``;
    empty when all may be saved. ``fonts`` None skips the font rule (fonts that cannot be
    loaded are the operator's problem, reported by the preview and at rendering)."""
    return [m for element in elements for m in _element_problems(element, fonts)]
