"""The zip writer used for sealed packages: unchanged members copied raw, new ones deflated."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest

from gongwen.sealing.ofd_package import Entry, load_package, read_entries, write_entries
from gongwen.seals.ses.errors import MalformedSES

from .conftest import OFDS, needs_vectors


def _roundtrip(data: bytes) -> bytes:
    entries = read_entries(data)
    out = write_entries(entries)
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        assert z.testzip() is None
        assert [i.filename for i in z.infolist()] == [e.name for e in entries]
    assert load_package(out) == load_package(data)
    return out


@needs_vectors
@pytest.mark.parametrize("name", sorted(p.name for p in OFDS.glob("*.ofd")))
def test_vectors_survive_a_rewrite(name):
    data = (OFDS / name).read_bytes()
    entries = read_entries(data)
    assert all(e.raw is not None for e in entries)  # every member copied as it was
    _roundtrip(data)


def test_our_packages_survive_a_rewrite_with_new_members(sealed, tmp_path):
    entries = read_entries(sealed)
    entries.append(Entry("Doc_0/新文件.xml", "<a>中文</a>".encode()))
    entries[0] = Entry(entries[0].name, entries[0].data + b"\n")  # changed: recompressed
    out = write_entries(entries)
    files = load_package(out)
    assert files["Doc_0/新文件.xml"] == "<a>中文</a>".encode()
    assert files["OFD.xml"].endswith(b"\n")
    if shutil.which("unzip"):
        (tmp_path / "x.ofd").write_bytes(out)
        proc = subprocess.run(["unzip", "-tq", str(tmp_path / "x.ofd")], capture_output=True)
        assert proc.returncode == 0, proc.stdout


def test_incompressible_members_are_stored(sealed):
    with zipfile.ZipFile(io.BytesIO(sealed)) as z:
        kinds = {i.filename: i.compress_type for i in z.infolist()}
    assert kinds["Doc_0/Signs/Sign_0/Seal.esl"] == zipfile.ZIP_STORED  # a PNG inside
    assert kinds["Doc_0/Signs/Sign_0/SignedValue.dat"] == zipfile.ZIP_STORED
    assert kinds["Doc_0/Signs/Sign_0/Signature.xml"] == zipfile.ZIP_DEFLATED


def test_damaged_zips_are_malformed(sealed):
    with pytest.raises(MalformedSES):
        load_package(b"PK\x03\x04 not really")
    i = sealed.find(b"font_2.ttf") + 200  # inside that member's deflate stream
    bad = sealed[:i] + bytes([sealed[i] ^ 0xFF]) + sealed[i + 1 :]
    with pytest.raises(MalformedSES):
        load_package(bad)
