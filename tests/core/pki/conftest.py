"""Fixtures for the PKI core: a test CA hierarchy per suite, built once per session.

Hierarchy (one deployment root above both issuing CAs, see docs/pki.md):

    gongwen 部署根CA (root-ca)
    ├── 江苏省电子公文CA (intermediate-ca) ── 灌南县人民政府 (unit-seal)
    └── 连云港市电子公文CA (intermediate-ca) ── unit-seal, unit-receipt, seal-maker, workstation

Times are fixed: certificates from ``T0`` (2025-01-01), checks at ``AT`` (2025-06-01),
CRLs issued at ``AT - 1 day`` with nextUpdate ``AT + 6 days``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem

from gongwen.pki import suites, x509
from tests.core.pkifixtures import VECTORS as VECTORS  # re-exported for the tests
from tests.core.pkifixtures import Issued, issue, issue_crl, new_root

T0 = datetime(2025, 1, 1, tzinfo=UTC)
AT = datetime(2025, 6, 1, tzinfo=UTC)
CRL_THIS = AT - timedelta(days=1)
CRL_NEXT = AT + timedelta(days=6)
CRL_BASE = "http://127.0.0.1:8000/pki/crl"
LEAF_PROFILES = ("unit-seal", "unit-receipt", "seal-maker", "workstation")


@dataclass
class Hierarchy:
    suite: suites.Suite
    root: Issued
    province: Issued
    city: Issued
    leaves: dict[str, Issued] = field(default_factory=dict)  # issued by the city CA
    county: Issued | None = None  # unit-seal issued by the provincial CA
    root_crl: bytes = b""
    province_crl: bytes = b""
    city_crl: bytes = b""

    @property
    def anchors(self) -> list[bytes]:
        return [self.root.cert]

    @property
    def intermediates(self) -> list[bytes]:
        return [self.province.cert, self.city.cert]

    @property
    def crls(self) -> list[bytes]:
        return [self.root_crl, self.province_crl, self.city_crl]


def _issue(
    h_suite: suites.Suite,
    profile: str,
    subject: Any,
    issuer: Issued,
    crl_name: str,
    kind: str | None = None,
    *,
    validity_days: int,
) -> Issued:
    return issue(
        h_suite,
        profile,
        subject,
        issuer,
        not_before=T0,
        validity_days=validity_days,
        kind=kind,
        crl_urls=f"{CRL_BASE}/{crl_name}.crl",
    )


@functools.cache
def build_hierarchy(suite_name: str) -> Hierarchy:
    suite = suites.get_suite(suite_name)
    # INTL: an RSA-3072 root above P-256 CAs, so both INTL key kinds sign certificates.
    root = new_root(
        suite,
        x509.make_name("gongwen 部署根CA", organization="电子公文无纸化传输平台"),
        not_before=T0,
        validity_days=20 * 365,
        kind="rsa-3072" if suite_name == "INTL" else None,
    )
    province = _issue(
        suite,
        "intermediate-ca",
        x509.make_name("江苏省电子公文CA", organization="江苏省人民政府办公厅", state="江苏省"),
        root,
        "root",
        validity_days=10 * 365,
    )
    city = _issue(
        suite,
        "intermediate-ca",
        x509.make_name(
            "连云港市电子公文CA",
            organization="连云港市人民政府办公室",
            state="江苏省",
            locality="连云港市",
        ),
        root,
        "root",
        validity_days=10 * 365,
    )
    h = Hierarchy(suite, root, province, city)
    names = {
        "unit-seal": ("连云港市人力资源和社会保障局", "连云港市人力资源和社会保障局"),
        "unit-receipt": ("连云港市财政局 签收", "连云港市财政局"),
        "seal-maker": ("连云港市人民政府办公室 制章", "连云港市人民政府办公室"),
        "workstation": ("连云港市财政局 工作站01", "连云港市财政局"),
    }
    for profile in LEAF_PROFILES:
        cn, org = names[profile]
        kind = "rsa-3072" if (suite_name == "INTL" and profile == "workstation") else None
        h.leaves[profile] = _issue(
            suite,
            profile,
            x509.make_name(cn, organization=org),
            city,
            "city",
            kind=kind,
            validity_days=3 * 365,
        )
    h.county = _issue(
        suite,
        "unit-seal",
        x509.make_name("灌南县人民政府", organization="灌南县人民政府"),
        province,
        "province",
        validity_days=3 * 365,
    )
    h.root_crl = issue_crl(root, this_update=CRL_THIS, next_update=CRL_NEXT)
    h.province_crl = issue_crl(province, this_update=CRL_THIS, next_update=CRL_NEXT)
    h.city_crl = issue_crl(city, this_update=CRL_THIS, next_update=CRL_NEXT)
    return h


@pytest.fixture(scope="session", params=["GM", "INTL"])
def hierarchy(request: pytest.FixtureRequest) -> Hierarchy:
    return build_hierarchy(request.param)


@pytest.fixture(scope="session")
def gm_hierarchy() -> Hierarchy:
    return build_hierarchy("GM")


@pytest.fixture(scope="session")
def intl_hierarchy() -> Hierarchy:
    return build_hierarchy("INTL")


@pytest.fixture(scope="session")
def sm2_key() -> Any:
    return suites.GM.generate_key()


def write_pem(path: Path, label: str, der: bytes) -> Path:
    path.write_bytes(pem.armor(label, der))
    return path
