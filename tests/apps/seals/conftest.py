"""Fixtures for the seals app: the two seal authorities of attachment art. 4 with their
seal-maker key disks, a county government (unit_b) and a city bureau, each with a keeper,
a clerk and a head.

PBKDF2 iterations are lowered through the authority app's ``GONGWEN["PBKDF2_ITERATIONS"]``.
"""

from __future__ import annotations

import pytest

from gongwen.accounts.models import Role

PIN = "80417326"  # keepers' key disks
MAKER_PIN = "55117788"  # seal-maker key disks


@pytest.fixture(autouse=True)
def fast_kdf(settings):
    settings.GONGWEN = {**settings.GONGWEN, "PBKDF2_ITERATIONS": 1000, "SUITE": "GM"}


@pytest.fixture
def bureau(make_unit):
    from gongwen.units.models import Kind, Level

    return make_unit("连云港市人力资源和社会保障局", level=Level.DEPARTMENT,
                     kind=Kind.DEPARTMENT)


@pytest.fixture
def pki(db, province, unit_a, operator, province_operator):
    """Root, provincial and city CAs; a seal-maker certificate for each authority."""
    from gongwen.authority import services

    cas = {ca.role: ca for ca in services.init_pki().cas}
    services.issue_certificate(unit=unit_a, profile="seal-maker", holder=operator,
                               pin=MAKER_PIN)
    services.issue_certificate(unit=province, profile="seal-maker", holder=province_operator,
                               pin=MAKER_PIN)
    return cas


@pytest.fixture
def head_a(make_user, unit_a):
    """Head of 市政府办公室: approves applications (art. 7)."""
    return make_user(unit_a, Role.HEAD, username="sfb_head")


@pytest.fixture
def keeper_b(make_user, unit_b):
    return make_user(unit_b, Role.SEAL_KEEPER, username="dhx_seal")


@pytest.fixture
def head_b(make_user, unit_b):
    return make_user(unit_b, Role.HEAD, username="dhx_head")


@pytest.fixture
def keeper_bureau(make_user, bureau):
    return make_user(bureau, Role.SEAL_KEEPER, username="rsj_seal")


@pytest.fixture
def head_bureau(make_user, bureau):
    return make_user(bureau, Role.HEAD, username="rsj_head")


@pytest.fixture
def clerk_bureau(make_user, bureau):
    return make_user(bureau, Role.CLERK, username="rsj_clerk")


def run_make(*, filler, head, approver, executor, keeper, kind="make", seal=None, app=None):
    """Fill (unless ``app`` is already filled) → sign → approve → execute; returns the
    executed application."""
    from gongwen.seals import services

    if app is None:
        app = services.fill_application(actor=filler, kind=kind, reason="新设电子印章",
                                        keeper_id=keeper.pk if keeper else None,
                                        seal_id=seal.pk if seal else None)
    services.sign_application(actor=head, application_id=app.pk)
    services.approve_application(actor=approver, application_id=app.pk)
    return services.execute_application(actor=executor, application_id=app.pk,
                                        keeper_pin=PIN, maker_pin=MAKER_PIN)


@pytest.fixture
def seal_b(pki, keeper_b, head_b, head_a, province_operator):
    """An active seal of 东海县人民政府, made by the province."""
    app = run_make(filler=keeper_b, head=head_b, approver=head_a, executor=province_operator,
                   keeper=keeper_b)
    return app.result_seal


@pytest.fixture
def seal_bureau(pki, keeper_bureau, head_bureau, head_a, operator):
    app = run_make(filler=keeper_bureau, head=head_bureau, approver=head_a, executor=operator,
                   keeper=keeper_bureau)
    return app.result_seal
