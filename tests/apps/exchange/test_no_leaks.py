"""A unit never sees another unit's documents unless it is a party to them (the brief,
R-SEC-1), on every URL: every page, file download and API endpoint of the platform is
requested (``tests.crawl.leaks``: plain, with a garbage query and form, and with the
document's title as search term) by users of every role of a unit that is not a party, and
by recipients before the document is dispatched to them. No answer may contain the
document's title, 发文字号, fingerprint or file bytes. A withdrawn (撤回) item's file is no
longer served to its recipients.

The same crawl as the recipient's clerk finds them: the check can fail.
"""

from __future__ import annotations

import uuid

import pytest

from gongwen.accounts.models import Role
from tests.crawl import assert_no_leaks, distinctive, leaks, secrets_shown, urls

from .conftest import PIN


def _secrets(doc, data: bytes, other: bytes, fingerprint: str | None = None) -> dict[str, bytes]:
    out = {"title": doc.title.encode(), "number": doc.doc_number.encode(),
           "file bytes": distinctive(data, other)}
    if fingerprint:
        out["fingerprint"] = fingerprint.split(":", 1)[1].encode()
    return out


@pytest.fixture
def world(cast, dispatched, sealed_doc, make_unit, make_user, operator):
    """A document of the city office dispatched to 东海县 (signed for there) and others, a
    second one approved and sealed but not dispatched yet, and a third dispatched and then
    withdrawn; a unit that is party to none of them, with a user of every role."""
    from gongwen.authority.models import Certificate, CertificateAuthority, KeyDisk
    from gongwen.documents import blobs
    from gongwen.exchange.models import Delivery
    from gongwen.exchange.services import open_delivery, sign_receipt, withdraw

    sent = dispatched(title="关于开展甲乙丙丁专项检查工作的通知")
    delivery = Delivery.objects.get(dispatch=sent, recipient_unit=cast["b"])
    open_delivery(actor=cast["clerk_b"], delivery_id=delivery.pk)
    sign_receipt(actor=cast["clerk_b"], delivery_id=delivery.pk, pin=PIN, key=uuid.uuid4())
    pending = sealed_doc(title="关于戊己庚辛年度考核安排的通知")
    taken_back = dispatched(title="关于壬癸子丑有关事项的通知")
    withdraw(actor=cast["clerk_a"], dispatch_id=taken_back.pk, reason="内容有误，撤回重发",
             key=uuid.uuid4())
    taken_back_delivery = Delivery.objects.get(dispatch=taken_back, recipient_unit=cast["b"])
    cert = Certificate.objects.filter(holder=cast["clerk_b"]).first()
    real = {"dispatch_id": str(sent.pk), "delivery_id": str(delivery.pk),
            "unit_id": str(cast["b"].pk), "user_id": str(cast["clerk_b"].pk),
            "group_id": str(cast["group"].pk), "cert_id": str(cert.pk),
            "disk_id": str(KeyDisk.objects.get(certificate=cert).pk),
            "ca": CertificateAuthority.objects.first().slug, "fmt": "pdf", "how": "remove",
            "decision": "approve", "action": "approve"}
    found = sorted(set(urls({**real, "doc_id": str(sent.document_id)}, wrong=False))
                   | set(urls({**real, "doc_id": str(pending.pk)}, wrong=False))
                   | set(urls({**real, "doc_id": str(taken_back.document_id),
                               "dispatch_id": str(taken_back.pk),
                               "delivery_id": str(taken_back_delivery.pk)}, wrong=False)))
    outsiders = make_unit("连云港市统计局", networked=True)
    strangers = {f"outsider {role}": make_user(outsiders, role, username=f"tjj_{role}")
                 for role in Role.values}
    strangers["anonymous"] = None
    doc, sent_file = sent.document, blobs.read(sent.fingerprint)
    pending_file = blobs.read(pending.renditions.get().blob)
    return {
        "found": found, "strangers": strangers,
        "sent": _secrets(doc, sent_file, pending_file, sent.fingerprint),
        "pending": _secrets(pending, pending_file, sent_file),
        # The recipients see the item withdrawn (its title, the reason), not its file.
        "withdrawn title": taken_back.document.title.encode(),
        "withdrawn file": {"withdrawn file bytes": distinctive(
            blobs.read(taken_back.fingerprint), sent_file, pending_file)},
        "searches": (doc.title, pending.title),
        "sender": cast["clerk_a"],
        "recipients": {"recipient clerk": cast["clerk_b"], "recipient head": cast["head_b"],
                       "copy recipient clerk": cast["clerk_fgw"]},
    }


def test_no_url_shows_a_document_to_a_unit_that_is_not_a_party(world):
    pending = {f"pending {k}": v for k, v in world["pending"].items()}
    withdrawn = {"withdrawn title": world["withdrawn title"], **world["withdrawn file"]}
    assert_no_leaks(world["found"], world["strangers"], {**world["sent"], **pending,
                                                          **withdrawn},
                    world["searches"], refused=500)


def test_no_url_shows_a_document_to_its_recipients_before_it_is_dispatched(world):
    found, _answered = leaks(world["found"], world["recipients"], world["pending"],
                             searches=world["searches"][1:])
    assert not found, "\n".join(found)


def test_no_url_serves_a_withdrawn_documents_file_to_its_recipients(world):
    found, _answered = leaks(world["found"], world["recipients"], world["withdrawn file"])
    assert not found, "\n".join(found)
    # The control: its sender still has it.
    assert secrets_shown(world["found"], world["sender"],
                         world["withdrawn file"]) == set(world["withdrawn file"])


def test_the_crawl_finds_what_a_party_sees(world):
    """The control: the recipient's clerk sees the dispatched document's title, number and
    file (and the sender's fingerprint on its report), so a leak would be found."""
    assert secrets_shown(world["found"], world["recipients"]["recipient clerk"],
                         world["sent"], world["searches"][:1]) == set(world["sent"])


def test_a_denied_request_names_the_object_in_the_trail_by_type_and_id_only(cast, dispatched,
                                                                            make_unit, make_user):
    """The denial is audited in the trail of the requester's unit, which that unit's auditor
    reads: it names the object by type and id, not by another unit's title (the crawl
    above found this)."""
    from django.test import Client

    from gongwen.audit.models import AuditEntry

    sent = dispatched(title="关于开展甲乙丙丁专项检查工作的通知")
    prober = make_user(make_unit("连云港市统计局"), Role.CLERK, username="tjj_clerk")
    client = Client()
    client.force_login(prober)
    assert client.get(f"/documents/{sent.document_id}/").status_code == 404
    denial = AuditEntry.objects.filter(action="permission.denied", actor=prober).get()
    assert (denial.target_type, denial.target_id) == ("documents.officialdocument",
                                                      str(sent.document_id))
    assert denial.target_repr.endswith(f"#{sent.document_id}")
    assert "甲乙丙丁" not in denial.target_repr
    assert denial.unit_id == prober.unit_id
