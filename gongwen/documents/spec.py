"""A JSON document spec → the GB/T 9704 core's :class:`OfficialDocument` (issue 7 item 7).

``gongwen doc render SPEC.json --pdf OUT.pdf --ofd OUT.ofd`` reads a spec with this module.
The format is described in docs/documents.md ("The document spec") and by the JSON Schema
docs/document-spec.schema.json; gongwen/documents/examples/lyg-2006-107.json is the seed notice
连政办发〔2006〕107号.

Pure: no Django, no settings. Every problem is a :class:`SpecError` with a Chinese message
naming the field path (``issuers[0].name``); a spec with a 密级, or with a classification
mark in any of its texts, is a :class:`ClassifiedSpec` carrying the classification guard's
finding (``message_zh`` is the guard's sentence). Nothing here turns the guard off.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from gongwen.documents.classification import ClassificationFinding, check_document
from gongwen.documents.gbt9704.model import (
    Attachment,
    AttendanceLine,
    DocNumber,
    DocType,
    FormatVariant,
    Issuer,
    Level,
    ModelError,
    OfficialDocument,
    Paragraph,
    Urgency,
    body_from_text,
)

__all__ = [
    "ATTACHMENT_FIELDS",
    "FIELDS",
    "ISSUER_FIELDS",
    "PARAGRAPH_FIELDS",
    "REQUIRED",
    "ClassifiedSpec",
    "SpecError",
    "check_spec_classification",
    "document_to_spec",
    "load_spec",
    "parse_spec",
    "render_spec_files",
    "spec_to_document",
]

# Top-level fields (name → kind, for the messages); kept equal to the JSON Schema's.
FIELDS: dict[str, str] = {
    "$schema": "string",
    "type": "string",
    "format": "string",
    "copy_number": "string",
    "secrecy": "string",
    "secrecy_period": "string",
    "urgency": "string",
    "issuers": "array",
    "mark_suffix": "string",
    "mark_size_mm": "number",
    "doc_number": "string",
    "signers": "array",
    "title": "string",
    "main_recipients": "string",
    "body": "body",
    "attachments": "array",
    "date": "string",
    "note": "string",
    "copy_to": "array",
    "printer": "string",
    "print_date": "string",
    "attendance": "array",
    "order_number": "integer",
    "signature_seal": "boolean",
}
REQUIRED = ("type", "issuers", "title", "body", "date")
ISSUER_FIELDS = {"name": "string", "mark": "string", "sealed": "boolean",
                 "seal_diameter_mm": "number", "signer": "string", "signer_title": "string"}
PARAGRAPH_FIELDS = {"text": "string", "heading": "string", "level": "integer",
                    "heading_font": "string"}
ATTACHMENT_FIELDS = {"title": "string", "body": "body"}
ATTENDANCE_FIELDS = {"label": "string", "names": "string"}

_KIND_ZH = {"string": "字符串", "array": "数组", "number": "数字", "integer": "整数",
            "boolean": "true 或 false", "object": "对象", "body": "字符串或数组"}


class SpecError(ValueError):
    """A malformed spec. ``errors`` are ``(path, message)`` pairs; ``message_zh`` lists them."""

    def __init__(self, errors: list[tuple[str, str]], source: str = "") -> None:
        self.errors = errors
        self.source = source
        head = f"公文规格文件{source}有误：" if source else "公文规格有误："
        lines = [f"{path}：{msg}" if path else msg for path, msg in errors]
        self.message_zh = head + ("\n  " + "\n  ".join(lines) if len(lines) > 1 else lines[0])
        super().__init__(self.message_zh)


class ClassifiedSpec(ValueError):
    """The spec names a 密级 or carries a classification mark: refused (R-DOC-5)."""

    def __init__(self, finding: ClassificationFinding) -> None:
        self.finding = finding
        self.message_zh = finding.message_zh
        super().__init__(self.message_zh)


# --- reading -------------------------------------------------------------------------------


def parse_spec(data: bytes | str, *, source: str = "") -> dict[str, Any]:
    """The JSON object of a spec (UTF-8, a BOM tolerated); :class:`SpecError` otherwise."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpecError([("", f"不是UTF-8编码的文本（第{exc.start + 1}字节）")], source) from None
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        raise SpecError([("", f"不是有效的JSON：第{exc.lineno}行第{exc.colno}列，{_json_msg(exc.msg)}")],
                        source) from None
    if not isinstance(obj, dict):
        raise SpecError([("", "顶层应为JSON对象（{…}）")], source)
    return obj


def _json_msg(msg: str) -> str:
    known = {
        "Expecting ',' delimiter": "缺少逗号",
        "Expecting ':' delimiter": "缺少冒号",
        "Expecting value": "缺少值",
        "Expecting property name enclosed in double quotes": "字段名须用双引号",
        "Unterminated string starting at": "字符串未结束",
        "Extra data": "多余的内容",
        "Invalid control character at": "字符串中有控制字符（换行请写作\\n）",
    }
    return known.get(msg, msg)


def load_spec(data: bytes | str, *, source: str = "") -> OfficialDocument:
    """Spec text → :class:`OfficialDocument`: parse, classification guard, fields, model rules."""
    obj = parse_spec(data, source=source)
    check_spec_classification(obj)
    return spec_to_document(obj, source=source)


# --- classification guard --------------------------------------------------------------------


def _texts(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every text of the spec, whatever its shape (the guard runs before the
    fields are checked, so a classified spec is refused even when it is also malformed)."""

    def flat(value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            return "\n".join(flat(v) for v in value.values())
        if isinstance(value, list):
            return "\n".join(flat(v) for v in value)
        return ""

    def body_text(value: Any) -> str:
        if isinstance(value, list):
            return "\n".join(
                (str(v.get("heading", "")) + str(v.get("text", ""))) if isinstance(v, dict)
                else flat(v) for v in value)
        return flat(value)

    yield "份号", flat(obj.get("copy_number"))
    yield "紧急程度", flat(obj.get("urgency"))
    yield "发文机关", flat(obj.get("issuers"))
    yield "发文字号", flat(obj.get("doc_number"))
    yield "签发人", flat(obj.get("signers"))
    yield "标题", flat(obj.get("title"))
    yield "主送机关", flat(obj.get("main_recipients"))
    yield "正文", body_text(obj.get("body"))
    attachments = obj.get("attachments")
    if isinstance(attachments, list):
        for k, att in enumerate(attachments, start=1):
            label = "附件" if len(attachments) == 1 else f"附件{k}"
            if isinstance(att, dict):
                yield f"{label}标题", flat(att.get("title"))
                yield label, body_text(att.get("body"))
            else:
                yield label, flat(att)
    yield "附注", flat(obj.get("note"))
    yield "抄送机关", flat(obj.get("copy_to"))
    yield "印发机关", flat(obj.get("printer"))
    yield "纪要出席人员", flat(obj.get("attendance"))
    known = set(FIELDS)
    for key, value in obj.items():  # unknown fields are refused later, but not read past
        if key not in known:
            yield str(key), flat(value)


def check_spec_classification(obj: dict[str, Any]) -> None:
    """Raise :class:`ClassifiedSpec` if the spec has a 密级/保密期限 or a mark in any text."""
    secrecy = obj.get("secrecy", "")
    period = obj.get("secrecy_period", "")
    finding = check_document(
        secrecy=secrecy if isinstance(secrecy, str) else json.dumps(secrecy, ensure_ascii=False),
        secrecy_period=period if isinstance(period, str) else str(period),
        texts=_texts(obj),
    )
    if finding is not None:
        raise ClassifiedSpec(finding)


# --- fields ----------------------------------------------------------------------------------


class _Reader:
    """Collects every problem with its path instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def fail(self, path: str, msg: str) -> None:
        self.errors.append((path, msg))

    def check_keys(self, obj: dict[str, Any], known: dict[str, str], path: str,
                   required: tuple[str, ...] = ()) -> None:
        for key in obj:
            if key not in known:
                self.fail(_join(path, key), "未知字段（字段名见 docs/document-spec.schema.json）")
        for key in required:
            if key not in obj:
                self.fail(_join(path, key), "缺少必填字段")

    def typed(self, obj: dict[str, Any], key: str, kind: str, path: str, default: Any) -> Any:
        if key not in obj or obj[key] is None:
            return default
        value = obj[key]
        ok = {
            "string": isinstance(value, str),
            "array": isinstance(value, list),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
            "object": isinstance(value, dict),
            "body": isinstance(value, (str, list)),
        }[kind]
        if not ok:
            self.fail(_join(path, key), f"应为{_KIND_ZH[kind]}")
            return default
        return value

    def strings(self, obj: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        """An array of strings; a single string is taken as a one-element array."""
        value = obj.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,) if value.strip() else ()
        if not isinstance(value, list):
            self.fail(_join(path, key), "应为字符串数组")
            return ()
        out = []
        for k, item in enumerate(value):
            if isinstance(item, str):
                if item.strip():
                    out.append(item)
            else:
                self.fail(f"{_join(path, key)}[{k}]", "应为字符串")
        return tuple(out)

    def date(self, obj: dict[str, Any], key: str, path: str) -> dt.date | None:
        value = self.typed(obj, key, "string", path, None)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            self.fail(_join(path, key), f"日期应写作YYYY-MM-DD（如2006-07-18），而不是“{value}”")
            return None

    def choice(self, obj: dict[str, Any], key: str, path: str, enum: type, default: Any) -> Any:
        value = self.typed(obj, key, "string", path, None)
        if value is None:
            return default
        try:
            return enum(value.strip())
        except ValueError:
            allowed = "、".join(m.value for m in enum if m.value) or "（空）"
            self.fail(_join(path, key), f"“{value}”不是可用的值，应为：{allowed}")
            return default

    def body(self, value: Any, path: str) -> tuple[Paragraph, ...]:
        if isinstance(value, str):
            return body_from_text(value)
        if not isinstance(value, list):
            self.fail(path, "应为字符串或数组")
            return ()
        out: list[Paragraph] = []
        for k, item in enumerate(value):
            p = f"{path}[{k}]"
            if isinstance(item, str):
                out.extend(body_from_text(item))
            elif isinstance(item, dict):
                self.check_keys(item, PARAGRAPH_FIELDS, p)
                text = self.typed(item, "text", "string", p, "")
                heading = self.typed(item, "heading", "string", p, "")
                level = self.typed(item, "level", "integer", p, 0)
                font = self.typed(item, "heading_font", "string", p, "")
                if not 0 <= level <= 4:
                    self.fail(_join(p, "level"), "标题层次应为0（正文）至4（（1））")
                    level = 0
                if font and font not in ("黑体", "楷体", "仿宋", "小标宋", "宋体"):
                    self.fail(_join(p, "heading_font"), "应为黑体、楷体、仿宋、小标宋或宋体")
                    font = ""
                out.append(Paragraph(text=text, heading=heading, level=Level(level),
                                     heading_font=font))
            else:
                self.fail(p, "段落应为字符串或对象")
        return tuple(out)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def spec_to_document(obj: dict[str, Any], *, source: str = "") -> OfficialDocument:
    """The spec's fields → :class:`OfficialDocument`. Does not run the classification guard
    (:func:`load_spec` does); a 密级 is refused here too, as no spec may carry one."""
    r = _Reader()
    r.check_keys(obj, FIELDS, "", REQUIRED)
    for key in ("secrecy", "secrecy_period"):
        if obj.get(key):
            r.fail(key, "本平台不处理密级公文，规格中不得标注密级或保密期限")

    doc_type = r.choice(obj, "type", "", DocType, None) if "type" in obj else None
    variant = r.choice(obj, "format", "", FormatVariant, FormatVariant.FILE)
    urgency = r.choice(obj, "urgency", "", Urgency, Urgency.NONE)

    issuers: list[Issuer] = []
    raw_issuers = r.typed(obj, "issuers", "array", "", [])
    if "issuers" in obj and isinstance(obj["issuers"], list) and not raw_issuers:
        r.fail("issuers", "至少需要一个发文机关")
    for k, item in enumerate(raw_issuers):
        p = f"issuers[{k}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            r.fail(p, "发文机关应为字符串（全称）或对象")
            continue
        r.check_keys(item, ISSUER_FIELDS, p, ("name",))
        name = r.typed(item, "name", "string", p, "")
        if "name" in item and isinstance(item["name"], str) and not name.strip():
            r.fail(_join(p, "name"), "发文机关全称不能为空")
        diameter = r.typed(item, "seal_diameter_mm", "number", p, 42.0)
        if not 20 <= diameter <= 60:
            r.fail(_join(p, "seal_diameter_mm"), "印章直径应在20至60毫米之间")
            diameter = 42.0
        issuers.append(Issuer(
            name=name.strip(),
            mark=r.typed(item, "mark", "string", p, "").strip(),
            sealed=r.typed(item, "sealed", "boolean", p, True),
            seal_diameter_mm=float(diameter),
            signer=r.typed(item, "signer", "string", p, "").strip(),
            signer_title=r.typed(item, "signer_title", "string", p, "").strip(),
        ))

    doc_number = None
    number_text = r.typed(obj, "doc_number", "string", "", "")
    if number_text.strip():
        try:
            doc_number = DocNumber.parse(number_text)
        except ModelError as exc:
            r.fail("doc_number", exc.message_zh)

    title = r.typed(obj, "title", "string", "", "")
    if "title" in obj and isinstance(obj["title"], str) and not title.strip():
        r.fail("title", "标题不能为空")
    body = r.body(obj["body"], "body") if "body" in obj else ()
    if "body" in obj and isinstance(obj["body"], (str, list)) and not any(
            p.full_text.strip() for p in body):
        r.fail("body", "正文不能为空")

    attachments: list[Attachment] = []
    for k, item in enumerate(r.typed(obj, "attachments", "array", "", [])):
        p = f"attachments[{k}]"
        if isinstance(item, str):
            item = {"title": item}
        if not isinstance(item, dict):
            r.fail(p, "附件应为字符串（附件名称）或对象")
            continue
        r.check_keys(item, ATTACHMENT_FIELDS, p, ("title",))
        att_title = r.typed(item, "title", "string", p, "")
        if "title" in item and isinstance(item["title"], str) and not att_title.strip():
            r.fail(_join(p, "title"), "附件名称不能为空")
        att_body = r.body(item["body"], _join(p, "body")) if "body" in item else ()
        attachments.append(Attachment(att_title.strip(), att_body))

    attendance: list[AttendanceLine] = []
    for k, item in enumerate(r.typed(obj, "attendance", "array", "", [])):
        p = f"attendance[{k}]"
        if not isinstance(item, dict):
            r.fail(p, "出席/请假/列席行应为对象 {\"label\": \"出席\", \"names\": \"…\"}")
            continue
        r.check_keys(item, ATTENDANCE_FIELDS, p, ("label", "names"))
        attendance.append(AttendanceLine(r.typed(item, "label", "string", p, "").strip(),
                                         r.typed(item, "names", "string", p, "").strip()))

    date = r.date(obj, "date", "")
    print_date = r.date(obj, "print_date", "")
    order_number = r.typed(obj, "order_number", "integer", "", 0)
    mark_size = r.typed(obj, "mark_size_mm", "number", "", 0.0)
    if mark_size and not 5 <= mark_size <= 30:
        r.fail("mark_size_mm", "发文机关标志字号应在5至30毫米之间（0为自动）")
        mark_size = 0.0
    fields = dict(
        copy_number=r.typed(obj, "copy_number", "string", "", "").strip(),
        signers=tuple(s.strip() for s in r.strings(obj, "signers", "")),
        main_recipients=r.typed(obj, "main_recipients", "string", "", "").strip(),
        note=r.typed(obj, "note", "string", "", "").strip(),
        copy_to=tuple(s.strip() for s in r.strings(obj, "copy_to", "")),
        printer=r.typed(obj, "printer", "string", "", "").strip(),
        mark_suffix=r.typed(obj, "mark_suffix", "string", "", "文件").strip(),
        signature_seal=r.typed(obj, "signature_seal", "boolean", "", False),
    )
    r.typed(obj, "$schema", "string", "", "")
    if r.errors or doc_type is None or date is None:
        raise SpecError(r.errors or [("", "规格不完整")], source)
    try:
        return OfficialDocument(
            doc_type=doc_type, issuers=tuple(issuers), title=title, body=body, date=date,
            doc_number=doc_number, variant=variant, urgency=urgency,
            attachments=tuple(attachments), print_date=print_date,
            attendance=tuple(attendance), order_number=order_number,
            mark_size_mm=float(mark_size), **fields)
    except ModelError as exc:
        raise SpecError([("", m) for m in exc.errors], source) from None


# --- writing ---------------------------------------------------------------------------------


def _paragraphs_to_spec(body: tuple[Paragraph, ...]) -> list[Any]:
    out: list[Any] = []
    for p in body:
        if body_from_text(p.full_text) == (p,):
            out.append(p.full_text)  # plain line: the level is found from its numbering
        else:
            item: dict[str, Any] = {}
            if p.heading:
                item["heading"] = p.heading
            if p.text:
                item["text"] = p.text
            if p.level:
                item["level"] = int(p.level)
            if p.heading_font:
                item["heading_font"] = p.heading_font
            out.append(item)
    return out


def document_to_spec(doc: OfficialDocument) -> dict[str, Any]:
    """The inverse of :func:`spec_to_document` (defaults left out), for examples and tests."""
    spec: dict[str, Any] = {"$schema": "../docs/document-spec.schema.json",
                            "type": doc.doc_type.value}
    if doc.variant is not FormatVariant.FILE:
        spec["format"] = doc.variant.value
    if doc.copy_number:
        spec["copy_number"] = doc.copy_number
    if doc.urgency is not Urgency.NONE:
        spec["urgency"] = doc.urgency.value
    issuers = []
    for i in doc.issuers:
        item: dict[str, Any] = {"name": i.name}
        if i.mark:
            item["mark"] = i.mark
        if not i.sealed:
            item["sealed"] = False
        if i.seal_diameter_mm != 42.0:
            item["seal_diameter_mm"] = i.seal_diameter_mm
        if i.signer:
            item["signer"] = i.signer
        if i.signer_title:
            item["signer_title"] = i.signer_title
        issuers.append(item)
    spec["issuers"] = issuers
    if doc.mark_suffix != "文件":
        spec["mark_suffix"] = doc.mark_suffix
    if doc.mark_size_mm:
        spec["mark_size_mm"] = doc.mark_size_mm
    if doc.doc_number:
        spec["doc_number"] = str(doc.doc_number)
    if doc.signers:
        spec["signers"] = list(doc.signers)
    spec["title"] = doc.title
    if doc.main_recipients:
        spec["main_recipients"] = doc.main_recipients
    spec["body"] = _paragraphs_to_spec(doc.body)
    if doc.attachments:
        spec["attachments"] = [
            {"title": a.title, "body": _paragraphs_to_spec(a.body)} if a.body else {"title": a.title}
            for a in doc.attachments]
    spec["date"] = doc.date.isoformat()
    if doc.note:
        spec["note"] = doc.note
    if doc.copy_to:
        spec["copy_to"] = list(doc.copy_to)
    if doc.printer:
        spec["printer"] = doc.printer
    if doc.print_date:
        spec["print_date"] = doc.print_date.isoformat()
    if doc.attendance:
        spec["attendance"] = [{"label": a.label, "names": a.names} for a in doc.attendance]
    if doc.order_number:
        spec["order_number"] = doc.order_number
    if doc.signature_seal:
        spec["signature_seal"] = True
    return spec


# --- rendering (``gongwen doc render SPEC.json``) --------------------------------------------


def render_spec_files(spec_path: str, *, pdf: str | None = None, ofd: str | None = None,
                      out: str | None = None, fmt: str = "pdf", fonts=None,
                      stdout=None, stderr=None) -> int:
    """Read ``spec_path``, refuse classified or malformed specs, write the PDF and/or OFD.

    Exit codes: 0 written, 1 a font cannot be used, 2 bad input (unreadable or malformed
    spec, classified spec — with the classification guard's Chinese message — or an output
    that cannot be written). ``out`` + ``fmt`` is the ``--format/--out`` form."""
    import sys

    from gongwen.documents.gbt9704.fonts import FontError, FontSet
    from gongwen.documents.gbt9704.layout import layout_document
    from gongwen.documents.gbt9704.ofd import render_ofd
    from gongwen.documents.gbt9704.pdf import render_pdf

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    targets: list[tuple[str, str]] = []
    if pdf:
        targets.append(("pdf", pdf))
    if ofd:
        targets.append(("ofd", ofd))
    if out and not targets:
        targets.append((fmt, out))
    if not targets:
        print("错误：请用 --pdf OUT.pdf 和/或 --ofd OUT.ofd 指定输出文件", file=stderr)
        return 2
    try:
        with open(spec_path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        print(f"错误：无法读取公文规格文件 {spec_path}：{exc.strerror or exc}", file=stderr)
        return 2
    try:
        doc = load_spec(data, source=f" {spec_path} ")
    except ClassifiedSpec as exc:
        print(f"拒绝：{exc.message_zh}", file=stderr)
        return 2
    except SpecError as exc:
        print(f"错误：{exc.message_zh}", file=stderr)
        return 2
    try:
        layout = layout_document(doc, fonts if fonts is not None else FontSet.default())
        rendered = [(kind, path, render_pdf(layout) if kind == "pdf" else render_ofd(layout))
                    for kind, path in targets]
    except FontError as exc:
        print(f"无法排版：{exc.message_zh}", file=stderr)
        return 1
    except ModelError as exc:
        print(f"错误：{exc.message_zh}", file=stderr)
        return 2
    for kind, path, payload in rendered:
        try:
            with open(path, "wb") as fh:
                fh.write(payload)
        except OSError as exc:
            print(f"错误：无法写入 {path}：{exc.strerror or exc}", file=stderr)
            return 2
        print(f"{kind.upper()} written: {path} ({len(payload)} bytes, "
              f"{len(layout.pages)} pages)", file=stdout)
    return 0
