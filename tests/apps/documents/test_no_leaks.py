"""Drafts and documents awaiting approval are seen by their own unit only (R-SEC-1): every
URL of the platform (``tests.crawl.leaks``) requested by users of every role of the unit the
draft is addressed to (before dispatch) and of an unrelated unit shows neither the title,
the body text, the uploaded body file nor an attachment (of a draft, and of a document
submitted for approval). The drafting clerk, requesting the
same, sees all of them (the control)."""

from __future__ import annotations

import io

import pytest

from gongwen.accounts.models import Role
from gongwen.documents import blobs, services
from tests.crawl import assert_no_leaks, distinctive, secrets_shown, urls

from .conftest import make_pdf

BODY = "一、总体要求\n戊己庚辛数据报送口径须于本月底前统一。"


@pytest.fixture
def world(make_draft, submitted, clerk_a, make_user, make_unit, unit_b):
    draft = make_draft(title="关于甲乙丙丁年度预算编制的通知")
    attachment_file = make_pdf(("甲乙丙丁预算明细表", "单位：万元"))
    body_file = make_pdf(("关于甲乙丙丁年度预算编制的通知", "正文文件"))
    attachment = services.add_attachment(actor=clerk_a, doc_id=draft.pk,
                                         file=io.BytesIO(attachment_file),
                                         filename="甲乙丙丁预算明细表.pdf", title="甲乙丙丁预算明细表")
    services.set_body_file(actor=clerk_a, doc_id=draft.pk, file=io.BytesIO(body_file),
                           filename="正文.pdf")
    waiting = submitted(title="关于戊己庚辛统计数据报送的通知", body_text=BODY)
    real = {"doc_id": str(draft.pk), "attachment_id": str(attachment.pk), "how": "up",
            "fmt": "pdf", "decision": "approve"}
    found = urls(real, wrong=False)
    found = sorted(set(found) | {u.replace(f"/{draft.pk}/", f"/{waiting.pk}/") for u in found})
    others = [blobs.read(a.blob) for a in draft.attachments.all()]
    third = make_unit("连云港市统计局")
    users = {"anonymous": None}
    for unit, label in ((unit_b, "addressee"), (third, "outsider")):
        users |= {f"{label} {role}": make_user(unit, role, username=f"{label}_{role}")
                  for role in Role.values}
    secrets = {"title": draft.title.encode(), "body text": "戊己庚辛数据报送口径".encode(),
               "attachment": distinctive(attachment_file, body_file, *others[1:]),
               "attachment name": "甲乙丙丁预算明细表".encode(),
               "body file": distinctive(body_file, attachment_file),
               "waiting title": waiting.title.encode()}
    return {"found": found, "users": users, "secrets": secrets,
            "searches": (draft.title, waiting.title)}


def test_no_url_shows_a_draft_to_another_unit(world):
    assert_no_leaks(world["found"], world["users"], world["secrets"], world["searches"],
                    refused=500)


def test_the_crawl_finds_what_the_drafting_clerk_sees(world, clerk_a):
    assert secrets_shown(world["found"], clerk_a, world["secrets"],
                         world["searches"]) == set(world["secrets"])
