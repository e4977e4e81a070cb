"""``gongwen doc render SPEC.json --pdf OUT.pdf --ofd OUT.ofd`` through the CLI entry point:
exit codes, output files, Chinese messages (issue 7 item 7)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from gongwen.cli import main
from gongwen.documents.gbt9704 import OFDReader

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "gongwen" / "documents" / "examples" / "lyg-2006-107.json"
TITLE = "市政府办公室关于推行公文无纸化传输工作的通知"
NUMBER = "连政办发〔2006〕107号"


def _spec(tmp_path, obj, name="spec.json") -> str:
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False),
                    encoding="utf-8")
    return str(path)


def _minimal(**changes):
    obj = {"type": "通知", "issuers": ["连云港市人民政府办公室"], "title": "关于测试的通知",
           "body": "为做好测试工作，现通知如下。", "date": "2024-03-05"}
    obj.update(changes)
    return obj


def test_example_renders_pdf_and_ofd(tmp_path, capsys):
    pdf, ofd = tmp_path / "lyg.pdf", tmp_path / "lyg.ofd"
    assert main(["doc", "render", str(EXAMPLE), "--pdf", str(pdf), "--ofd", str(ofd)]) == 0
    out = capsys.readouterr()
    assert "PDF written" in out.out and "OFD written" in out.out and out.err == ""
    assert pdf.read_bytes().startswith(b"%PDF-")
    with zipfile.ZipFile(io.BytesIO(ofd.read_bytes())) as zf:
        assert zf.testzip() is None and zf.namelist()[0] == "OFD.xml"
    ofd_text = OFDReader(ofd.read_bytes()).text().replace("\n", "")
    assert TITLE in ofd_text and NUMBER in ofd_text
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert NUMBER in text
        assert TITLE in text.replace("\n", "")
        assert text.index(NUMBER) < text.index("市政府办公室关于推行") < text.index("为加快我市")


def test_one_format_only_and_the_format_out_form(tmp_path):
    ofd = tmp_path / "only.ofd"
    assert main(["doc", "render", str(EXAMPLE), "--ofd", str(ofd)]) == 0
    assert ofd.is_file() and not (tmp_path / "only.pdf").exists()
    pdf = tmp_path / "via-out.pdf"
    assert main(["doc", "render", str(EXAMPLE), "--format", "pdf", "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_seed_form_still_works(tmp_path):
    out = tmp_path / "seed.ofd"
    assert main(["doc", "render", "--seed", "--format", "ofd", "--out", str(out)]) == 0
    spec_ofd = tmp_path / "spec.ofd"
    assert main(["doc", "render", str(EXAMPLE), "--ofd", str(spec_ofd)]) == 0
    assert out.read_bytes() == spec_ofd.read_bytes()  # the example is the seed notice


@pytest.mark.django_db
def test_id_form_still_parses(tmp_path, capsys):
    assert main(["doc", "render", "999999", "--format", "pdf",
                 "--out", str(tmp_path / "x.pdf")]) == 2
    assert "no document 999999" in capsys.readouterr().err


@pytest.mark.parametrize("changes,where", [
    ({"secrecy": "秘密", "secrecy_period": "1年"}, "密级含有密级标志“秘密★1年”"),
    ({"body": ["正文第一段。", "机密★"]}, "正文第2行含有密级标志“机密★”"),
    ({"attachments": [{"title": "清单", "body": "密级：绝密"}]}, "附件第1行含有密级标志"),
])
def test_classified_spec_exits_2_with_the_guard_message(tmp_path, capsys, changes, where):
    pdf, ofd = tmp_path / "c.pdf", tmp_path / "c.ofd"
    path = _spec(tmp_path, _minimal(**changes))
    assert main(["doc", "render", path, "--pdf", str(pdf), "--ofd", str(ofd)]) == 2
    err = capsys.readouterr().err
    assert where in err
    assert "根据连政办发〔2006〕107号，密级公文不得通过无纸化传输，本平台拒绝处理" in err
    assert not pdf.exists() and not ofd.exists()


@pytest.mark.parametrize("text,needle", [
    ('{"type": "通知",}', "不是有效的JSON：第1行第15列，字段名须用双引号"),
    ("[]", "顶层应为JSON对象"),
    (json.dumps({"type": "通知", "title": "关于测试的通知", "body": "正文", "date": "2024-03-05"},
                ensure_ascii=False), "issuers：缺少必填字段"),
    (json.dumps(_minimal(issuers=[{"nam": "甲"}]), ensure_ascii=False),
     "issuers[0].name：缺少必填字段"),
    (json.dumps(_minimal(date="2024/3/5"), ensure_ascii=False), "date：日期应写作YYYY-MM-DD"),
    (json.dumps(_minimal(type="请示"), ensure_ascii=False), "上行文（请示）必须标注签发人"),
])
def test_malformed_spec_exits_2_with_a_chinese_message(tmp_path, capsys, text, needle):
    path = _spec(tmp_path, text)
    assert main(["doc", "render", path, "--pdf", str(tmp_path / "m.pdf")]) == 2
    err = capsys.readouterr().err
    assert needle in err, err
    assert err.startswith("错误：公文规格文件") and "Traceback" not in err
    assert not (tmp_path / "m.pdf").exists()


def test_missing_file_and_missing_outputs(tmp_path, capsys):
    assert main(["doc", "render", str(tmp_path / "none.json"), "--pdf",
                 str(tmp_path / "x.pdf")]) == 2
    assert "无法读取公文规格文件" in capsys.readouterr().err
    assert main(["doc", "render", str(EXAMPLE)]) == 2
    assert "--pdf" in capsys.readouterr().err
    assert main(["doc", "render", "--seed", "--pdf", str(tmp_path / "x.pdf")]) == 2
    assert main(["doc", "render", str(EXAMPLE), "--pdf",
                 str(tmp_path / "no-such-dir" / "x.pdf")]) == 2
    assert "无法写入" in capsys.readouterr().err
