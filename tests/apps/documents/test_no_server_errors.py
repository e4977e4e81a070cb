"""The draft, approval and document pages crawled with bad input around a draft with an
attachment and an uploaded body file, and a submitted draft (``tests.crawl``): no answer of
status 500 or more, as the drafting clerk, the approving head, another unit's clerk and an
anonymous visitor."""

from __future__ import annotations

import io

from gongwen.accounts.models import Role
from gongwen.documents import services
from tests.crawl import server_errors, urls

from .conftest import make_pdf


def test_no_document_page_answers_bad_input_with_a_server_error(
        make_draft, submitted, clerk_a, head_a, make_user, unit_b):
    draft = make_draft()
    attachment = services.add_attachment(actor=clerk_a, doc_id=draft.pk,
                                         file=io.BytesIO(make_pdf()), filename="附件一.pdf",
                                         title="附件一")
    services.set_body_file(actor=clerk_a, doc_id=draft.pk, file=io.BytesIO(make_pdf()),
                           filename="正文.pdf")
    waiting = submitted(title="关于报送统计数据的通知")
    real = {"doc_id": str(draft.pk), "attachment_id": str(attachment.pk), "how": "up",
            "fmt": "pdf", "decision": "approve"}
    documents_only = ("drafts/", "documents/", "approvals/", "api/documents", "api/approvals")
    found = urls(real, only=lambda pattern: pattern.startswith(documents_only))
    found += [u.replace(f"/{draft.pk}/", f"/{waiting.pk}/") for u in found
              if f"/{draft.pk}/" in u]
    users = {"anonymous": None, "clerk": clerk_a, "head": head_a,
             "another unit's clerk": make_user(unit_b, Role.CLERK)}
    failures, answered = server_errors(sorted(set(found)), users)
    assert len(found) > 20
    assert not failures, "\n".join(failures)
    assert answered[2] > 20 and answered[4] > 50, answered
