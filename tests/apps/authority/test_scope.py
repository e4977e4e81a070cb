"""证书管理 scope (QA backlog 4): the platform operator unit's operators manage every CA; an
operator of the provincial seal authority manages the CA his unit runs (the provincial CA,
which serves the province and the county/district governments, attachment art. 4) and
nothing of the city CA: its pages answer 404 (audited), lists and pickers leave it out.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongwen.audit.models import AuditEntry
from gongwen.authority import services
from gongwen.authority.models import Certificate, CertStatus

from .conftest import PIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def cas(gm, province, unit_a):
    """The CAs, made once the province exists: the provincial CA is run by the province."""
    cas = {ca.role: ca for ca in services.init_pki().cas}
    assert cas["provincial"].unit_id == province.pk
    return cas


@pytest.fixture
def county_cert(cas, unit_b, keeper_b):
    return services.issue_certificate(unit=unit_b, profile="unit-seal", holder=keeper_b, pin=PIN)


@pytest.fixture
def city_cert(cas, unit_a, keeper_a):
    return services.issue_certificate(unit=unit_a, profile="unit-seal", holder=keeper_a, pin=PIN)


def test_province_operator_manages_the_provincial_ca_only(client, cas, province_operator,
                                                          county_cert, city_cert):
    """GIVEN a county certificate (provincial CA) and a city office certificate (city CA)
    WHEN the province's operator opens 证书管理 and acts on the city certificate
    THEN he sees his CA and its certificates only, and the city's objects answer 404,
    each refusal audited, the city certificate still valid."""
    client.force_login(province_operator)
    home = client.get(reverse("web:pki")).content.decode()
    assert cas["provincial"].name in home and cas["city"].name not in home
    certs = client.get(reverse("web:pki_certs")).content.decode()
    assert reverse("web:pki_cert", args=[county_cert.pk]) in certs
    assert reverse("web:pki_cert", args=[city_cert.pk]) not in certs
    disks = client.get(reverse("web:pki_keydisks")).content.decode()
    assert reverse("web:pki_cert", args=[city_cert.pk]) not in disks
    assert client.get(reverse("web:pki_cert", args=[county_cert.pk])).status_code == 200
    refused = [client.get(reverse("web:pki_cert", args=[city_cert.pk])),
               client.get(reverse("web:pki_cert_download", args=[city_cert.pk, "pem"])),
               client.post(reverse("web:pki_cert_revoke", args=[city_cert.pk]),
                           {"reason": "superseded"}),
               client.post(reverse("web:pki_crl_publish", args=[cas["city"].slug])),
               client.post(reverse("web:pki_keydisk_unlock", args=[city_cert.key_disk.pk]))]
    assert [r.status_code for r in refused] == [404] * 5
    city_cert.refresh_from_db()
    assert city_cert.status == CertStatus.VALID
    assert AuditEntry.objects.filter(action="permission.denied",
                                     actor=province_operator).count() == 5
    # Creating the CAs is the platform's.
    assert client.post(reverse("web:pki_init")).status_code == 403


def test_issue_picker_offers_the_units_of_ones_own_ca(client, cas, province_operator, unit_a,
                                                      unit_b, keeper_a):
    client.force_login(province_operator)
    form = client.get(reverse("web:pki_issue")).content.decode()
    assert f'<option value="{unit_b.pk}"' in form and f'<option value="{unit_a.pk}"' not in form
    response = client.post(reverse("web:pki_issue"), {
        "unit": unit_a.pk, "profile": "unit-seal", "holder": keeper_a.pk, "pin": PIN,
        "pin2": PIN})
    assert response.status_code == 200
    assert not Certificate.objects.filter(unit=unit_a).exists()


def test_platform_operator_manages_every_ca(client, cas, operator, county_cert, city_cert):
    client.force_login(operator)
    certs = client.get(reverse("web:pki_certs")).content.decode()
    assert reverse("web:pki_cert", args=[county_cert.pk]) in certs
    assert reverse("web:pki_cert", args=[city_cert.pk]) in certs
    assert client.get(reverse("web:pki_cert", args=[county_cert.pk])).status_code == 200


def test_the_services_check_the_scope_themselves(cas, province_operator, unit_a, keeper_a,
                                                 county_cert, city_cert):
    """GIVEN the province's operator WHEN he calls the PKI services directly (as the API or
    `gongwen --as` would) on the city CA's objects THEN each is refused (404 for objects,
    403 for the platform's verbs), audited, and nothing changes; his own CA's work goes."""
    from django.core.exceptions import PermissionDenied

    from gongwen.policy.permissions import NotVisible

    refused = [
        lambda: services.revoke_certificate(actor=province_operator, cert_id=city_cert.pk,
                                            reason="superseded"),
        lambda: services.unlock_key_disk(actor=province_operator,
                                         disk_id=city_cert.key_disk.pk),
        lambda: services.publish_crl(actor=province_operator, ca=cas["city"].slug),
        lambda: services.issue_certificate(actor=province_operator, unit=unit_a,
                                           profile="unit-seal", holder=keeper_a, pin=PIN),
    ]
    for call in refused:
        with pytest.raises(NotVisible):
            call()
    for call in (lambda: services.init_pki(actor=province_operator),
                 lambda: services.publish_all_crls(actor=province_operator)):
        with pytest.raises(PermissionDenied):
            call()
    city_cert.refresh_from_db()
    assert city_cert.status == CertStatus.VALID
    assert Certificate.objects.filter(unit=unit_a).count() == 1
    assert AuditEntry.objects.filter(action="permission.denied",
                                     actor=province_operator).count() == 6
    services.publish_crl(actor=province_operator, ca=cas["provincial"].slug)
    services.revoke_certificate(actor=province_operator, cert_id=county_cert.pk,
                                reason="superseded")
