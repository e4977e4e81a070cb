"""The carried-file section of the receipt report (R-FLOW-5): an original whose own seal
does not verify (here: sealed by a CA and seal outside this platform's register) is a
warning, not a failure; the JSON round-trips and a report without carried files keeps its
old shape."""

from __future__ import annotations

import datetime as dt

import pytest

from gongwen.documents import verification
from gongwen.documents.gbt9704 import render_pdf
from gongwen.documents.gbt9704.carried import BODY, CarriedFile
from gongwen.exchange.hooks import Check, Report
from tests.core.sealing.conftest import BOX, build_pki, notice_layout_and_pdf, seal

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def outside_original() -> bytes:
    """A provincial document sealed under a PKI this platform does not know."""
    pki = build_pki("GM")
    _layout, pdf = notice_layout_and_pdf()
    return seal(pdf, pki.unit, pki, box=BOX)


def test_an_original_with_an_unknown_seal_is_a_warning(outside_original):
    layout, _ = notice_layout_and_pdf()
    carrying = render_pdf(layout, (CarriedFile("省文.pdf", outside_original, "省文", BODY,
                                               dt.date(2006, 7, 24)),))
    [c] = verification.verify_carried(carrying)
    assert c.name == "省文.pdf" and c.role_zh == "正文原件" and c.size == len(outside_original)
    assert c.covered is None  # the carrying file is not sealed here
    assert c.original["sealed"] is True and c.original["valid"] is False
    assert c.original["summary_zh"].startswith("原件印章核验未通过")
    assert c.warning
    report = Report.of([Check("dispatched", "与发出文件一致", True, "一致")], [c])
    assert report.ok and report.warnings() == [c]
    again = Report.from_dict(report.as_dict())
    assert again == report


def test_an_unsealed_original_is_neither_checked_nor_a_warning():
    layout, pdf = notice_layout_and_pdf()
    [c] = verification.verify_carried(render_pdf(layout, (CarriedFile("表.pdf", pdf),)))
    assert c.original["sealed"] is False and not c.warning
    assert c.original["summary_zh"] == "原件未加盖电子印章（不核验）"


def test_a_report_without_carried_files_keeps_its_shape():
    old = {"ok": True, "checks": [{"name": "dispatched", "label": "与发出文件一致",
                                   "ok": True, "reason": "一致"}]}
    report = Report.from_dict(old)
    assert report.carried == () and report.as_dict() == old and not report.warnings()
