"""The JSON document spec (gongwen/documents/spec.py): spec → model → layout → PDF/OFD,
the classification guard on every text, and Chinese messages with field paths."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gongwen.documents import spec as specmod
from gongwen.documents.classification import find_mark
from gongwen.documents.gbt9704 import (
    Attachment,
    AttendanceLine,
    DocNumber,
    DocType,
    FormatVariant,
    Issuer,
    Level,
    OFDReader,
    OfficialDocument,
    Paragraph,
    Urgency,
    layout_document,
    render_ofd,
    render_pdf,
)
from gongwen.documents.spec import (
    ClassifiedSpec,
    SpecError,
    document_to_spec,
    load_spec,
    render_spec_files,
)

from .conftest import needs_tool
from .seed_notice import seed_notice

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "gongwen" / "documents" / "examples" / "lyg-2006-107.json"
SCHEMA = ROOT / "docs" / "document-spec.schema.json"

MINIMAL = {"type": "通知", "issuers": ["连云港市人民政府办公室"], "title": "关于测试的通知",
           "body": "为做好测试工作，现通知如下。", "date": "2024-03-05"}


def spec(**changes) -> dict:
    out = copy.deepcopy(MINIMAL)
    out.update(changes)
    return out


def load(obj) -> OfficialDocument:
    return load_spec(json.dumps(obj, ensure_ascii=False))


def full_document() -> OfficialDocument:
    """Every element the spec carries (except 密级, which no spec may have)."""
    return OfficialDocument(
        doc_type=DocType.REQUEST,
        variant=FormatVariant.FILE,
        copy_number="000123",
        urgency=Urgency.EXTRA_URGENT,
        issuers=(Issuer("连云港市人民政府办公室", mark="连云港市政府办公室", seal_diameter_mm=40.0),
                 Issuer("连云港市财政局", sealed=True, signer="李四", signer_title="局长")),
        mark_suffix="文件",
        doc_number=DocNumber("连政办请", 2024, 3),
        signers=("张三", "李四"),
        title="关于申请电子公文传输系统\n升级经费的请示",
        main_recipients="市人民政府：",
        body=(Paragraph(text="为保障公文无纸化传输安全运行，现将有关事项请示如下："),
              Paragraph(heading="一、基本情况。", text="系统已运行多年。", level=Level.H1),
              Paragraph(heading="（一）设备老化。", level=Level.H2),
              Paragraph(text="1.服务器已超期服役。", level=Level.H3),
              Paragraph(text="（1）须更换。", level=Level.H4),
              Paragraph(text="妥否，请批示。")),
        attachments=(Attachment("经费预算表", (Paragraph(text="合计五十万元。"),)),
                     Attachment("设备清单")),
        date=dt.date(2024, 3, 5),
        note="联系人：王五，电话：85800000",
        copy_to=("市委办公室", "市财政局"),
        printer="连云港市人民政府办公室",
        print_date=dt.date(2024, 3, 6),
    )


# --- spec → model ------------------------------------------------------------------------


def test_example_is_the_seed_notice():
    assert load_spec(EXAMPLE.read_bytes()) == seed_notice()


def test_minimal_spec_gets_the_defaults():
    doc = load(MINIMAL)
    assert doc.doc_type is DocType.NOTICE and doc.variant is FormatVariant.FILE
    assert doc.issuers == (Issuer("连云港市人民政府办公室"),)
    assert doc.doc_number is None and doc.attachments == () and doc.copy_to == ()
    assert doc.body == (Paragraph(text="为做好测试工作，现通知如下。"),)
    assert doc.date == dt.date(2024, 3, 5)


@pytest.mark.parametrize("variant", list(FormatVariant))
def test_every_element_round_trips(variant):
    doc = full_document()
    if variant is not FormatVariant.FILE:
        from dataclasses import replace

        changes = {"variant": variant}
        if variant is FormatVariant.MINUTES:
            changes.update(doc_type=DocType.MINUTES, signers=(),
                           attendance=(AttendanceLine("出席", "张三、李四"),
                                       AttendanceLine("列席", "王五")))
        if variant is FormatVariant.ORDER:
            changes.update(doc_type=DocType.ORDER, signers=("市长 张三", "局长 李四"),
                           order_number=12)
        doc = replace(doc, **changes)
    data = json.dumps(document_to_spec(doc), ensure_ascii=False)
    assert load_spec(data) == doc


def test_body_as_plain_text_finds_the_heading_levels():
    doc = load(spec(body="一、目标任务\n（一）第一阶段。联网单位。\n1.细则\n(2)半角括号\n正文"))
    assert [p.level for p in doc.body] == [Level.H1, Level.H2, Level.H3, Level.H4, Level.BODY]
    assert doc.body[1] == Paragraph(heading="（一）第一阶段。", text="联网单位。", level=Level.H2)


def test_paragraph_objects_and_shorthands():
    doc = load(spec(body=[{"heading": "第一条", "text": "　本办法。", "heading_font": "黑体"},
                          {"text": "第二段", "level": 0}],
                    attachments=["附件甲", {"title": "附件乙", "body": "内容"}],
                    copy_to="市委办公室", signers="张三"))
    assert doc.body[0].heading_font == "黑体" and doc.body[1].text == "第二段"
    assert [a.title for a in doc.attachments] == ["附件甲", "附件乙"]
    assert doc.attachments[1].body == (Paragraph(text="内容"),)
    assert doc.copy_to == ("市委办公室",) and doc.signers == ("张三",)


# --- classification guard ----------------------------------------------------------------


@pytest.mark.parametrize("changes,where", [
    ({"secrecy": "秘密", "secrecy_period": "1年"}, "密级"),
    ({"secrecy": "绝密"}, "密级"),
    ({"secrecy_period": "10年"}, "密级"),
    ({"title": "秘密★1年\n关于测试的通知"}, "标题"),
    ({"body": ["正文第一段。", "机密★"]}, "正文第2行"),
    ({"body": [{"heading": "一、", "text": "密级：秘密"}]}, "正文"),
    ({"attachments": [{"title": "清单", "body": "绝密★启用前"}]}, "附件"),
    ({"attachments": ["秘密★长期"]}, "附件"),
    ({"note": "密级：机密"}, "附注"),
    ({"copy_to": ["市委办公室", "秘密"]}, "抄送机关"),
    ({"issuers": [{"name": "甲单位", "mark": "机密★"}]}, "发文机关"),
    ({"main_recipients": "秘密 10年"}, "主送机关"),
    ({"comment": "机密★5年"}, "comment"),
])
def test_classified_spec_is_refused_with_the_guards_message(changes, where):
    with pytest.raises(ClassifiedSpec) as exc:
        load(spec(**changes))
    finding = exc.value.finding
    assert finding.source.startswith(where.split("第")[0])
    assert exc.value.message_zh == finding.message_zh
    assert "密级公文不得通过无纸化传输" in exc.value.message_zh
    assert where in exc.value.message_zh


def test_classified_and_malformed_is_refused_as_classified():
    with pytest.raises(ClassifiedSpec):
        load({"title": "秘密★1年", "body": 5})


def test_prose_about_secrecy_is_not_a_mark():
    doc = load(spec(body="各单位要保守国家秘密，所有密级文件不得通过无纸化传输。\n（八）密级公文不得传输。",
                    note="参照《秘密文件的管理规定》执行"))
    assert find_mark(doc.body[0].text) is None
    assert len(doc.body) == 2


# --- malformed specs ---------------------------------------------------------------------


def _errors(data) -> SpecError:
    with pytest.raises(SpecError) as exc:
        load_spec(data if isinstance(data, (str, bytes)) else json.dumps(data, ensure_ascii=False),
                  source=" t.json ")
    assert "Traceback" not in exc.value.message_zh
    assert exc.value.message_zh.startswith("公文规格文件 t.json 有误")
    return exc.value


@pytest.mark.parametrize("text,needle", [
    ('{"type": "通知",}', "字段名须用双引号"),
    ('{"type": "通知"', "第1行"),
    ("", "不是有效的JSON"),
    ("[1, 2]", "顶层应为JSON对象"),
    (b"\xff\xfe{", "不是UTF-8编码"),
])
def test_not_json(text, needle):
    assert needle in _errors(text).message_zh


@pytest.mark.parametrize("field", specmod.REQUIRED)
def test_missing_required_field_names_its_path(field):
    obj = spec()
    del obj[field]
    err = _errors(obj)
    assert (field, "缺少必填字段") in err.errors
    assert f"{field}：缺少必填字段" in err.message_zh


def test_every_problem_is_listed_with_its_path():
    err = _errors({"type": "通告书", "issuers": [{"nam": "甲"}, 3, {"name": "乙", "sealed": "是"}],
                   "title": "", "body": [{"text": "x", "level": 7}, 5], "date": "2024-13-01",
                   "urgency": "急", "copy_to": ["甲", 1], "doc_number": "连政办发2006-107",
                   "print_date": "2024/1/1", "order_number": "3", "extra": 1})
    paths = {path for path, _ in err.errors}
    assert paths >= {"type", "issuers[0].nam", "issuers[0].name", "issuers[1]",
                     "issuers[2].sealed", "title", "body[0].level", "body[1]", "date", "urgency",
                     "copy_to[1]", "doc_number", "print_date", "order_number", "extra"}
    assert "应为true 或 false" in err.message_zh or "true 或 false" in err.message_zh
    assert "发文字号格式不正确" in err.message_zh


def test_model_rules_come_back_as_spec_errors():
    err = _errors(spec(type="请示", title="关于经费的请示"))
    assert "上行文（请示）必须标注签发人" in err.message_zh
    err = _errors(spec(printer="", print_date="2024-03-06"))
    assert "印发日期须与印发机关一并标注" in err.message_zh
    err = _errors(spec(copy_number="12"))
    assert "份号应为6位阿拉伯数字" in err.message_zh


def test_empty_issuers_and_body():
    err = _errors(spec(issuers=[], body=[]))
    assert ("issuers", "至少需要一个发文机关") in err.errors
    assert ("body", "正文不能为空") in err.errors


# --- the schema --------------------------------------------------------------------------


def test_schema_matches_the_reader():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert set(schema["properties"]) == set(specmod.FIELDS)
    assert tuple(schema["required"]) == specmod.REQUIRED
    issuer = schema["properties"]["issuers"]["items"]["oneOf"][1]
    assert set(issuer["properties"]) == set(specmod.ISSUER_FIELDS)
    para = schema["$defs"]["body"]["oneOf"][1]["items"]["oneOf"][1]
    assert set(para["properties"]) == set(specmod.PARAGRAPH_FIELDS)
    att = schema["properties"]["attachments"]["items"]["oneOf"][1]
    assert set(att["properties"]) == set(specmod.ATTACHMENT_FIELDS)
    assert schema["properties"]["type"]["enum"] == [t.value for t in DocType]
    assert schema["properties"]["format"]["enum"] == [v.value for v in FormatVariant]


def test_schema_validates_the_example_and_the_full_document():
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    validator.validate(document_to_spec(full_document()))
    assert not validator.is_valid(spec(secrecy="秘密"))
    assert not validator.is_valid({k: v for k, v in MINIMAL.items() if k != "title"})


# --- spec → layout → PDF / OFD -----------------------------------------------------------


def test_example_renders_like_the_seed_notice(fonts, seed_pdf, seed_ofd):
    lay = layout_document(load_spec(EXAMPLE.read_bytes()), fonts)
    assert render_pdf(lay) == seed_pdf
    assert render_ofd(lay) == seed_ofd


def test_every_element_reaches_the_page(fonts):
    lay = layout_document(full_document(), fonts)
    text = lay.text()
    joined = text.replace("\n", "")
    for needle in ("000123", "特急", "连云港市政府办公室", "连政办请〔2024〕3号", "签发人：张三李四",
                   "关于申请电子公文传输系统", "市人民政府：", "一、基本情况。系统已运行多年。",
                   "（一）设备老化。", "（1）须更换。", "附件：1.经费预算表", "2.设备清单",
                   "连云港市人民政府办公室连云港市财政局", "2024年3月5日",
                   "（联系人：王五，电话：85800000）", "附件1经费预算表合计五十万元。", "附件2设备清单",
                   "抄送：市委办公室，市财政局。", "连云港市人民政府办公室2024年3月6日印发"):
        assert needle in joined, needle
    assert len(lay.seals) == 2
    ofd = render_ofd(lay)
    assert OFDReader(ofd).text().replace("\n", "") == text.replace("\n", "")


@needs_tool("pdftotext")
def test_render_spec_files_writes_both(tmp_path, fonts):
    pdf, ofd = tmp_path / "out.pdf", tmp_path / "out.ofd"
    out, err = io.StringIO(), io.StringIO()
    assert render_spec_files(str(EXAMPLE), pdf=str(pdf), ofd=str(ofd), fonts=fonts,
                             stdout=out, stderr=err) == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert "OFD.xml" in zipfile.ZipFile(ofd).namelist()
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "连政办发〔2006〕107号" in text and "公文无纸化传输工作的通知" in text
    assert "PDF written" in out.getvalue() and err.getvalue() == ""


def test_render_spec_files_refuses(tmp_path, fonts):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(spec(secrecy="机密"), ensure_ascii=False), encoding="utf-8")
    err = io.StringIO()
    assert render_spec_files(str(bad), pdf=str(tmp_path / "x.pdf"), fonts=fonts,
                             stderr=err) == 2
    assert "密级公文不得通过无纸化传输" in err.getvalue()
    assert not (tmp_path / "x.pdf").exists()
    err = io.StringIO()
    assert render_spec_files(str(tmp_path / "none.json"), pdf="x.pdf", stderr=err) == 2
    assert "无法读取公文规格文件" in err.getvalue()
    err = io.StringIO()
    assert render_spec_files(str(EXAMPLE), stderr=err) == 2
    assert "--pdf" in err.getvalue()


def test_easyofd_reads_the_example(fonts):
    """The independent reader on the example's OFD (see test_ofd.py for the seed notice)."""
    pytest.importorskip("easyofd", reason="easyofd (PyPI, pulls PyMuPDF) is not installed")
    import base64

    from easyofd.parser_ofd.ofd_parser import OFDParser

    lay = layout_document(load_spec(EXAMPLE.read_bytes()), fonts)
    doc = OFDParser(base64.b64encode(render_ofd(lay)).decode())()[0]
    pages = doc["page_info"]
    assert len(pages) == len(lay.pages)
    text = "".join(t["text"] for p in sorted(pages) for t in pages[p]["text_list"])
    assert text == "".join(r.text for p in lay.pages for r in p.runs)


def test_spec_module_is_django_free():
    code = ("import sys, gongwen.documents.spec; "
            "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
