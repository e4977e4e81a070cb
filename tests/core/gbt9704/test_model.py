import datetime as dt

import pytest

from gongwen.documents.gbt9704.model import (
    DocNumber,
    DocType,
    Issuer,
    Level,
    ModelError,
    OfficialDocument,
    Paragraph,
    Secrecy,
    body_from_text,
    format_date,
)

from .seed_notice import seed_notice


def test_doc_number_prints_and_parses():
    n = DocNumber("连政办发", 2006, 107)
    assert str(n) == "连政办发〔2006〕107号"
    assert DocNumber.parse("连政办发〔2006〕107号") == n


@pytest.mark.parametrize(
    "bad", ["连政办发〔2006〕第107号", "连政办发〔06〕107号", "连政办发〔2006〕007号", "107号"]
)
def test_doc_number_refuses_irregular_forms(bad):
    with pytest.raises(ModelError) as exc:
        DocNumber.parse(bad)
    assert "发文字号" in exc.value.message_zh


def test_there_are_fifteen_document_types_and_two_are_upward():
    assert len(DocType) == 15
    assert {t for t in DocType if t.upward} == {DocType.REQUEST, DocType.REPORT}


def test_upward_document_requires_signers():
    with pytest.raises(ModelError) as exc:
        seed_notice(doc_type=DocType.REQUEST)
    assert "签发人" in exc.value.message_zh
    assert seed_notice(doc_type=DocType.REQUEST, signers=("张三",)).signers == ("张三",)


def test_validation_lists_every_problem():
    with pytest.raises(ModelError) as exc:
        OfficialDocument(
            doc_type=DocType.NOTICE,
            issuers=(),
            title=" ",
            body=(),
            date=dt.date(2025, 3, 1),
            copy_number="12",
            secrecy_period="1年",
        )
    assert len(exc.value.errors) == 5


def test_secrecy_text_and_joint_flag():
    doc = seed_notice(
        secrecy=Secrecy.SECRET, secrecy_period="1年", issuers=(Issuer("甲单位"), Issuer("乙单位"))
    )
    assert doc.secrecy_text == "秘密★1年"
    assert doc.joint


def test_date_uses_arabic_numerals_without_padding():
    assert format_date(dt.date(2025, 3, 1)) == "2025年3月1日"


def test_body_from_text_detects_heading_levels():
    pars = body_from_text(
        "正文。\n一、目标任务\n(一)积极做好工作。各单位要落实。\n1.第一点。\n（1）小点。"
    )
    assert [p.level for p in pars] == [Level.BODY, Level.H1, Level.H2, Level.H3, Level.H4]
    assert pars[1] == Paragraph(heading="一、目标任务", level=Level.H1)
    assert pars[2].heading == "（一）积极做好工作。" and pars[2].text == "各单位要落实。"


def test_attachment_labels_are_numbered_only_when_several():
    doc = seed_notice()
    assert doc.attachment_labels() == ["附件"]
    two = seed_notice(attachments=doc.attachments * 2)
    assert two.attachment_labels() == ["附件1", "附件2"]
