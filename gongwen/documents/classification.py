"""Classification guard (R-DOC-5; seed notice §1 "所有密级文件不得通过无纸化传输" and §3(8)
"密级公文不得传输").

Pure functions, no Django: the services call them at creation, on every save, on upload (with
the text extracted from the PDF/OFD) and at dispatch, and audit every refusal. No setting turns
the guard off, and nothing here reads settings.

What counts as a classification mark (GB/T 9704-2012 7.2.2 prints 密级和保密期限 in the top
left corner, e.g. "秘密★1年", "机密★", "绝密★启用前"):

- a level (绝密/机密/秘密) followed by the star that separates it from the period ("★", also
  "☆", "*" and the fullwidth "＊" of hand-typed text), wherever it stands;
- a 密级 field naming a level: "密级：秘密", "密 级: 机密★5年", "密级 绝密";
- a line that is nothing but a level, optionally with a period: "秘密", "机密 10年",
  "绝密 启用前" (the form without a star that extraction from a PDF may leave behind).

Fullwidth/halfwidth variants (NFKC) and spaces, including the ideographic space, are ignored.
Ordinary prose that mentions secrecy ("保守国家秘密", "商业秘密", "秘密文件的管理规定",
"所有密级文件不得通过无纸化传输") carries no mark and passes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "LEVELS",
    "ClassificationFinding",
    "check_document",
    "check_secrecy_field",
    "find_mark",
]

LEVELS = ("绝密", "机密", "秘密")
_LEVEL_FIRSTS = frozenset(level[0] for level in LEVELS)

_LEVEL = "(?P<level>绝密|机密|秘密)"
_STAR = "[★☆✩✪✫✬✭✮✯⭐*]"
_PERIOD = r"(?P<period>(?:\d+|[一二三四五六七八九十百两]+)(?:年|个月|月|天|日)|长期|永久|启用前|公布前|解密前)"
_SPACES = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")

# A level followed by the star: the unmistakable form of 密级和保密期限.
_STARRED = re.compile(_LEVEL + _STAR + "+" + _PERIOD + "?")
# A 密级 field naming a level: "密级：秘密", "密级:机密★1年", "密级绝密".
_FIELD = re.compile("密级[:：]?" + _LEVEL + "(?:" + _STAR + "*" + _PERIOD + ")?")
# A line that is only a level with an optional period.
_BARE_LINE = re.compile("^" + _LEVEL + "(?:" + _STAR + "*" + _PERIOD + ")?$")


@dataclass(frozen=True)
class ClassificationFinding:
    """Why a document is refused. ``message_zh`` is the sentence shown to the user."""

    level: str  # 绝密 / 机密 / 秘密
    mark: str  # the text found, e.g. "秘密★1年" (normalised: no spaces)
    source: str  # where: "密级", "标题", "正文", "附件：通知.pdf", ...
    line: int = 0  # 1-based line number within the source, 0 when not applicable

    @property
    def message_zh(self) -> str:
        where = self.source + (f"第{self.line}行" if self.line else "")
        return (
            f"{where}含有密级标志“{self.mark}”（{self.level}）。"
            "根据连政办发〔2006〕107号，密级公文不得通过无纸化传输，本平台拒绝处理；"
            "请按涉密公文管理规定以纸质方式办理。"
        )

    def as_detail(self) -> dict[str, object]:
        """For the audit trail: what and where, never the document text itself."""
        return {"level": self.level, "mark": self.mark, "source": self.source,
                "line": self.line}


def _normalise(line: str) -> str:
    # NFKC folds fullwidth letters, digits, colon and asterisk to their halfwidth forms;
    # ★ (U+2605) has no compatibility decomposition and stays as it is. Every format
    # character (Unicode Cf: zero-width spaces and joiners, soft hyphens, bidi marks …)
    # goes too: text extracted from an uploaded file keeps them, and "秘\u00ad密" must
    # still read 秘密.
    folded = unicodedata.normalize("NFKC", line)
    if any(first in folded for first in _LEVEL_FIRSTS):  # only such a line can hold a mark
        folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return _SPACES.sub("", folded)


def check_secrecy_field(secrecy: str, period: str = "", *, source: str = "密级"
                        ) -> ClassificationFinding | None:
    """The structured 密级 element: any level is refused; a 保密期限 alone also marks the
    document as classified (a period only exists with a level, GB/T 9704 7.2.2)."""
    value = _normalise(secrecy or "")
    period = _normalise(period or "")
    if not value and not period:
        return None
    for level in LEVELS:
        if level in value:
            mark = f"{level}★{period}" if period else level
            return ClassificationFinding(level=level, mark=mark, source=source)
    if value in ("", "无", "非密", "公开", "不涉密"):
        if period:
            return ClassificationFinding(level="秘密", mark=f"保密期限{period}", source=source)
        return None
    # An unknown value in the 密级 field: refuse rather than guess.
    return ClassificationFinding(level=value[:10], mark=value[:40], source=source)


def find_mark(text: str, *, source: str = "正文") -> ClassificationFinding | None:
    """The first classification mark in ``text``, or None."""
    if not text:
        return None
    for number, raw in enumerate(text.splitlines() or [text], start=1):
        line = _normalise(raw)
        if not line or not any(level in line for level in LEVELS):
            continue
        for pattern in (_STARRED, _FIELD, _BARE_LINE):
            m = pattern.search(line)
            if m:
                return ClassificationFinding(level=m["level"], mark=m.group(0), source=source,
                                             line=number)
    return None


def check_document(*, secrecy: str = "", secrecy_period: str = "",
                   texts: Iterable[tuple[str, str]] = ()) -> ClassificationFinding | None:
    """The structured 密级 element first, then each ``(source, text)`` pair in order."""
    finding = check_secrecy_field(secrecy, secrecy_period)
    if finding:
        return finding
    for source, text in texts:
        finding = find_mark(text or "", source=source)
        if finding:
            return finding
    return None
