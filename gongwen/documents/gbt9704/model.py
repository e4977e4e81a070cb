"""The elements of an official document (公文) as GB/T 9704-2012 names them.

Plain frozen dataclasses, no layout: ``layout.py`` turns an :class:`OfficialDocument` into
positioned glyphs. Clause numbers refer to GB/T 9704-2012 《党政机关公文格式》; the document
types are those of 《党政机关公文处理工作条例》 (中办发〔2012〕14号) art. 8.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

__all__ = [
    "Attachment",
    "AttendanceLine",
    "DocNumber",
    "DocType",
    "FormatVariant",
    "Issuer",
    "Level",
    "ModelError",
    "OfficialDocument",
    "Paragraph",
    "Secrecy",
    "Urgency",
    "body_from_text",
    "format_date",
]


class ModelError(ValueError):
    """An official document that breaks a GB/T 9704 / 条例 rule; ``message_zh`` is for users."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors = list(errors)
        self.message_zh = "；".join(self.errors)
        super().__init__(self.message_zh)


class DocType(StrEnum):
    """The 15 kinds of 公文 (条例 art. 8)."""

    RESOLUTION = "决议"
    DECISION = "决定"
    ORDER = "命令"  # 命令（令）
    COMMUNIQUE = "公报"
    ANNOUNCEMENT = "公告"
    PUBLIC_NOTICE = "通告"
    OPINION = "意见"
    NOTICE = "通知"
    CIRCULAR = "通报"
    REPORT = "报告"
    REQUEST = "请示"
    REPLY = "批复"
    MOTION = "议案"
    LETTER = "函"
    MINUTES = "纪要"

    @property
    def upward(self) -> bool:
        """上行文: 请示 and 报告 go to a superior and must carry 签发人 (GB/T 9704 7.2.4)."""
        return self in (DocType.REQUEST, DocType.REPORT)


class FormatVariant(StrEnum):
    """The page formats of GB/T 9704: the ordinary 文件格式 (clause 7) and the special
    信函格式 (10.1), 命令（令）格式 (10.2) and 纪要格式 (10.3). A 命令 in 文件格式 is laid out
    in 命令格式 (see :attr:`OfficialDocument.order_format`)."""

    FILE = "文件格式"
    LETTER = "信函格式"
    ORDER = "命令格式"
    MINUTES = "纪要格式"


class Secrecy(StrEnum):
    """密级 (GB/T 9704 7.2.2)."""

    NONE = ""
    SECRET = "秘密"
    CONFIDENTIAL = "机密"
    TOP_SECRET = "绝密"


class Urgency(StrEnum):
    """紧急程度 (GB/T 9704 7.2.3)."""

    NONE = ""
    URGENT = "加急"
    EXTRA_URGENT = "特急"


class Level(IntEnum):
    """Heading level of a body paragraph (GB/T 9704 7.3.3): 一、 （一） 1. （1）."""

    BODY = 0
    H1 = 1  # 一、 黑体
    H2 = 2  # （一） 楷体
    H3 = 3  # 1. 仿宋
    H4 = 4  # （1） 仿宋


_DOC_NUMBER_RE = re.compile(r"^(?P<code>.+?)〔(?P<year>\d{4})〕(?P<serial>[1-9]\d*)号$")


@dataclass(frozen=True)
class DocNumber:
    """发文字号 (7.2.4): 机关代字 + 〔年份〕 + 序号 + 号, e.g. 连政办发〔2006〕107号.

    The year is written in full and the serial number without leading zeros or 第.
    """

    agency_code: str  # 机关代字, e.g. 连政办发
    year: int
    serial: int

    def __post_init__(self) -> None:
        errors = []
        if not self.agency_code or "〔" in self.agency_code:
            errors.append("发文字号缺少机关代字")
        if not 1000 <= self.year <= 9999:
            errors.append("发文字号的年份应为四位全称")
        if self.serial < 1:
            errors.append("发文字号的序号应为正整数")
        if errors:
            raise ModelError(errors)

    def __str__(self) -> str:
        return f"{self.agency_code}〔{self.year}〕{self.serial}号"

    @classmethod
    def parse(cls, text: str) -> DocNumber:
        m = _DOC_NUMBER_RE.match(text.strip())
        if not m:
            raise ModelError([f"发文字号格式不正确：{text}（应如：国发〔2012〕5号，序号不编虚位）"])
        return cls(m["code"], int(m["year"]), int(m["serial"]))


@dataclass(frozen=True)
class Issuer:
    """A 发文机关: its full name (署名, 7.3.5), the name shown in the 发文机关标志 (7.2.3:
    full name or 规范化简称) and whether its seal is applied (印章)."""

    name: str  # 全称, used as 发文机关署名
    mark: str = ""  # 标志 name (defaults to ``name``)
    sealed: bool = True  # 加盖印章 (7.3.5.1) or not (7.3.5.2)
    seal_diameter_mm: float = 42.0  # 国发〔1999〕25号: 4.2 cm for most units
    signer: str = ""  # 签发人 whose 签名章 is applied (7.3.5.3), e.g. 张三
    signer_title: str = ""  # 签发人职务 printed left of the 签名章 (full title), e.g. 市长

    @property
    def mark_name(self) -> str:
        return self.mark or self.name


@dataclass(frozen=True)
class Paragraph:
    """A body paragraph. ``heading`` is the lead-in set in the level's font (一、 → 黑体,
    （一） → 楷体, 1. and （1） → 仿宋), ``text`` the rest in 仿宋; either may be empty.

    ``heading_font`` overrides the level's font for the heading part (e.g. "黑体" for 第一条).
    """

    text: str = ""
    heading: str = ""
    level: Level = Level.BODY
    heading_font: str = ""

    @property
    def full_text(self) -> str:
        return self.heading + self.text


@dataclass(frozen=True)
class Attachment:
    """附件 (7.3.7): set on its own pages after the document, before the 版记."""

    title: str
    body: tuple[Paragraph, ...] = ()


@dataclass(frozen=True)
class AttendanceLine:
    """纪要 出席/请假/列席 line (10.3): a label in 黑体 and names in 仿宋."""

    label: str  # 出席, 请假, 列席
    names: str


@dataclass(frozen=True)
class OfficialDocument:
    """One 公文 with the 18 format elements of GB/T 9704-2012 (页码 is set by the layout)."""

    doc_type: DocType
    issuers: tuple[Issuer, ...]  # 发文机关; several = 联合行文, the lead unit first
    title: str  # 标题 ("\n" forces a line break)
    body: tuple[Paragraph, ...]  # 正文
    date: dt.date  # 成文日期
    doc_number: DocNumber | None = None  # 发文字号
    variant: FormatVariant = FormatVariant.FILE
    copy_number: str = ""  # 份号, 6 digits
    secrecy: Secrecy = Secrecy.NONE  # 密级
    secrecy_period: str = ""  # 保密期限, e.g. "1年"
    urgency: Urgency = Urgency.NONE  # 紧急程度
    signers: tuple[str, ...] = ()  # 签发人
    main_recipients: str = ""  # 主送机关
    attachments: tuple[Attachment, ...] = ()  # 附件 (附件说明 is derived from the titles)
    note: str = ""  # 附注
    copy_to: tuple[str, ...] = ()  # 抄送机关
    printer: str = ""  # 印发机关
    print_date: dt.date | None = None  # 印发日期
    mark_suffix: str = "文件"  # 标志 = name + 文件 (文件格式 only)
    mark_size_mm: float = 0.0  # 标志 character size; 0 = as large as fits (7.2.4: 酌定)
    attendance: tuple[AttendanceLine, ...] = ()  # 纪要: 出席/请假/列席
    order_number: int = 0  # 命令 令号 (第N号); 0 = the 发文字号's serial number
    signature_seal: bool = False  # 加盖签发人签名章 (7.3.5.3) instead of 署名 and 印章
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ModelError` listing every rule this document breaks."""
        e: list[str] = []
        if not self.issuers:
            e.append("至少需要一个发文机关")
        if not self.title.strip():
            e.append("标题不能为空")
        if not any(p.full_text.strip() for p in self.body):
            e.append("正文不能为空")
        if self.doc_type.upward and not self.signers:
            e.append(f"上行文（{self.doc_type.value}）必须标注签发人")
        if self.copy_number and not re.fullmatch(r"\d{6}", self.copy_number):
            e.append("份号应为6位阿拉伯数字")
        if self.secrecy_period and self.secrecy is Secrecy.NONE:
            e.append("标注保密期限时必须同时标注密级")
        if self.print_date is not None and not self.printer:
            e.append("印发日期须与印发机关一并标注")
        if len({i.name for i in self.issuers}) != len(self.issuers):
            e.append("联合行文的发文机关不能重复")
        if self.order_number < 0:
            e.append("令号应为正整数")
        if self.issuers and self.uses_signature_seal:
            missing = [
                i.name
                for i, (_, name) in zip(self.issuers, self.signature_signers(), strict=True)
                if not name
            ]
            if missing:
                kind = "命令（令）" if self.order_format else "加盖签发人签名章的公文"
                e.append(f"{kind}须标注签发人姓名（签名章）：{'、'.join(missing)}")
        if e:
            raise ModelError(e)

    @property
    def order_format(self) -> bool:
        """命令（令）格式 (10.2): asked for, or a 命令 in the ordinary 文件格式."""
        return self.variant is FormatVariant.ORDER or (
            self.doc_type is DocType.ORDER and self.variant is FormatVariant.FILE
        )

    @property
    def uses_signature_seal(self) -> bool:
        """签发人职务 + 签名章 + 成文日期 (7.3.5.3) instead of 署名 and 印章."""
        return self.order_format or self.signature_seal

    @property
    def order_number_text(self) -> str:
        """令号 as printed, 第N号 (empty until a number exists)."""
        n = self.order_number or (self.doc_number.serial if self.doc_number else 0)
        return f"第{n}号" if n else ""

    def signature_signers(self) -> list[tuple[str, str]]:
        """(职务, 姓名) per issuer for the 签名章 block: ``Issuer.signer``/``signer_title``,
        else the issuer's entry in ``signers``, where "市长 张三" gives 职务 市长."""
        out = []
        for k, issuer in enumerate(self.issuers):
            title, name = issuer.signer_title.strip(), issuer.signer.strip()
            if not name and k < len(self.signers):
                parts = self.signers[k].strip().replace("\u3000", " ").rsplit(None, 1)
                name = parts[-1] if parts else ""
                if len(parts) == 2 and not title:
                    title = parts[0].strip()
            out.append((title, name))
        return out

    @property
    def joint(self) -> bool:
        """联合行文."""
        return len(self.issuers) > 1

    @property
    def secrecy_text(self) -> str:
        """密级和保密期限 as printed, e.g. 秘密★1年."""
        if self.secrecy is Secrecy.NONE:
            return ""
        if self.secrecy_period:
            return f"{self.secrecy.value}★{self.secrecy_period}"
        return self.secrecy.value

    def attachment_labels(self) -> list[str]:
        """附件 labels: 附件 for one attachment, 附件1, 附件2 ... for several (7.3.7)."""
        if len(self.attachments) == 1:
            return ["附件"]
        return [f"附件{i}" for i in range(1, len(self.attachments) + 1)]


def format_date(d: dt.date) -> str:
    """成文日期 with Arabic numerals, year in full, no padding (7.3.5.4): 2006年7月18日."""
    return f"{d.year}年{d.month}月{d.day}日"


_H1_RE = re.compile(r"^[一二三四五六七八九十百]+、")
_H2_RE = re.compile(r"^（[一二三四五六七八九十百]+）")
_H3_RE = re.compile(r"^\d+\.")
_H4_RE = re.compile(r"^（\d+）")
_HALF_BRACKET_RE = re.compile(r"^\(([一二三四五六七八九十百]+|\d+)\)")


def body_from_text(text: str) -> tuple[Paragraph, ...]:
    """Split plain text into paragraphs (one per non-empty line) and detect heading levels
    from the numbering (一、 （一） 1. （1）). For 一、 and （一） the heading is the part up to
    and including the first 。 (the usual 公文 practice), or the whole line if it has none."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        m = _HALF_BRACKET_RE.match(line)
        if m:  # "(一)" / "(1)" typed with half-width brackets
            line = f"（{m[1]}）{line[m.end() :]}"
        if not line:
            continue
        level = Level.BODY
        if _H1_RE.match(line):
            level = Level.H1
        elif _H2_RE.match(line):
            level = Level.H2
        elif _H4_RE.match(line):
            level = Level.H4
        elif _H3_RE.match(line):
            level = Level.H3
        if level in (Level.H1, Level.H2):
            cut = line.find("。")
            if cut == -1 or cut == len(line) - 1:
                out.append(Paragraph(heading=line, level=level))
            else:
                out.append(Paragraph(heading=line[: cut + 1], text=line[cut + 1 :], level=level))
        elif level is Level.BODY:
            out.append(Paragraph(text=line))
        else:
            out.append(Paragraph(text=line, level=level))
    return tuple(out)
