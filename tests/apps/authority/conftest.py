"""Fixtures for the authority app: a PKI per suite on the test database.

PBKDF2 iterations are lowered through ``GONGWEN["PBKDF2_ITERATIONS"]`` so the suite stays
fast; the product never sets it and uses the core's default (200,000).
"""

from __future__ import annotations

import pytest

from gongwen.accounts.models import Role

PIN = "80417326"


@pytest.fixture(autouse=True)
def fast_kdf(settings):
    settings.GONGWEN = {**settings.GONGWEN, "PBKDF2_ITERATIONS": 1000}


@pytest.fixture(params=["GM", "INTL"])
def suite(request, settings):
    settings.GONGWEN = {**settings.GONGWEN, "SUITE": request.param}
    return request.param


@pytest.fixture
def gm(settings):
    settings.GONGWEN = {**settings.GONGWEN, "SUITE": "GM"}
    return "GM"


@pytest.fixture
def pki(db):
    """Root, provincial and city CAs of the configured suite, with their first CRLs."""
    from gongwen.authority import services

    return {ca.role: ca for ca in services.init_pki().cas}


@pytest.fixture
def keeper_b(make_user, unit_b):
    """Seal keeper of 东海县人民政府 (a county: certificates from the provincial CA)."""
    return make_user(unit_b, Role.SEAL_KEEPER, username="dhx_seal")


@pytest.fixture
def keeper_a(make_user, unit_a):
    """Seal keeper of the city office (certificates from the city CA)."""
    return make_user(unit_a, Role.SEAL_KEEPER, username="sfb_seal")


@pytest.fixture
def seal_cert_b(pki, unit_b, keeper_b):
    from gongwen.authority import services

    return services.issue_certificate(unit=unit_b, profile="unit-seal", holder=keeper_b, pin=PIN)


@pytest.fixture
def seal_cert_a(pki, unit_a, keeper_a):
    from gongwen.authority import services

    return services.issue_certificate(unit=unit_a, profile="unit-seal", holder=keeper_a, pin=PIN)
