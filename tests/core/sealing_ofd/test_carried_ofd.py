"""Carried files in an OFD (R-FLOW-5): GB/T 33190-2016 §7.7 attachments written by the
GB/T 9704 writer, listed in the GB/T 38540 seal signature's References, read back by
``gongwen.sealing.carried``. Cross-checked by unzipping and reading the XML per the standard
(lxml, not our reader), and by both seal verifiers: ours (``check_ofd``) and the independent
test-only one (``independent.py``); tampering with a carried file is seen by all."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from lxml import etree

from gongwen.documents.gbt9704 import render_ofd
from gongwen.documents.gbt9704.carried import ATTACHMENT, BODY, CarriedFile
from gongwen.sealing.carried import carried_files
from gongwen.sealing.ofd_verify import check_ofd

from . import independent
from .conftest import VERIFY_AT, rezip, seal_as, unzip

N = {"o": "http://www.ofdspec.org/2016"}
ORIGINAL = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"
SECOND = b"PK\x03\x04not-really-an-ofd" * 10


def files() -> tuple[CarriedFile, ...]:
    return (CarriedFile("苏政办发〔2006〕12号.pdf", ORIGINAL, "关于做好防汛工作的通知", BODY,
                        dt.date(2006, 7, 24)),
            CarriedFile("附件.ofd", SECOND, "附件一", ATTACHMENT))


@pytest.fixture(scope="module")
def layout(joint_layout):
    return joint_layout


@pytest.fixture(scope="module")
def carrying(layout) -> bytes:
    return render_ofd(layout, files())


@pytest.fixture(scope="module")
def sealed(pki, carrying, layout) -> bytes:
    return seal_as(pki.a, carrying, min(layout.seals, key=lambda s: s.index))


def test_without_carried_files_the_package_is_unchanged(layout, joint_ofd):
    assert render_ofd(layout, ()) == joint_ofd
    assert carried_files(joint_ofd) == []


def test_attachments_are_written_per_gbt_33190(carrying, layout):
    assert render_ofd(layout, files()) == carrying  # deterministic
    pkg = unzip(carrying)
    doc = etree.fromstring(pkg["Doc_0/Document.xml"])
    # CT_Document: Attachments comes after Pages.
    names = [etree.QName(el).localname for el in doc]
    assert names[:2] == ["CommonData", "Pages"] and names[-1] == "Attachments"
    loc = doc.findtext("o:Attachments", namespaces=N)
    atts = etree.fromstring(pkg[loc.lstrip("/")])
    assert etree.QName(atts).localname == "Attachments"
    rows = atts.findall("o:Attachment", N)
    assert [(a.get("ID"), a.get("Name"), a.get("Format"), a.get("Visible"), a.get("Usage"))
            for a in rows] == [("a001", "苏政办发〔2006〕12号.pdf", "pdf", "false", "body"),
                               ("a002", "附件.ofd", "ofd", "false", "attachment")]
    assert rows[0].get("CreationDate") == "2006-07-24T00:00:00"
    assert abs(float(rows[0].get("Size")) * 1024 - len(ORIGINAL)) < 1  # KB (§7.7)
    got = [pkg[a.findtext("o:FileLoc", namespaces=N).lstrip("/")] for a in rows]
    assert got == [ORIGINAL, SECOND]
    ids = [a.get("ID") for a in rows]
    assert all(not i[0].isdigit() for i in ids)  # xs:ID


def test_the_seal_lists_the_carried_files_and_both_verifiers_accept_it(sealed):
    pkg = unzip(sealed)
    sig = etree.fromstring(pkg["Doc_0/Signs/Sign_0/Signature.xml"])
    refs = {r.get("FileRef"): r.findtext("o:CheckValue", namespaces=N)
            for r in sig.findall("o:SignedInfo/o:References/o:Reference", N)}
    for path in ("/Doc_0/Attachs/Attachments.xml", "/Doc_0/Attachs/a001.pdf",
                 "/Doc_0/Attachs/a002.ofd"):
        assert path in refs
    import base64

    assert base64.b64decode(refs["/Doc_0/Attachs/a001.pdf"]) == hashlib.new(
        "sm3", ORIGINAL).digest()
    (v,) = independent.verify(sealed)
    assert v.ok, v.failures
    report = check_ofd(sealed, at=VERIFY_AT)
    assert not report.errors and [s.ok for s in report.signatures] == [True]
    got = carried_files(sealed)
    assert [(f.name, f.relationship, f.covered, f.data) for f in got] == [
        ("苏政办发〔2006〕12号.pdf", "Source", True, ORIGINAL),
        ("附件.ofd", "Supplement", True, SECOND)]


def test_a_rewritten_carried_file_is_seen(sealed):
    pkg = unzip(sealed)
    forged = ORIGINAL.replace(b"%%EOF", b"%%EOX")
    bad = rezip(dict(pkg, **{"Doc_0/Attachs/a001.pdf": forged}))
    (v,) = independent.verify(bad)
    assert v.failures == ["reference Doc_0/Attachs/a001.pdf"]
    report = check_ofd(bad, at=VERIFY_AT)
    assert not report.signatures[0].ok
    got = carried_files(bad)
    assert got[0].data == forged and got[0].covered is False
    assert "摘要" in got[0].problem_zh
    assert got[1].covered is True


def test_an_attachment_added_after_sealing_is_not_covered(sealed):
    pkg = unzip(sealed)
    atts = pkg["Doc_0/Attachs/Attachments.xml"].replace(
        b"</ofd:Attachments>",
        b'<ofd:Attachment ID="a003" Name="x.pdf" Format="pdf" Visible="false">'
        b"<ofd:FileLoc>/Doc_0/Attachs/a003.pdf</ofd:FileLoc></ofd:Attachment></ofd:Attachments>")
    bad = rezip(dict(pkg, **{"Doc_0/Attachs/Attachments.xml": atts,
                             "Doc_0/Attachs/a003.pdf": b"%PDF-1.4 added"}))
    got = carried_files(bad)
    assert got[2].covered is False and "不在" in got[2].problem_zh
    # Attachments.xml itself changed: the earlier files are no longer vouched for either.
    assert got[0].covered is False
    (v,) = independent.verify(bad)
    assert "reference Doc_0/Attachs/Attachments.xml" in v.failures
