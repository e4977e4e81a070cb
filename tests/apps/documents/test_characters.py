"""Characters a document may hold (QA: an emoji title passed 核批 and could never be rendered
or sealed; a U+202E showed a title reversed in the sealing queue). Refused when a draft is
saved, through every entry (services, web form, API), and again at submission and 核批, before
a 发文字号 is taken."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from gongwen.documents import rendering, services
from gongwen.documents.models import Attachment, NumberCounter, OfficialDocument, State

from .conftest import make_pdf

pytestmark = pytest.mark.django_db

EMOJI_MESSAGE = "标题中含有无法排版的字符「😀」（U+1F600），请删除或改用其他字符。"


def refusal(call) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        call()
    return exc.value.messages


# -- characters the fonts cannot draw ---------------------------------------------------------
def test_emoji_title_is_refused_at_creation_naming_character_and_field(clerk_a, draft_fields):
    messages = refusal(lambda: services.create_draft(
        actor=clerk_a, **draft_fields(title="关于召开庆祝大会的通知😀")))
    assert messages == [EMOJI_MESSAGE]
    assert not OfficialDocument.objects.exists()


@pytest.mark.parametrize(("field", "value", "label"), [
    ("body_text", "一、会议安排\n请准时参加🎉。", "正文"),
    ("main_recipients_text", "各县、区人民政府👍", "主送机关"),
    ("copy_to_text", "市委办公室👍", "抄送机关"),
    ("signature_text", "连云港市人民政府办公室👍", "发文机关署名"),
    ("mark_text", "连云港市人民政府👍", "发文机关标志"),
    ("note", "联系人：张丽☎️", "附注"),
    ("printer", "连云港市人民政府办公室👍", "印发机关"),
    ("signers", "张三👍", "签发人"),
])
def test_every_typeset_field_is_checked_on_update(clerk_a, make_draft, field, value, label):
    doc = make_draft()
    messages = refusal(lambda: services.update_draft(actor=clerk_a, doc_id=doc.pk,
                                                     **{field: value}))
    assert len(messages) == 1 and messages[0].startswith(f"{label}中含有无法排版的字符「")
    doc.refresh_from_db()
    assert doc.revision == 1


def test_several_missing_characters_are_named_once_each(clerk_a, draft_fields):
    messages = refusal(lambda: services.create_draft(
        actor=clerk_a, **draft_fields(body_text="😀好😀\n🎉")))
    assert messages == ["正文中含有无法排版的字符「😀」（U+1F600）、「🎉」（U+1F389），"
                        "请删除或改用其他字符。"]


def test_ordinary_official_text_passes(clerk_a, draft_fields):
    doc = services.create_draft(actor=clerk_a, **draft_fields(
        title="关于转发《省政府办公厅关于加强“放管服”改革工作的意见》的通知",
        body_text="一、目标任务\n（一）2024年完成率达到100%（含①②项）。\n\t缩进的段落…——★",
        note="联系人：张丽，电话：0518-85820000", copy_to_text="市委办公室，市人大常委会办公室"))
    assert doc.pk


def test_the_check_is_the_fonts_own(clerk_a, draft_fields, monkeypatch):
    """GIVEN fonts that lack a character WHEN a draft holds it THEN it is refused: the rule
    is the layout's FontSet.can_draw, not a list of characters of its own."""
    fonts = rendering.font_set()
    monkeypatch.setattr(type(fonts), "can_draw", lambda self, ch: ch != "甲")
    messages = refusal(lambda: services.create_draft(actor=clerk_a, **draft_fields(
        title="关于甲项目的通知")))
    assert messages == ["标题中含有无法排版的字符「甲」（U+7532），请删除或改用其他字符。"]


def test_fonts_that_cannot_be_loaded_do_not_stop_drafting(clerk_a, draft_fields, monkeypatch):
    def broken():
        raise rendering.RenderError("找不到字体文件：/srv/fonts/仿宋.ttf")

    monkeypatch.setattr(rendering, "font_set", broken)
    assert services.create_draft(actor=clerk_a, **draft_fields(title="关于开会的通知")).pk
    # The invisible characters do not depend on the fonts.
    refusal(lambda: services.create_draft(actor=clerk_a, **draft_fields(
        title="关于\u202e知通的会开")))


# -- invisible control and format characters --------------------------------------------------
@pytest.mark.parametrize("ch", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
                                "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c",
                                "\x00", "\x07", "\x1b", "\x7f", "\U000e0041"])
def test_invisible_character_in_the_title_is_refused(clerk_a, draft_fields, ch):
    messages = refusal(lambda: services.create_draft(
        actor=clerk_a, **draft_fields(title=f"关于{ch}开会的通知")))
    assert messages == [f"标题中含有不可见的控制字符（U+{ord(ch):04X}，位于“关于”之后），"
                        "请删除后重试。"]
    assert not OfficialDocument.objects.exists()


# -- paste litter: removed, not refused ---------------------------------------------------------
LITTER = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def test_paste_litter_is_removed_when_a_draft_is_saved(clerk_a, draft_fields):
    """GIVEN text pasted from a web page, with zero-width spaces and joiners, a byte order
    mark, soft hyphens and Unicode line separators (nobody can see them, nor find them to
    delete) WHEN the draft is saved THEN they are gone, and a line separator is a line break
    where the element may hold one, else a space."""
    doc = services.create_draft(actor=clerk_a, **draft_fields(
        title=f"\ufeff关于{LITTER}开会的\u2028通知\u200b",
        body_text="第一段\u200b内容\u2029第二段\u00ad内容\u2028第三段",
        note="联系人：张丽\u2028电话：0518-85820000\u200b", signers=["张\u200b三", "\ufeff"],
        copy_to_text="市委办公室\u2060"))
    doc.refresh_from_db()
    assert doc.title == "关于开会的\n通知"
    assert [p["text"] for p in doc.body] == ["第一段内容", "第二段内容", "第三段"]
    assert doc.note == "联系人：张丽 电话：0518-85820000"
    assert doc.signers == ["张三"]
    assert doc.copy_to_text == "市委办公室"


def test_paste_litter_is_removed_from_structured_paragraphs_and_updates(clerk_a, make_draft):
    doc = make_draft()
    services.update_draft(actor=clerk_a, doc_id=doc.pk, signers="李\u200b四，王五\ufeff", body=[
        {"heading": "一、\u200b总体要求", "text": "", "level": 1},
        {"heading": "", "text": "严格\u00ad执行\u2028到位", "level": 0}])
    doc.refresh_from_db()
    assert doc.signers == ["李四", "王五"]
    assert doc.body == [{"heading": "一、总体要求", "text": "", "level": 1},
                        {"heading": "", "text": "严格执行\n到位", "level": 0}]


def test_a_title_of_litter_only_is_empty(clerk_a, draft_fields):
    messages = refusal(lambda: services.create_draft(actor=clerk_a, **draft_fields(
        title="\u200b\ufeff")))
    assert messages == ["标题不能为空。"]


def test_a_line_break_in_the_title_is_the_users_own_break(clerk_a, draft_fields):
    """The layout breaks a title where the user put a line break (docs/documents.md)."""
    doc = services.create_draft(actor=clerk_a, **draft_fields(
        title="关于推行公文无纸化传输工作\n的通知"))
    assert doc.title.endswith("\n的通知")


def test_reversed_title_example_from_qa(clerk_a, draft_fields):
    messages = refusal(lambda: services.create_draft(
        actor=clerk_a, **draft_fields(title="\u202e知通的议会开召于关")))
    assert messages == ["标题中含有不可见的控制字符（U+202E），请删除后重试。"]


@pytest.mark.parametrize(("field", "label"), [
    ("body_text", "正文"), ("main_recipients_text", "主送机关"), ("copy_to_text", "抄送机关"),
    ("signature_text", "发文机关署名"), ("mark_text", "发文机关标志"), ("note", "附注"),
    ("printer", "印发机关"), ("signers", "签发人")])
def test_bidi_override_is_refused_in_every_field(clerk_a, make_draft, field, label):
    doc = make_draft()
    messages = refusal(lambda: services.update_draft(actor=clerk_a, doc_id=doc.pk,
                                                     **{field: "甲\u202e乙"}))
    assert messages == [f"{label}中含有不可见的控制字符（U+202E，位于“甲”之后），请删除后重试。"]


def test_body_may_hold_line_breaks_and_tabs_but_no_other_control(clerk_a, draft_fields):
    doc = services.create_draft(actor=clerk_a, **draft_fields(
        body_text="第一段\r\n\t第二段，\t有制表符。\n\n第三段"))
    assert [p["text"] for p in doc.body] == ["第一段", "第二段，\t有制表符。", "第三段"]
    messages = refusal(lambda: services.create_draft(actor=clerk_a, **draft_fields(
        body_text="为加快我市电子政务应用步伐\u200e，经研究")))
    assert messages == ["正文中含有不可见的控制字符（U+200E，位于“我市电子政务应用步伐”之后），"
                        "请删除后重试。"]


def test_structured_body_paragraphs_are_checked_too(clerk_a, draft_fields):
    fields = draft_fields()
    del fields["body_text"]
    messages = refusal(lambda: services.create_draft(actor=clerk_a, **fields, body=[
        {"heading": "一、总体要求", "text": "", "level": 1},
        {"heading": "", "text": "严格\u2067执行", "level": 0}]))
    assert messages == ["正文中含有不可见的控制字符（U+2067，位于“严格”之后），请删除后重试。"]


def test_a_field_breaking_both_rules_gets_both_messages(clerk_a, draft_fields):
    messages = refusal(lambda: services.create_draft(
        actor=clerk_a, **draft_fields(title="\u2066关于😀的通知", note="附\u200f注")))
    assert messages == ["标题中含有不可见的控制字符（U+2066），请删除后重试。",
                        "标题中含有无法排版的字符「😀」（U+1F600），请删除或改用其他字符。",
                        "附注中含有不可见的控制字符（U+200F，位于“附”之后），请删除后重试。"]


def test_lone_surrogate_is_named_by_its_code_point_only(clerk_a, draft_fields):
    messages = refusal(lambda: services.create_draft(
        actor=clerk_a, **draft_fields(title="关于\ud800的通知")))
    assert messages == ["标题中含有不可见的控制字符（U+D800，位于“关于”之后），请删除后重试。"]
    messages[0].encode("utf-8")  # the message itself can be sent


def test_preview_reports_the_same_rule(clerk_a, draft_fields):
    with pytest.raises(ValidationError, match="U\\+202E"):
        services.unsaved_document(actor=clerk_a, **draft_fields(title="关于\u202e开会的通知"))


# -- uploads ----------------------------------------------------------------------------------
def test_attachment_title_and_filename_are_checked(clerk_a, make_draft):
    doc = make_draft()
    messages = refusal(lambda: services.add_attachment(
        actor=clerk_a, doc_id=doc.pk, file=make_pdf(), filename="名单.pdf", title="名单😀"))
    assert messages == ["附件名称中含有无法排版的字符「😀」（U+1F600），请删除或改用其他字符。"]
    messages = refusal(lambda: services.set_body_file(
        actor=clerk_a, doc_id=doc.pk, file=make_pdf(), filename="gpj.\u202eexe.pdf"))
    assert messages == ["文件名中含有不可见的控制字符（U+202E，位于“gpj.”之后），请删除后重试。"]
    assert not doc.attachments.exists()


def test_paste_litter_is_removed_from_attachment_names(clerk_a, make_draft):
    doc = make_draft()
    att = services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_pdf(),
                                  filename="名单\u200b.pdf", title="\ufeff报名\u00ad名单")
    assert (att.title, att.filename) == ("报名名单", "名单.pdf")
    services.set_body_file(actor=clerk_a, doc_id=doc.pk, file=make_pdf(),
                           filename="\u200b省政府文件.pdf")
    doc.refresh_from_db()
    assert doc.body_filename == "省政府文件.pdf"


# -- submission and 核批: documents saved before the rule ---------------------------------------
def _legacy(doc, **fields):
    """Text written before the rule existed (straight to the table, as a migration would)."""
    OfficialDocument.objects.filter(pk=doc.pk).update(**fields)


def test_approval_refuses_an_untypesettable_document_before_numbering(head_a, submitted):
    doc = submitted()
    _legacy(doc, title="关于召开庆祝大会的通知😀")
    messages = refusal(lambda: services.approve(actor=head_a, doc_id=doc.pk))
    assert messages == [EMOJI_MESSAGE]
    doc.refresh_from_db()
    assert doc.state == State.SUBMITTED and doc.number_serial is None
    assert not NumberCounter.objects.filter(last__gt=0).exists()
    # Returned, corrected and resubmitted, it is approved with the first number.
    services.return_with_comments(actor=head_a, doc_id=doc.pk, comment="请删除标题中的表情符号")
    services.update_draft(actor=doc.created_by, doc_id=doc.pk, title="关于召开庆祝大会的通知")
    services.submit(actor=doc.created_by, doc_id=doc.pk)
    assert services.approve(actor=head_a, doc_id=doc.pk).number_serial == 1


def test_approval_refuses_a_reversed_title(head_a, submitted):
    doc = submitted()
    _legacy(doc, title="关于\u202e知通的会开")
    messages = refusal(lambda: services.approve(actor=head_a, doc_id=doc.pk))
    assert messages == ["标题中含有不可见的控制字符（U+202E，位于“关于”之后），请删除后重试。"]
    assert OfficialDocument.objects.get(pk=doc.pk).number_serial is None


def test_submission_checks_attachments_and_recipient_names(clerk_a, make_draft, unit_b):
    doc = make_draft()
    Attachment.objects.create(document=doc, position=0, title="报名表\u200b",
                              body=[{"heading": "", "text": "姓名👤", "level": 0}])
    unit_b.name = "东海县人民政府🏛"
    unit_b.save(update_fields=["name"])
    messages = refusal(lambda: services.submit(actor=clerk_a, doc_id=doc.pk))
    assert messages == [
        "附件1名称中含有不可见的控制字符（U+200B，位于“报名表”之后），请删除后重试。",
        "附件1正文中含有无法排版的字符「👤」（U+1F464），请删除或改用其他字符。",
        "主送机关中含有无法排版的字符「🏛」（U+1F3DB），请删除或改用其他字符。"]
    assert OfficialDocument.objects.get(pk=doc.pk).state == State.DRAFT


# -- the web form -----------------------------------------------------------------------------
def test_editor_refuses_with_the_message_and_keeps_the_input(client, clerk_a, unit_b):
    client.force_login(clerk_a)
    body = "一、会议安排\n请各单位准时参加。"
    response = client.post(reverse("web:draft_create"), {
        "doc_type": "notice", "variant": "file", "number_series": "发",
        "title": "关于召开庆祝大会的通知😀", "body_text": body, "main_units": [unit_b.pk],
        "note": "联系人：张丽"})
    page = response.content.decode()
    assert response.status_code == 200 and not OfficialDocument.objects.exists()
    assert EMOJI_MESSAGE in page
    assert 'value="关于召开庆祝大会的通知😀"' in page
    assert "请各单位准时参加。" in page and 'value="联系人：张丽"' in page


def test_editor_counts_the_length_without_the_litter(client, clerk_a, unit_b):
    """Review: a 份号 pasted as 000001 plus a zero-width space was refused as 7 characters
    long by the form, before the services could drop the litter. The one-line 标题 box
    turns a pasted line separator into a space, as the box shows it."""
    client.force_login(clerk_a)
    response = client.post(reverse("web:draft_create"), {
        "doc_type": "notice", "variant": "file", "number_series": "发",
        "copy_number": "000001\u200b", "title": "关于召开\u2028庆祝大会的通知\ufeff",
        "body_text": "请各单位\u2029准时参加。", "main_units": [unit_b.pk]})
    assert response.status_code == 302, response.content.decode()[:2000]
    doc = OfficialDocument.objects.get()
    assert doc.copy_number == "000001"
    assert doc.title == "关于召开 庆祝大会的通知"
    assert [p["text"] for p in doc.body] == ["请各单位", "准时参加。"]
