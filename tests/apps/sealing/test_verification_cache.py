"""The verification caches (gongwen.sealing.cache, issue 9 performance): a cache hit gives the
report of a cold run, a revocation published after a cached success is caught, and a cached
chain is not reused outside its validity window."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from gongwen.documents import sealing, verification
from gongwen.pki import crl as pki_crl
from gongwen.pki.errors import PKIError
from gongwen.sealing import cache

from .conftest import PIN


@pytest.fixture
def cold_validations(monkeypatch):
    """Counts the chain validations that really ran (cache misses)."""
    cache.clear()
    calls = []
    real = pki_crl.validate_chain

    def counting(*a, **kw):
        calls.append(a[4] if len(a) > 4 else kw.get("at"))
        return real(*a, **kw)

    monkeypatch.setattr(pki_crl, "validate_chain", counting)
    yield calls
    cache.clear()


def _seal(doc, keeper, seal, station, **kw):
    return sealing.seal_document(actor=keeper, doc_id=doc.pk, seal_id=seal.pk,
                                 workstation_credential=station, pin=PIN,
                                 idempotency_key=uuid.uuid4(), **kw)


def _json(report):
    data = report.to_json()
    data.pop("verified_at")
    return data


@pytest.mark.parametrize("fmt", ["pdf", "ofd"])
def test_a_cache_hit_gives_the_report_of_a_cold_run(approved, keeper_b, seal_b, station_b,
                                                   cold_validations, fmt):
    doc = approved()
    _seal(doc, keeper_b, seal_b, station_b)
    cold = verification.verify_document(doc, file_format=fmt)
    assert cold.valid and len(cold_validations) == 1
    warm = verification.verify_document(doc, file_format=fmt)
    assert len(cold_validations) == 1  # the chain result and the parsed material reused
    assert cache.stats()["chains"]["hits"] >= 1 and cache.stats()["page_text"]["hits"] >= 1
    assert _json(warm) == _json(cold)
    cache.clear()
    assert _json(verification.verify_document(doc, file_format=fmt)) == _json(cold)
    assert len(cold_validations) == 2


def test_a_revocation_published_after_a_cached_success_is_caught(
        approved, keeper_b, seal_b, station_b, operator, cold_validations):
    from gongwen.authority import services as authority

    doc = approved()
    # Signed a minute ahead: a revocation published now is before the signing time.
    _seal(doc, keeper_b, seal_b, station_b, signing_time=timezone.now() + timedelta(minutes=1))
    at = timezone.now() + timedelta(minutes=2)
    for _ in range(2):
        assert verification.verify_document(doc, at=at).certificate.ok is True
    assert len(cold_validations) == 1  # the success is cached
    authority.revoke_certificate(actor=operator, cert_id=seal_b.certificate_id,
                                 reason="key_compromise")  # publishes a new CRL
    for fmt in ("pdf", "ofd"):
        report = verification.verify_document(doc, at=at, file_format=fmt)
        assert not report.valid and report.certificate.ok is False
        assert "吊销" in report.certificate.reason_zh


def test_a_cached_chain_is_not_reused_outside_its_window(approved, keeper_b, seal_b, station_b,
                                                         cold_validations):
    from gongwen.authority.services import trust_material

    der = bytes(seal_b.certificate.der)
    anchors, intermediates, crls = trust_material()
    now = timezone.now()
    assert cache.validate_chain(der, anchors, intermediates, crls, now) is False
    assert cache.validate_chain(der, anchors, intermediates, crls,
                                now + timedelta(seconds=1)) is True
    assert len(cold_validations) == 1
    next_update = cache.crl(crls[-1])["tbs_cert_list"]["next_update"].native
    with pytest.raises(PKIError):  # past nextUpdate: validated anew, and it fails
        cache.validate_chain(der, anchors, intermediates, crls, next_update + timedelta(days=1))
    assert len(cold_validations) == 2
    # another set of CRLs in use is another key: validated anew
    assert len(crls) > 1
    assert cache.validate_chain(der, anchors, intermediates, list(reversed(crls)),
                                now) is False


def test_a_check_in_the_second_its_crl_was_published_is_cached(approved, keeper_b, seal_b,
                                                               station_b, cold_validations):
    """The window starts at the CRL's thisUpdate *inclusive*: a verification at exactly that
    second (verification times are whole seconds) reuses the cold result (it validated again
    before, so reports at that second were never cached)."""
    from gongwen.authority.models import CertificateAuthority

    this_updates = [cache.crl(bytes(ca.crl_der))["tbs_cert_list"]["this_update"].native
                    for ca in CertificateAuthority.objects.exclude(crl_der=b"")]
    at = max(this_updates)
    doc = approved()
    _seal(doc, keeper_b, seal_b, station_b, signing_time=at)
    for _ in range(2):
        assert verification.verify_document(doc, at=at).certificate.ok is True
    assert cold_validations == [at]
