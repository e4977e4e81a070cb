"""证书管理 pages and the public CRL / CA certificate URLs (R-PKI-4, R-SEC-1, issue 5 item 8).

Permission matrix: every PKI page × every role → 200 for the operator, 403 (audited) for
everyone else; the holder's own key disk page is open to every logged-in user; the CRL and
CA certificate URLs answer without login.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.authority import services
from gongwen.authority.models import Certificate, CertStatus, KeyDisk
from gongwen.pki import crl as pki_crl
from gongwen.pki import x509

from .conftest import PIN

OPERATOR_PAGES = ["web:pki", "web:pki_certs", "web:pki_issue", "web:pki_keydisks",
                  "web:pki_verify"]


def _messages(response) -> list[str]:
    return re.findall(r'<li class="msg[^"]*">([^<]*)</li>', response.content.decode())


# ------------------------------------------------------------------------- public URLs


def test_crl_url_serves_der_without_login(suite, client, seal_cert_b):
    ca = seal_cert_b.issuer
    url = reverse("web:pki_crl", args=[ca.slug])
    assert url == f"/pki/crl/{ca.slug}.crl"
    assert services.crl_url(ca).endswith(url)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-crl"
    assert response.content == bytes(ca.crl_der)
    assert not response.content.startswith(b"-----")  # DER, not PEM
    info = pki_crl.crl_info(response.content)
    assert info.issuer == ca.subject and info.crl_number == 1
    pki_crl.verify_crl_signature(response.content, bytes(ca.certificate_der))
    # After a revocation the same URL serves the next CRL.
    services.revoke_certificate(cert_id=seal_cert_b.pk, reason="superseded")
    info = pki_crl.crl_info(client.get(url).content)
    assert info.crl_number == 2 and len(info.revoked) == 1


def test_every_certificate_points_at_a_crl_url_that_answers(gm, client, seal_cert_a,
                                                            seal_cert_b, pki):
    ders = [bytes(c.der) for c in (seal_cert_a, seal_cert_b)]
    ders += [bytes(ca.certificate_der) for ca in pki.values() if ca.role != "root"]
    for der in ders:
        (url,) = x509.certificate_info(der).crl_urls
        path = url.removeprefix("http://127.0.0.1:8000")
        assert client.get(path).status_code == 200, url


def test_ca_certificate_url_serves_der_without_login(gm, client, pki):
    for ca in pki.values():
        response = client.get(f"/pki/ca/{ca.slug}.crt")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pkix-cert"
        assert response.content == bytes(ca.certificate_der)


def test_unknown_ca_is_404_and_post_is_refused(gm, client, pki):
    assert client.get("/pki/crl/nowhere.crl").status_code == 404
    assert client.get("/pki/ca/nowhere.crt").status_code == 404
    assert client.post("/pki/crl/root.crl").status_code == 405


# -------------------------------------------------------------------- permission matrix


@pytest.mark.parametrize("role", Role.values)
def test_pki_pages_by_role(gm, client, make_user, unit_a, unit_b, role, seal_cert_b):
    user = make_user(unit_a, role)
    client.force_login(user)
    allowed = role == Role.OPERATOR
    pages = [reverse(name) for name in OPERATOR_PAGES]
    pages += [reverse("web:pki_cert", args=[seal_cert_b.pk]),
              reverse("web:pki_cert_download", args=[seal_cert_b.pk, "pem"])]
    for page in pages:
        response = client.get(page)
        assert response.status_code == (200 if allowed else 403), (page, role)
        if not allowed:
            assert "无权访问" in response.content.decode()
    posts = [reverse("web:pki_init"), reverse("web:pki_crl_publish", args=["root"]),
             reverse("web:pki_cert_revoke", args=[seal_cert_b.pk]),
             reverse("web:pki_keydisk_unlock", args=[seal_cert_b.key_disk.pk])]
    for page in posts:
        response = client.post(page, {"reason": "superseded"})
        assert response.status_code == (302 if allowed else 403), (page, role)
    assert client.get(reverse("web:my_keydisks")).status_code == 200
    nav = client.get(reverse("web:home")).content.decode()
    assert ("证书管理" in nav) == allowed
    if not allowed:
        assert AuditEntry.objects.filter(action="permission.denied", actor=user).count() == len(
            pages) + len(posts)
        seal_cert_b.refresh_from_db()
        assert seal_cert_b.status == CertStatus.VALID


def test_anonymous_is_sent_to_login(gm, client, pki):
    for name in [*OPERATOR_PAGES, "web:my_keydisks"]:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


# ------------------------------------------------------------------------- operator flow


def test_operator_issues_revokes_and_unlocks_through_the_pages(gm, client, operator, unit_b,
                                                               keeper_b):
    client.force_login(operator)
    response = client.post(reverse("web:pki_init"), follow=True)
    assert "已创建CA" in "".join(_messages(response))
    response = client.post(reverse("web:pki_issue"), {
        "unit": unit_b.pk, "profile": "unit-seal", "holder": keeper_b.pk,
        "pin": PIN, "pin2": PIN}, follow=True)
    cert = Certificate.objects.get()
    assert response.redirect_chain[-1][0] == reverse("web:pki_cert", args=[cert.pk])
    page = response.content.decode()
    assert "江苏省电子印章CA" in page and "证书有效" in page
    assert cert.issued_by == operator and cert.key_disk.holder == keeper_b
    # Lock the disk, then unlock it from the key disk page.
    disk = cert.key_disk
    KeyDisk.objects.filter(pk=disk.pk).update(locked=True, failed_attempts=5)
    page = client.get(reverse("web:pki_keydisks") + "?state=locked").content.decode()
    assert "已锁定" in page and keeper_b.username in page
    response = client.post(reverse("web:pki_keydisk_unlock", args=[disk.pk]), follow=True)
    assert "已解锁" in "".join(_messages(response))
    disk.refresh_from_db()
    assert not disk.locked and disk.failed_attempts == 0
    # Revoke with a reason.
    response = client.post(reverse("web:pki_cert_revoke", args=[cert.pk]),
                           {"reason": "affiliation_changed", "note": "单位合并"}, follow=True)
    assert "证书已吊销" in "".join(_messages(response))
    cert.refresh_from_db()
    assert cert.status == CertStatus.REVOKED and cert.revocation_note == "单位合并"
    page = response.content.decode()
    assert "隶属关系变更" in page and "被吊销" in page
    # Downloads.
    pem = client.get(reverse("web:pki_cert_download", args=[cert.pk, "pem"]))
    assert pem.content.startswith(b"-----BEGIN CERTIFICATE-----")
    der = client.get(reverse("web:pki_cert_download", args=[cert.pk, "der"]))
    assert der.content == bytes(cert.der)
    assert client.get(reverse("web:pki_cert_download", args=[cert.pk, "txt"])).status_code == 404
    # A second revocation is a message, not an error page.
    response = client.post(reverse("web:pki_cert_revoke", args=[cert.pk]),
                           {"reason": "superseded"}, follow=True)
    assert response.status_code == 200 and "已被吊销" in "".join(_messages(response))


def test_issue_form_errors_are_chinese(gm, client, operator, pki, unit_a, unit_b, keeper_b):
    client.force_login(operator)
    url = reverse("web:pki_issue")
    cases = [
        ({"pin": "123456", "pin2": "654321"}, "两次输入的口令不一致"),
        ({"pin": "12ab", "pin2": "12ab"}, "口令必须为6至8位数字"),
        ({"unit": unit_a.pk}, "不属于"),
        ({"profile": "seal-maker"}, "不是制章单位"),
    ]
    for change, expected in cases:
        data = {"unit": unit_b.pk, "profile": "unit-seal", "holder": keeper_b.pk,
                "pin": PIN, "pin2": PIN, **change}
        response = client.post(url, data)
        assert response.status_code == 200
        assert expected in response.content.decode(), change
    assert not Certificate.objects.exists()


def test_verify_page_handles_good_and_bad_uploads(gm, client, operator, seal_cert_b):
    client.force_login(operator)
    url = reverse("web:pki_verify")

    def upload(data: bytes):
        return client.post(url, {"file": SimpleUploadedFile("c.pem", data)}).content.decode()

    assert "证书有效" in upload(services.certificate_pem(seal_cert_b.der).encode())
    assert "证书有效" in upload(bytes(seal_cert_b.der))
    assert "无法读取" in upload(b"\x30\x82\x01\x00garbage")
    assert "无法读取" in upload(bytes(seal_cert_b.issuer.crl_der))  # a CRL is no certificate
    assert "无法读取" in upload(seal_cert_b.key_disk.encrypted_pem.encode())
    assert "文件过大" in upload(b"0" * (70 * 1024))
    page = client.post(url, {"text": "-----BEGIN CERTIFICATE-----\nMII=\n"
                                     "-----END CERTIFICATE-----"}).content.decode()
    assert "无法读取" in page
    assert "请上传证书文件" in client.post(url, {}).content.decode()
    # A certificate of the other algorithm suite (an ECDSA certificate in a GM deployment):
    from gongwen.pki.suites import get_suite

    key = get_suite("INTL").generate_key()
    foreign = x509.create_root_ca(key=key, subject="ECDSA CA")
    page = upload(foreign)
    assert "无效" in page and "不受信任" in page
    services.revoke_certificate(cert_id=seal_cert_b.pk, reason="key_compromise")
    assert "被吊销" in upload(bytes(seal_cert_b.der))
    page = client.post(url, {"file": SimpleUploadedFile("c.der", bytes(seal_cert_b.der)),
                             "at": "2000-01-01T00:00"}).content.decode()
    assert "尚未生效" in page


def test_holder_checks_pin_and_gets_chinese_messages(gm, client, seal_cert_b, keeper_b,
                                                     clerk_b):
    disk = seal_cert_b.key_disk
    client.force_login(keeper_b)
    page = client.get(reverse("web:my_keydisks")).content.decode()
    assert f"#{disk.pk}" in page and "单位印章证书" in page
    url = reverse("web:my_keydisk_check", args=[disk.pk])
    assert "口令正确" in "".join(_messages(client.post(url, {"pin": PIN}, follow=True)))
    assert "口令必须为6至8位数字" in "".join(_messages(client.post(url, {"pin": "x"},
                                                                follow=True)))
    assert "口令必须为6至8位数字" in "".join(_messages(client.post(url, {}, follow=True)))
    for left in (4, 3, 2, 1):
        text = "".join(_messages(client.post(url, {"pin": "99990000"}, follow=True)))
        assert f"还可尝试 {left} 次" in text
    text = "".join(_messages(client.post(url, {"pin": "99990000"}, follow=True)))
    assert "密钥盘已锁定" in text
    assert "已锁定" in client.get(reverse("web:my_keydisks")).content.decode()
    # Someone else's disk: not even confirmed to exist.
    client.force_login(clerk_b)
    assert client.post(url, {"pin": PIN}).status_code == 404
