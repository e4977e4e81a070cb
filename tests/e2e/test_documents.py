"""Official documents in a real browser (issue 7): a clerk of 市政府办公室 drafts a 通知 in the
editor (type, title, 主送 from a recipient group, body with a heading, an uploaded attachment)
and watches the live preview follow; the unit head approves it in 待核批 and the 发文字号
appears; the PDF and OFD downloads are real files; a body carrying "秘密★1年" is refused
with the Chinese message. Screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from gongwen.documents.models import OfficialDocument, local_today
from tests.apps.documents.conftest import make_pdf
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "关于推行公文无纸化传输工作的通知"
BODY = (
    "为加快我市电子政务应用步伐，提高政府行政效能，经研究，决定对全市已联网单位实行公文无纸化传输。\n"
    "一、工作要求\n"
    "各单位要明确分管领导，安排专门人员负责电子文件的接收和发送。"
)


@pytest.fixture(autouse=True)
def blob_dir(settings, tmp_path):
    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": str(tmp_path / "blobs")}


@pytest.fixture
def city_office(make_unit):
    from gongwen.units.models import Kind, Level

    return make_unit("连云港市人民政府办公室", short_name="连政办", level=Level.CITY,
                     kind=Kind.GOVERNMENT_OFFICE)


@pytest.fixture
def county_group(make_unit):
    from gongwen.units.models import Kind, Level, RecipientGroup

    group = RecipientGroup.objects.create(name="各县区人民政府")
    for name, short in (("东海县人民政府", "东政"), ("灌云县人民政府", "灌政")):
        group.members.add(make_unit(name, short_name=short, level=Level.COUNTY,
                                    kind=Kind.GOVERNMENT))
    return group


@pytest.fixture
def clerk(make_user, city_office):
    return make_user(city_office, "clerk", username="gov_clerk")


@pytest.fixture
def head(make_user, city_office):
    return make_user(city_office, "head", username="gov_head")


def _preview(page):
    return page.locator("#preview")


def _wait_for_preview(page, text: str) -> None:
    page.wait_for_function(
        "t => { const p = document.querySelector('#preview');"
        " return p && p.querySelector('svg') && p.textContent.replace(/\\s/g, '').includes(t); }",
        arg=text, timeout=20000)


def _new_draft(page, title: str, body: str) -> None:
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name="草稿").click()
    page.get_by_role("link", name="起草公文").click()
    page.get_by_label("文种").select_option(label="通知")
    page.get_by_label("标题").fill(title)
    page.get_by_role("group", name="主体").get_by_label("各县区人民政府").check()
    page.get_by_label("正文", exact=True).fill(body)


def test_clerk_drafts_head_approves_and_both_renditions_download(
        page, browser, live_server, shot, clerk, head, county_group, tmp_path):
    login(page, "gov_clerk", PASSWORD)
    _new_draft(page, TITLE, BODY)
    _wait_for_preview(page, "连云港市人民政府办公室文件")
    shot("editor-new")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存。")).to_be_visible()
    page.wait_for_url(re.compile(r"/drafts/\d+/$"))
    doc = OfficialDocument.objects.get(title=TITLE)
    assert doc.recipients.filter(group=county_group).exists()

    # The live preview follows the editor: a new heading shows up without saving.
    _wait_for_preview(page, "一、工作要求")
    expect(_preview(page).locator("svg").first).to_be_visible()
    page.get_by_label("正文", exact=True).fill(BODY + "\n二、联系方式\n联系人：王文书。")
    _wait_for_preview(page, "二、联系方式")
    # The recipient group's name is the 主送 line.
    assert "各县区人民政府" in _preview(page).text_content()
    shot("editor-live-preview")

    # An attachment: a PDF uploaded from the editor.
    pdf = tmp_path / "名单.pdf"
    pdf.write_bytes(make_pdf(("联网单位名单", "东海县人民政府")))
    form = page.locator("#attachment-form")
    form.get_by_label("文件（PDF或OFD）").set_input_files(str(pdf))
    form.get_by_label("附件名称").fill("联网单位名单")
    form.get_by_role("button", name="上传附件").click()
    expect(page.locator(".doc-files").get_by_text("联网单位名单")).to_be_visible()
    _wait_for_preview(page, "附件：联网单位名单")
    shot("editor-attachment")

    page.get_by_role("button", name="保存并提交核批").click()
    expect(page.get_by_text("已提交单位负责人核批。")).to_be_visible()
    page.wait_for_url(re.compile(r"/documents/\d+/$"))
    shot("submitted")

    # The unit head approves in 待核批; the 发文字号 is assigned.
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900},
                              base_url=live_server.url, accept_downloads=True)
    try:
        hp = ctx.new_page()
        hp.set_default_timeout(15000)
        login(hp, "gov_head", PASSWORD)
        hp.get_by_role("navigation", name="主导航").get_by_role("link", name="待核批").click()
        hp.locator("#approval-table").get_by_role("link", name=TITLE).click()
        hp.get_by_role("button", name="核批签发").click()
        number = f"连政办发〔{local_today().year}〕1号"
        expect(hp.get_by_text(f"已核批签发，发文字号：{number}。")).to_be_visible()
        hp.wait_for_url("**/approvals/")
        expect(hp.get_by_text("暂无待核批的公文。")).to_be_visible()
        hp.goto(f"/documents/{doc.pk}/")
        assert number in hp.locator("dl.facts").inner_text()
        _wait_for_preview(hp, number)
        hp.screenshot(path=str(_artifact("approved")), full_page=True)

        # Downloads through the buttons of the document page.
        with hp.expect_download() as info:
            hp.get_by_role("link", name="下载PDF").click()
        pdf_bytes = Path(info.value.path()).read_bytes()
        assert pdf_bytes.startswith(b"%PDF-")
        assert info.value.suggested_filename.endswith(".pdf")
        with hp.expect_download() as info:
            hp.get_by_role("link", name="下载OFD").click()
        ofd_bytes = Path(info.value.path()).read_bytes()
        assert info.value.suggested_filename.endswith(".ofd")
        names = zipfile.ZipFile(io.BytesIO(ofd_bytes)).namelist()
        assert "OFD.xml" in names
    finally:
        ctx.close()

    from pypdf import PdfReader

    from gongwen.documents.gbt9704 import OFDReader

    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_bytes)).pages)
    ofd_text = OFDReader(ofd_bytes).text()
    for text in (number, "一、工作要求", "附件：联网单位名单"):
        assert text in pdf_text.replace("\n", "").replace(" ", "")
        assert text in ofd_text.replace("\n", "")
    doc.refresh_from_db()
    assert doc.doc_number == number and doc.state == "approved"


def test_a_body_with_a_classification_mark_is_refused(page, shot, clerk, county_group):
    login(page, "gov_clerk", PASSWORD)
    _new_draft(page, "关于转发有关文件的通知", "秘密★1年\n现将有关文件转发给你们。")
    page.get_by_role("button", name="保存草稿").click()
    alert = page.locator("#draft-form").get_by_role("alert")
    alert.wait_for()
    message = alert.inner_text()
    assert "含有密级标志“秘密★1年”" in message
    assert "密级公文不得通过无纸化传输" in message
    shot("classified-refused")
    assert not OfficialDocument.objects.filter(title="关于转发有关文件的通知").exists()


def _artifact(name: str) -> Path:
    from tests.e2e.conftest import artifacts

    return artifacts() / f"test_documents-head-{name}.png"
