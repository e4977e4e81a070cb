"""打印 (R-FLOW-6): numbered copies with a verification code and a QR code, the sender's cap,
and the public page that checks a copy without a login and without showing the content.

The printed file is read back by other programs: poppler's pdftotext for the mark's text,
pdftoppm + zbar's zbarimg for the QR code (Debian packages installed by bootstrap.sh)."""

from __future__ import annotations

import io
import subprocess
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from pypdf import PdfReader

from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.exchange import printing, services
from gongwen.exchange.models import Delivery, Dispatch, PrintedCopy

from .conftest import PIN


@pytest.fixture
def signed(cast, dispatched):
    """The city office's notice, signed for by 东海县."""
    sent = dispatched()
    delivery = Delivery.objects.get(dispatch=sent, recipient_unit=cast["b"])
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=delivery.pk, pin=PIN,
                          key=uuid.uuid4())
    delivery.refresh_from_db()
    return delivery


def print_one(cast, delivery, who="clerk_b", key=None) -> PrintedCopy:
    return printing.print_copy(actor=cast[who], delivery_id=delivery.pk, key=key or uuid.uuid4())


def test_copies_are_numbered_and_a_retry_is_the_same_copy(cast, signed):
    key = uuid.uuid4()
    first = print_one(cast, signed, key=key)
    assert print_one(cast, signed, key=key) == first  # a double click, a retried request
    second = print_one(cast, signed)
    assert (first.number, second.number) == (1, 2)
    assert len(first.code) == 16 and first.code != second.code
    assert first.fingerprint == signed.dispatch.fingerprint
    entries = AuditEntry.objects.filter(action="exchange.printed")
    assert sorted(e.detail["copy"] for e in entries) == [1, 2]


def test_the_printed_file_carries_its_mark_for_other_readers(cast, signed, tmp_path):
    copy = print_one(cast, signed)
    data = printing.printed_pdf(copy)
    original = PdfReader(io.BytesIO(printing.blobs.read(copy.fingerprint)))
    printed = PdfReader(io.BytesIO(data))
    assert len(printed.pages) == len(original.pages)
    path = tmp_path / "copy.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert f"第 1 份 核验码 {printing.grouped(copy.code)}" in " ".join(text.split())
    assert "东海县人民政府" in text and "关于推行公文无纸化传输工作的通知" in text
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(path),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    qr = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
    assert qr.stdout.strip() == printing.verify_url(copy.code)
    assert qr.stdout.strip().endswith(f"/v/{copy.code}/")


def test_only_a_signed_delivery_of_ones_own_unit_prints(cast, dispatched, signed):
    other = Delivery.objects.get(dispatch=dispatched(title="另一份"), recipient_unit=cast["b"])
    with pytest.raises(ValidationError, match="签收后才能打印"):
        print_one(cast, other)
    for outsider in ("clerk_gyx", "clerk_a"):  # another recipient; the sender itself
        with pytest.raises(Http404):
            print_one(cast, signed, who=outsider)
    assert not PrintedCopy.objects.exists()
    signed.dispatch.file_format = "ofd"
    signed.dispatch.save()
    with pytest.raises(ValidationError, match="没有用印的 PDF"):  # only a stand-in OFD
        print_one(cast, signed)


def test_the_sender_caps_the_copies(cast, signed):
    sent = signed.dispatch
    printing.set_print_limit(actor=cast["clerk_a"], dispatch_id=sent.pk, limit="1")
    print_one(cast, signed)
    with pytest.raises(ValidationError, match="最多打印 1 份"):
        print_one(cast, signed)
    printing.set_print_limit(actor=cast["clerk_a"], dispatch_id=sent.pk, limit=None)
    assert print_one(cast, signed).number == 2
    printing.set_print_limit(actor=cast["clerk_a"], dispatch_id=sent.pk, limit=0)
    with pytest.raises(ValidationError, match="最多打印 0 份"):
        print_one(cast, signed)
    for bad in ("x", -1, 1000):
        with pytest.raises(ValidationError):
            printing.set_print_limit(actor=cast["clerk_a"], dispatch_id=sent.pk, limit=bad)
    with pytest.raises(Http404):  # a recipient cannot change the sender's cap
        printing.set_print_limit(actor=cast["clerk_b"], dispatch_id=sent.pk, limit=5)
    assert Dispatch.objects.get(pk=sent.pk).print_limit == 0
    changes = [e.detail for e in AuditEntry.objects.filter(action="exchange.print_limit")
               .order_by("seq")]
    assert changes == [{"from": None, "to": 1}, {"from": 1, "to": None}, {"from": None, "to": 0}]


@pytest.mark.django_db
def test_anyone_checks_a_copy_without_seeing_the_content(client, cast, signed):
    copy = print_one(cast, signed)
    doc = signed.dispatch.document
    for typed in (copy.code, printing.grouped(copy.code).lower(), f" {copy.code[:8]} {copy.code[8:]} "):
        page = client.get(reverse("web:public_verify_form"), {"code": typed})
        html = page.content.decode()
        assert page.status_code == 200, typed
        assert "第1份" in html and cast["a"].name in html and signed.dispatch.fingerprint in html
        assert doc.title not in html and str(doc.doc_number) not in html
    page = client.get(reverse("web:public_verify", args=[copy.code]))
    assert page.status_code == 200 and "通过本平台打印的登记件" in page.content.decode()
    missing = client.get(reverse("web:public_verify", args=["AAAAAAAAAAAAAAAA"]))
    assert missing.status_code == 404 and "未找到核验码" in missing.content.decode()
    junk = client.get(reverse("web:public_verify_form"), {"code": "<script>x" * 10})
    assert junk.status_code == 404 and "<script>" not in junk.content.decode()
    # 部分撤回 (the sender withdrew the deliveries nobody had signed): a signed recipient's
    # copy stays good; were its own delivery withdrawn, the page would say so.
    Dispatch.objects.filter(pk=signed.dispatch_id).update(withdrawn_at=signed.signed_at)
    page = client.get(reverse("web:public_verify", args=[copy.code])).content.decode()
    assert "通过本平台打印的登记件" in page and "撤回" not in page
    Delivery.objects.filter(pk=signed.pk).update(state="withdrawn")
    page = client.get(reverse("web:public_verify", args=[copy.code]))
    assert "已被发文单位撤回" in page.content.decode()


@pytest.mark.django_db
def test_the_pages(client, cast, signed, make_user):
    url = reverse("web:delivery_print", args=[signed.pk])
    client.force_login(cast["clerk_b"])
    page = client.get(reverse("web:delivery", args=[signed.pk])).content.decode()
    assert 'id="print-form"' in page and "生成第1份" in page
    response = client.post(url, {"key": str(uuid.uuid4())})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "inline" in response["Content-Disposition"]
    page = client.get(reverse("web:delivery", args=[signed.pk])).content.decode()
    assert "copy-table" in page and "生成第2份" in page
    client.force_login(make_user(cast["b"], Role.HEAD))  # the unit head may print too
    assert client.post(url, {"key": str(uuid.uuid4())}).status_code == 200
    client.force_login(cast["clerk_a"])  # the sender sees counts and sets the cap
    page = client.get(reverse("web:dispatch", args=[signed.dispatch_id])).content.decode()
    assert "print-limit-form" in page and "2 份" in page
    assert client.post(url, {"key": str(uuid.uuid4())}).status_code == 404
    client.post(reverse("web:dispatch_print_limit", args=[signed.dispatch_id]), {"limit": "2"})
    assert Dispatch.objects.get(pk=signed.dispatch_id).print_limit == 2
    client.force_login(cast["clerk_b"])
    refused = client.post(url, {"key": str(uuid.uuid4())}, follow=True)
    assert "最多打印 2 份" in refused.content.decode()
    assert PrintedCopy.objects.count() == 2
    # QA: the page kept offering 打印（生成第3份） once the cap was reached.
    page = client.get(reverse("web:delivery", args=[signed.pk])).content.decode()
    assert 'id="print-form"' not in page and 'id="print-limit-reached"' in page


def test_a_cap_below_the_copies_printed_says_what_it_means(client, cast, signed):
    for _ in range(3):
        print_one(cast, signed)
    client.force_login(cast["clerk_a"])
    page = client.post(reverse("web:dispatch_print_limit", args=[signed.dispatch_id]),
                       {"limit": "1"}, follow=True).content.decode()
    assert "最多打印 1 份" in page
    assert "已有 1 个收文单位打印的份数超过该上限：已打印的仍然有效，今后不能再打印。" in page
    assert printing.limit_reached(signed)
    page = client.post(reverse("web:dispatch_print_limit", args=[signed.dispatch_id]),
                       {"limit": "5"}, follow=True).content.decode()
    assert "超过该上限" not in page
    assert not printing.limit_reached(Delivery.objects.get(pk=signed.pk))


@pytest.mark.django_db
def test_the_api(client, cast, signed):
    client.force_login(cast["clerk_a"])
    limit = client.put(f"/api/dispatches/{signed.dispatch_id}/print-limit",
                       {"limit": 1}, content_type="application/json")
    assert limit.status_code == 200 and limit.json()["print_limit"] == 1
    bad = client.put(f"/api/dispatches/{signed.dispatch_id}/print-limit",
                     {"limit": -3}, content_type="application/json")
    assert bad.status_code in (400, 422)
    client.force_login(cast["clerk_b"])
    key = str(uuid.uuid4())
    first = client.post(f"/api/deliveries/{signed.pk}/print", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    assert first["X-Gongwen-Copy-Number"] == "1"
    again = client.post(f"/api/deliveries/{signed.pk}/print", HTTP_IDEMPOTENCY_KEY=key)
    assert again["X-Gongwen-Copy-Code"] == first["X-Gongwen-Copy-Code"]
    over = client.post(f"/api/deliveries/{signed.pk}/print",
                       HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert over.status_code == 400 and "最多打印 1 份" in over.json()["message"]
    client.force_login(cast["clerk_gyx"])
    hidden = client.post(f"/api/deliveries/{signed.pk}/print",
                         HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert hidden.status_code == 404
